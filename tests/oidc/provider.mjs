// The OpenID provider of Tessera's single sign-on tests: npm's oidc-provider (v9) with one
// confidential client, users with group claims, and routes a test uses to change users and
// to tamper with the next ID token. Started by crates/tessera-server/tests/api/sso.rs:
//   PORT=… REDIRECT_URI=… node tests/oidc/provider.mjs
// Each start signs with a new key (a new `kid`): restarting it is a key rotation.
import Provider from 'oidc-provider';
import { generateKeyPair, exportJWK, SignJWT } from 'jose';

const PORT = Number(process.env.PORT ?? 4444);
const ISSUER = process.env.ISSUER ?? `http://127.0.0.1:${PORT}`;
const CLIENT_ID = process.env.CLIENT_ID ?? 'app';
const CLIENT_SECRET = process.env.CLIENT_SECRET ?? 'app-secret';
const REDIRECT_URI = process.env.REDIRECT_URI ?? 'http://127.0.0.1:3000/auth/callback';

// Signing key (kid is published in /jwks)
const { privateKey } = await generateKeyPair('RS256', { extractable: true }); // jose v6: extractable needed for exportJWK
const signingJwk = { ...(await exportJWK(privateKey)), kid: `key-${process.pid}-${Date.now()}`, alg: 'RS256', use: 'sig' };
// A second key that is NOT published (for "unknown kid" negative tests)
const { privateKey: rogueKey } = await generateKeyPair('RS256');

// Mutable user store, changed at runtime through /__test routes
const users = new Map([
  ['alice', { preferred_username: 'alice', name: 'Alice Liddell', groups: ['observability'] }],
  ['root', { preferred_username: 'root', name: 'Root', groups: ['tessera-admins'] }],
  ['bob', { preferred_username: 'bob', name: 'Bob', groups: [] }],
]);

// id_token replacement mode for the next /token response (null = untouched)
let tamper = null; // 'none' | 'unknown-kid' | 'wrong-aud' | 'expired'

const provider = new Provider(ISSUER, {
  clients: [{
    client_id: CLIENT_ID,
    client_secret: CLIENT_SECRET,
    redirect_uris: [REDIRECT_URI],
    post_logout_redirect_uris: [process.env.POST_LOGOUT_URI ?? 'http://127.0.0.1:3000/'],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  pkce: { required: () => true },            // only S256 is supported in v9
  scopes: ['openid', 'offline_access', 'profile'],
  claims: { openid: ['sub'], profile: ['preferred_username', 'name', 'groups'] },
  conformIdTokenClaims: false,                // else code-flow id_tokens carry only sub (claims go to userinfo)
  async findAccount(ctx, sub /* , token */) {
    if (!users.has(sub)) return undefined;   // undefined => refresh_token grant fails with invalid_grant
    return {
      accountId: sub,
      async claims(use, scope /* , claims, rejected */) {
        const u = users.get(sub) ?? {};
        return { sub, ...u };                  // filtered by granted scopes/claims config
      },
    };
  },
  // issue refresh tokens without requiring offline_access + prompt=consent
  issueRefreshToken: async (ctx, client /* , code */) => client.grantTypeAllowed('refresh_token'),
  expiresWithSession: async () => false,
  jwks: { keys: [signingJwk] },
  cookies: { keys: ['test-cookie-key-1'] },
  // The tests exercise Tessera, not the provider's warnings.
  enabledJWA: { idTokenSigningAlgValues: ['RS256'] },
  ttl: { IdToken: 120, AccessToken: 300, AuthorizationCode: 60, RefreshToken: 3600,
         Session: 3600, Interaction: 600, Grant: 3600 },
  features: {
    devInteractions: { enabled: true },      // default true; any login/password accepted
    rpInitiatedLogout: { enabled: true },     // default true -> end_session_endpoint (/session/end)
  },
});

provider.use(async (ctx, next) => {
  // --- test-control routes -------------------------------------------------
  if (ctx.path.startsWith('/__test/')) {
    const [, , action, id] = ctx.path.split('/');
    const body = await readJson(ctx.req);
    if (action === 'users' && ctx.method === 'PUT') users.set(id, body);
    else if (action === 'users' && ctx.method === 'DELETE') users.delete(id);
    else if (action === 'tamper' && ctx.method === 'POST') tamper = body.mode ?? null;
    else { ctx.status = 404; return; }
    ctx.status = 204; return;
  }
  // The token endpoint's next answer is a server error (the provider's trouble, not a
  // refusal of the grant).
  if (ctx.path === '/token' && tamper === 'server-error') {
    tamper = null;
    ctx.status = 500;
    ctx.body = { error: 'server_error', error_description: 'the test said so' };
    return;
  }
  await next();
  // --- token response interception -----------------------------------------
  if (ctx.path === '/token' && ctx.status === 200 && ctx.body?.id_token && tamper) {
    const orig = JSON.parse(Buffer.from(ctx.body.id_token.split('.')[1], 'base64url'));
    const now = Math.floor(Date.now() / 1000);
    let claims = { ...orig };
    if (tamper === 'wrong-aud') claims.aud = 'someone-else';
    if (tamper === 'expired') { claims.iat = now - 3600; claims.exp = now - 1800; }
    if (tamper === 'none') {
      const enc = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
      ctx.body = { ...ctx.body, id_token: `${enc({ alg: 'none', typ: 'JWT' })}.${enc(claims)}.` };
    } else {
      const [key, kid] = tamper === 'unknown-kid' ? [rogueKey, 'rogue'] : [privateKey, signingJwk.kid];
      const jwt = await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' }).sign(key);
      ctx.body = { ...ctx.body, id_token: jwt };
    }
    tamper = null; // one-shot
  }
});

async function readJson(req) {
  let s = ''; for await (const c of req) s += c;
  return s ? JSON.parse(s) : {};
}

provider.listen(PORT, '127.0.0.1', () => console.log(`OP listening on ${ISSUER}`));
