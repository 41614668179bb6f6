// Issue 17's rows: the check with the route map and forwarded headers beside `?scope=`,
// with a rate-limited token beside an unlimited one, and the latency Caddy's forward_auth
// adds (beside the nginx rows of run.mjs).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { alternate, wrk } from './wrk.mjs';

async function freePort() {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Caddy with the shipped Caddyfile in front of `upstream`, and a plain proxy beside it. */
async function startCaddy({ root, tessera, upstream }) {
  const [gated, plain] = [await freePort(), await freePort()];
  const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-caddy-'));
  const shipped = readFileSync(join(root, 'deploy/caddy/Caddyfile'), 'utf8')
    .replace(':8000 {', `http://127.0.0.1:${gated} {`)
    .replace('forward_auth 127.0.0.1:8080', `forward_auth ${tessera}`)
    .replace('reverse_proxy 127.0.0.1:9000', `reverse_proxy ${upstream}`);
  writeFileSync(join(dir, 'Caddyfile'), `${shipped}\nhttp://127.0.0.1:${plain} {\n\treverse_proxy ${upstream}\n}\n`);
  const env = { ...process.env, HOME: dir, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir };
  const child = spawn('caddy', ['run', '--adapter', 'caddyfile', '--config', join(dir, 'Caddyfile')], { env, stdio: 'ignore' });
  for (let i = 0; i < 200; i += 1) {
    const ok = await fetch(`http://127.0.0.1:${plain}/`).then(() => true, () => false);
    if (ok) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    gatedUrl: `http://127.0.0.1:${gated}`,
    plainUrl: `http://127.0.0.1:${plain}`,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r() : child.on('exit', r)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const auth = (token) => ({ Authorization: `Api-Token ${token}` });

function noRefusals(runs, what) {
  if (runs.runs.some((r) => r.non2xx > 0)) throw new Error(`${what}: refused under load`);
}

/**
 * `tessera` runs with --gateway-routes deploy/gateway-routes.toml and --trusted-proxy
 * 127.0.0.1; `session` may generate tokens; `upstream` is the bench's stand-in service.
 */
export async function gatewayRows({ root, tessera, session, checkToken, upstream, half, pairs, put, details, log }) {
  log(`check with the route map and forwarded headers ÷ with ?scope= (${pairs} × A/B of ${half} s)`);
  const routed = alternate(
    () => wrk(`${tessera.base}/api/v2/auth/check`, {
      seconds: half,
      headers: { ...auth(checkToken), 'X-Forwarded-Method': 'GET', 'X-Forwarded-Uri': '/metrics/cpu?from=now-1h' },
    }),
    () => wrk(`${tessera.base}/api/v2/auth/check?scope=metrics.read`, { seconds: half, headers: auth(checkToken) }),
    pairs,
  );
  noRefusals(routed.a, 'routed check');
  details.routedCheck = routed;
  put('check_routes_ratio', routed.ratio, '×');
  put('check_routes_rps', routed.a.rps, 'req/s');

  // One limited token per run: at the largest limit (1,000,000 a minute) one run of a few
  // seconds stays under it, so every answer is a 204 and only the limiter's cost is seen.
  log(`check with a rate-limited token ÷ an unlimited one (${pairs} × A/B of ${half} s)`);
  const limited = [];
  for (let i = 0; i < pairs; i += 1) {
    limited.push((await session.send('POST', '/api/v2/apiTokens', {
      name: `bench limited ${i}`, scopes: ['metrics.read'], rateLimitPerMinute: 1000000,
    })).token);
  }
  let next = 0;
  const rated = alternate(
    () => wrk(`${tessera.base}/api/v2/auth/check?scope=metrics.read`, { seconds: half, headers: auth(limited[next++ % pairs]) }),
    () => wrk(`${tessera.base}/api/v2/auth/check?scope=metrics.read`, { seconds: half, headers: auth(checkToken) }),
    pairs,
  );
  noRefusals(rated.a, 'rate-limited check');
  details.rateLimitedCheck = rated;
  put('check_rate_limited_ratio', rated.ratio, '×');

  log('latency the check adds through Caddy forward_auth (16 connections)');
  const caddy = await startCaddy({ root, tessera: new URL(tessera.base).host, upstream });
  try {
    const { a: gated, b: plain, ratio } = alternate(
      () => wrk(`${caddy.gatedUrl}/metrics/cpu`, { seconds: half, connections: 16, headers: auth(checkToken) }),
      () => wrk(`${caddy.plainUrl}/metrics/cpu`, { seconds: half, connections: 16 }),
      pairs,
    );
    noRefusals(gated, 'Caddy with the check');
    details.caddy = { gated, plain };
    put('caddy_added_p50_ms', gated.p50 - plain.p50, 'ms');
    put('caddy_added_p99_ms', gated.p99 - plain.p99, 'ms');
    put('caddy_rps_ratio', ratio, '×');
  } finally {
    await caddy.stop();
  }
}
