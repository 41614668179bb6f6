#!/usr/bin/env node
// Only issue 17's rows of make bench (route map, rate limits, Caddy beside nginx), on an
// existing release build:   node bench/gateways.mjs
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { alternate, wrk } from './lib/wrk.mjs';
import { setPatEnabled, signIn, startTessera } from './lib/server.mjs';
import { startNginx } from './lib/nginx.mjs';
import { gatewayRows } from './lib/gateways.mjs';
import { writeReport } from './lib/report.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const BIN = process.env.BENCH_BIN ?? join(root, 'target/release/tessera-server');
const OUT = join(root, 'target/bench/gateways');
mkdirSync(OUT, { recursive: true });
const measured = {};
const details = {};
const put = (id, value, unit) => { measured[id] = { value, unit }; };
const log = (...a) => console.error('==>', ...a);
const half = Number(process.env.BENCH_SECONDS ?? 4);
const pairs = Number(process.env.BENCH_PAIRS ?? 6);

const tessera = await startTessera({
  bin: BIN,
  extraArgs: ['--gateway-routes', join(root, 'deploy/gateway-routes.toml'), '--trusted-proxy', '127.0.0.1'],
});
let nginx;
try {
  const admin = await signIn(tessera.base, 'admin');
  await setPatEnabled(admin, true);
  const checkToken = (await admin.send('POST', '/api/v2/apiTokens', { name: 'bench', scopes: ['metrics.read'] })).token;
  const auth = { Authorization: `Api-Token ${checkToken}` };
  nginx = await startNginx({ root, tessera: new URL(tessera.base).host });
  log('latency the check adds through nginx (16 connections), for comparison');
  const { a: gated, b: plain } = alternate(
    () => wrk(`${nginx.protectedUrl}/metrics/cpu`, { seconds: half, connections: 16, headers: auth }),
    () => wrk(`${nginx.plainUrl}/metrics/cpu`, { seconds: half, connections: 16 }),
    pairs,
  );
  put('gateway_added_p50_ms', gated.p50 - plain.p50, 'ms');
  put('gateway_added_p99_ms', gated.p99 - plain.p99, 'ms');
  await gatewayRows({ root, tessera, session: admin, checkToken, upstream: nginx.upstream, half, pairs, put, details, log });
} finally {
  await nginx?.stop();
  await tessera.stop();
}
writeReport({ root, outDir: OUT, measured, details });
