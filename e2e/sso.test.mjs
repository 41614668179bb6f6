// Single sign-on in the console (issue 16) against a real OpenID provider (npm's
// oidc-provider, tests/oidc/provider.mjs): "Sign in with …", the provider's own pages,
// back on the page asked for, a token generated; password sign-in turned off; sign-out
// through the provider's end-session page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer, launchBrowser, withPage, noSeriousA11yViolations, checkAt } from './harness.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
// Demo mode has local users alice and bob, whom SSO must not take over: root signs in.
const MAPPING = `[[group]]
name = "tessera-admins"
admin = true
[[group]]
name = "observability"
permissions = ["metrics.read", "metrics.write"]
zones = ["Production"]
`;

const freePort = () => new Promise((done) => {
  const s = createServer().listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => done(port)); });
});

async function startProvider(tesseraPort) {
  const port = await freePort();
  const child = spawn('node', [join(root, 'tests/oidc/provider.mjs')], {
    cwd: root,
    env: {
      ...process.env, PORT: String(port),
      REDIRECT_URI: `http://127.0.0.1:${tesseraPort}/api/session/oidc/callback`,
      POST_LOGOUT_URI: `http://127.0.0.1:${tesseraPort}/login`,
    },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  await new Promise((done, fail) => {
    child.stdout.on('data', (chunk) => { if (String(chunk).includes('OP listening')) done(); });
    child.on('exit', (code) => fail(new Error(`provider exited (${code})`)));
  });
  return { issuer: `http://127.0.0.1:${port}`, stop: () => child.kill() };
}

async function startWithSso(extra = []) {
  const port = await freePort();
  const provider = await startProvider(port);
  const dir = mkdtempSync(join(tmpdir(), 'tessera-e2e-sso-'));
  writeFileSync(join(dir, 'oidc.key'), 'MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=\n');
  writeFileSync(join(dir, 'mapping.toml'), MAPPING);
  const server = await startServer({
    extraArgs: ['--listen', `127.0.0.1:${port}`, '--public-url', `http://127.0.0.1:${port}`,
      '--oidc-issuer', provider.issuer, '--oidc-client-id', 'app', '--oidc-client-secret', 'app-secret',
      '--oidc-key-file', join(dir, 'oidc.key'), '--oidc-claims-mapping', join(dir, 'mapping.toml'),
      '--oidc-name', 'Test IdP', ...extra],
  });
  return { server, provider, async stop() { await server.stop(); provider.stop(); } };
}

let browser;
let sso;
before(async () => { browser = await launchBrowser(); sso = await startWithSso(); });
after(async () => { await sso?.stop(); await browser?.close(); });

/** The provider's own sign-in and consent pages, as a person goes through them. */
async function atTheProvider(page, login) {
  await page.locator('input[name=login]').fill(login);
  await page.locator('input[name=password]').fill('any password');
  await page.locator('button[type=submit]').click();
  await page.locator('input[name=prompt][value=consent]').waitFor({ state: 'attached' });
  await page.locator('button[type=submit]').click();
}

test('sign in with the provider, land on the page asked for, and generate a token', () => withPage(browser, sso.server, 'sso sign-in', async (page) => {
  await page.goto('/personal-access-tokens/new');
  await page.waitForURL(/\/login\?next=/);
  await noSeriousA11yViolations(page, 'the sign-in page with SSO');
  await page.getByRole('link', { name: 'Sign in with Test IdP' }).click();
  await page.waitForURL((url) => url.href.startsWith(sso.provider.issuer));
  await atTheProvider(page, 'root');
  await page.waitForURL(/\/personal-access-tokens\/new$/);
  await page.getByLabel('Token name').fill('from single sign-on');
  await page.getByRole('checkbox', { name: /^Read metrics / }).check();
  await page.getByRole('button', { name: 'Generate token' }).click();
  const token = await page.getByLabel('Token', { exact: true }).inputValue();
  const r = await checkAt(sso.server.base, token);
  assert.equal(r.status, 204);
  assert.equal(r.headers.get('x-tessera-owner'), 'root');
  // Signing out goes through the provider's end-session page.
  await page.getByRole('button', { name: 'Done' }).click();
  await page.getByRole('button', { name: /^User menu for/ }).click();
  await page.getByRole('menuitem', { name: 'Sign out' }).click();
  await page.waitForURL((url) => url.href.startsWith(`${sso.provider.issuer}/session/end`));
  const me = await page.request.get(`${sso.server.base}/api/session`);
  assert.equal(me.status(), 401);
}));

test('with password sign-in turned off the page offers only the provider', async () => {
  const only = await startWithSso(['--password-login', 'false']);
  try {
    await withPage(browser, only.server, 'sso only', async (page) => {
      await page.goto('/login');
      await page.getByRole('link', { name: 'Sign in with Test IdP' }).waitFor();
      assert.equal(await page.getByLabel('Username').count(), 0);
      assert.equal(await page.getByLabel('Password').count(), 0);
    });
  } finally {
    await only.stop();
  }
});
