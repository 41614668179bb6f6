#!/usr/bin/env node
// `make bench` (issue 5): measures Tessera on this machine, side by side with references
// measured in the same run, and marks each figure against bench/budgets.toml. The Makefile
// builds everything first (release server, console, framework floor).
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

import { alternate, wrk } from './lib/wrk.mjs';
import { memory, PASSWORD, resetPeak, setPatEnabled, signIn, startTessera } from './lib/server.mjs';
import { startNginx } from './lib/nginx.mjs';
import {
  assetsOf, signInContext, SIGN_IN_READY, TABLE_READY, timeToReady, wireBytes, withBrowser,
} from './lib/browser.mjs';
import { writeReport } from './lib/report.mjs';
import { median } from './lib/stats.mjs';
import { cliPropagation } from './lib/propagation.mjs';
import { postgresRows } from './lib/postgres.mjs';
import { costCurve } from './lib/scale.mjs';
import { clusterRows } from './lib/cluster.mjs';
import { gatewayRows } from './lib/gateways.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const BIN = join(root, 'target/release/tessera-server');
const DIST = join(root, 'dist');
const FLOOR = join(root, 'target/bench/floor-dist');
const OUT = join(root, 'target/bench');
const RUNS = Number(process.env.BENCH_RUNS ?? 10);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
// A/B comparisons: this many pairs of runs of half the length each.
const PAIRS = Number(process.env.BENCH_PAIRS ?? 10);
// CLI changes timed until a running server refuses them.
const CHANGES = Number(process.env.BENCH_CHANGES ?? 100);
const THROTTLE = { rttMs: 150, kbitPerS: 1600, cpuSlowdown: 4 };
const SCOPES = ['apiTokens.read', 'apiTokens.write', 'entities.read', 'entities.write', 'metrics.read',
  'metrics.write', 'networkZones.read', 'networkZones.write', 'problems.read', 'problems.write', 'releases.read',
  'securityProblems.read', 'securityProblems.write', 'settings.read', 'settings.write', 'slo.read', 'slo.write'];

const log = (...a) => console.error('==>', ...a);
const measured = {};
const details = {};
const put = (id, value, unit) => { measured[id] = { value, unit }; };
for (const path of [BIN, join(DIST, 'index.html'), join(FLOOR, 'index.html')]) {
  if (!existsSync(path)) throw new Error(`${path} is missing: run make bench, which builds it`);
}

// The route map and a trusted loopback proxy serve the gateway rows (issue 17); neither
// costs the other rows anything (`?scope=` checks carry no forwarded headers).
const tessera = await startTessera({
  bin: BIN, assets: DIST,
  extraArgs: ['--gateway-routes', join(root, 'deploy/gateway-routes.toml'), '--trusted-proxy', '127.0.0.1'],
});
const floor = await startTessera({ bin: BIN, assets: FLOOR });
let nginx;
try {
  await sleep(1000);
  put('memory_idle_mib', memory(tessera.pid).rssMiB, 'MiB');

  // 10,000 tokens across 50 users: user00 has 100 (the PAT page), 49 others 202 each,
  // and the admin 2 (the benchmark's own PATs).
  log('seeding 50 users and 10,000 tokens');
  const admin = await signIn(tessera.base, 'admin');
  await setPatEnabled(admin, true);
  const users = Array.from({ length: 50 }, (_, i) => `user${String(i).padStart(2, '0')}`);
  for (const u of users) tessera.user('add', u, '--password-stdin', '--permissions', SCOPES.join(','), '--zones', 'Production');
  const sessions = [];
  for (const u of users) sessions.push(await signIn(tessera.base, u));
  const seedStarted = performance.now();
  const seeded = {};
  for (let i = 0; i < users.length; i += 10) {
    await Promise.all(users.slice(i, i + 10).map(async (u, j) => {
      const s = sessions[i + j];
      const count = u === 'user00' ? 100 : 202;
      for (let n = 0; n < count; n += 1) {
        const created = await s.send('POST', '/api/v2/apiTokens', { name: `${u} token ${n}`, scopes: ['metrics.read', 'slo.read'] });
        if (n === 0) seeded[u] = created;
      }
    }));
  }
  details.seedSeconds = (performance.now() - seedStarted) / 1000;
  const adminPat = (await admin.send('POST', '/api/v2/apiTokens', { name: 'bench reader', scopes: ['apiTokens.read', 'metrics.read'] })).token;
  await admin.send('POST', '/api/v2/apiTokens', { name: 'bench spare', scopes: ['metrics.read'] });
  const checkToken = seeded.user01.token;
  const auth = (token) => ({ Authorization: `Api-Token ${token}` });

  log('console weight');
  const signInUrls = await withBrowser((c, p) => assetsOf(c, p, `${tessera.base}/login`, SIGN_IN_READY));
  const patUrls = await withBrowser(async (c, p) => {
    await signInContext(c, tessera.base, 'user00', PASSWORD);
    return assetsOf(c, p, `${tessera.base}/personal-access-tokens`, TABLE_READY(100));
  });
  const floorUrls = await withBrowser((c, p) => assetsOf(c, p, `${floor.base}/`, "document.body.textContent.includes('Session: 401')"));
  const weigh = async (urls) => {
    const sum = { br: 0, gzip: 0, identity: 0, files: [] };
    for (const url of urls) {
      const [br, gzip, identity] = [await wireBytes(url, 'br'), await wireBytes(url, 'gzip'), await wireBytes(url, 'identity')];
      sum.br += br.bytes; sum.gzip += gzip.bytes; sum.identity += identity.bytes;
      sum.files.push({ path: new URL(url).pathname, br: br.bytes, brEncoding: br.encoding, gzip: gzip.bytes, identity: identity.bytes });
    }
    return sum;
  };
  const console_ = await weigh([...new Set([...signInUrls, ...patUrls])]);
  const floorWeight = await weigh(floorUrls);
  details.weight = { console: console_, floor: floorWeight };
  put('console_weight_ratio_br', console_.br / floorWeight.br, '×');
  put('console_weight_br_kb', console_.br / 1000, 'KB');
  put('console_weight_gzip_kb', console_.gzip / 1000, 'KB');
  put('floor_weight_br_kb', floorWeight.br / 1000, 'KB');
  put('console_weight_ratio_gzip', console_.gzip / floorWeight.gzip, '×');

  log(`load times (${RUNS} fresh browsers each)`);
  const scenarios = {
    signin_interactive_loopback_ms: { path: '/login', ready: SIGN_IN_READY },
    pat_page_100_loopback_ms: { path: '/personal-access-tokens', ready: TABLE_READY(100), signedIn: true },
    signin_interactive_throttled_ms: { path: '/login', ready: SIGN_IN_READY, throttle: THROTTLE },
    pat_page_100_throttled_ms: { path: '/personal-access-tokens', ready: TABLE_READY(100), signedIn: true, throttle: THROTTLE },
  };
  // The floor app, timed the same way (until its one request's answer shows), is the
  // reference: what a Leptos CSR page costs on this machine before any Tessera code.
  scenarios.floor_ready_loopback_ms = { base: floor.base, path: '/', ready: "document.body.textContent.includes('Session: 401')" };
  details.loadRuns = {};
  for (const [id, s] of Object.entries(scenarios)) {
    const times = [];
    for (let i = 0; i < RUNS; i += 1) {
      times.push(await withBrowser(async (c, p) => {
        if (s.signedIn) await signInContext(c, tessera.base, 'user00', PASSWORD);
        return timeToReady(c, p, `${s.base ?? tessera.base}${s.path}`, s.ready, s.throttle);
      }));
    }
    details.loadRuns[id] = times;
    put(id, median(times), 'ms');
  }
  put('signin_vs_floor_ratio', measured.signin_interactive_loopback_ms.value / measured.floor_ready_loopback_ms.value, '×');

  // The peak the budget speaks of is during the load below; the whole run's is kept too.
  put('memory_peak_whole_run_mib', memory(tessera.pid).peakMiB, 'MiB');
  resetPeak(tessera.pid);
  const half = Math.max(1, Math.round(SECONDS / 2));
  log(`token check throughput (wrk, 64 connections, ${PAIRS} × A/B of ${half} s)`);
  const checkUrl = `${tessera.base}/api/v2/auth/check?scope=metrics.read`;
  const { a: check, b: health, ratio: checkRatio } = alternate(
    () => wrk(checkUrl, { seconds: half, headers: auth(checkToken) }),
    () => wrk(`${tessera.base}/healthz`, { seconds: half }),
    PAIRS,
  );
  if (check.runs.some((r) => r.non2xx > 0)) throw new Error('auth/check answered non-2xx under load');
  details.check = { check, health };
  put('check_throughput_ratio', checkRatio, '×');
  put('check_rps', check.rps, 'req/s');
  put('healthz_rps', health.rps, 'req/s');
  put('check_p50_ms', check.p50, 'ms');
  put('check_p99_ms', check.p99, 'ms');

  nginx = await startNginx({ root, tessera: new URL(tessera.base).host });
  const ceiling = wrk(nginx.ceiling, { seconds: SECONDS });
  details.nginxCeiling = ceiling;
  put('nginx_204_rps', ceiling.rps, 'req/s');
  log('latency the check adds through nginx (16 connections)');
  const { a: gated, b: plain, ratio: gatewayRatio } = alternate(
    () => wrk(`${nginx.protectedUrl}/metrics/cpu`, { seconds: half, connections: 16, headers: auth(checkToken) }),
    () => wrk(`${nginx.plainUrl}/metrics/cpu`, { seconds: half, connections: 16 }),
    PAIRS,
  );
  if (gated.runs.some((r) => r.non2xx > 0)) throw new Error('nginx refused the token under load');
  details.gateway = { gated, plain };
  put('gateway_added_p50_ms', gated.p50 - plain.p50, 'ms');
  put('gateway_added_p99_ms', gated.p99 - plain.p99, 'ms');
  put('gateway_rps_ratio', gatewayRatio, '×');
  await gatewayRows({
    root, tessera, session: admin, checkToken, upstream: nginx.upstream, half, pairs: PAIRS, put, details, log,
  });

  // Latency is one request at a time (wrk, 1 connection): the time a request takes with
  // 10,000 tokens stored, not queueing behind others; throughput rows use more connections.
  log('API latency with 10,000 tokens (1 connection; throughput with 8 and 16)');
  const api = (path, extra = {}) => {
    const r = wrk(`${tessera.base}${path}`, { seconds: SECONDS, connections: 1, threads: 1, scriptDir: OUT, ...extra });
    if (r.non2xx > 0) throw new Error(`${path}: non-2xx responses under load`);
    return r;
  };
  const list = api('/api/v2/apiTokens?pageSize=200', { headers: auth(adminPat) });
  const selector = encodeURIComponent('owner("user07")');
  const listSelector = api(`/api/v2/apiTokens?pageSize=200&apiTokenSelector=${selector}`, { headers: auth(adminPat) });
  const lookup = api('/api/v2/apiTokens/lookup', {
    headers: auth(adminPat), method: 'POST', body: JSON.stringify({ token: seeded.user07.token }),
  });
  const listLoaded = api('/api/v2/apiTokens?pageSize=200', { headers: auth(adminPat), connections: 8, threads: 2 });
  const generator = sessions[49];
  const generate = api('/api/v2/apiTokens', {
    connections: 16, threads: 2, method: 'POST', body: JSON.stringify({ name: 'bench generate', scopes: ['metrics.read'] }),
    headers: { Cookie: generator.cookie, 'X-CSRF-Token': generator.csrf },
  });
  details.api = { list, listSelector, lookup, listLoaded, generate };
  put('list_rps_8_connections', listLoaded.rps, 'req/s');
  put('list_p99_8_connections_ms', listLoaded.p99, 'ms');
  put('list_p50_ms', list.p50, 'ms');
  put('list_p99_ms', list.p99, 'ms');
  put('list_selector_p50_ms', listSelector.p50, 'ms');
  put('list_selector_p99_ms', listSelector.p99, 'ms');
  put('lookup_p50_ms', lookup.p50, 'ms');
  put('lookup_p99_ms', lookup.p99, 'ms');
  put('generate_per_s', generate.rps, 'req/s');
  put('memory_peak_mib', memory(tessera.pid).peakMiB, 'MiB');
  put('memory_after_mib', memory(tessera.pid).rssMiB, 'MiB');

  log(`CLI change → refused by the running server (${CHANGES} user disables)`);
  const propagation = await cliPropagation({ tessera, token: seeded.user48.token, username: 'user48', changes: CHANGES });
  details.cliPropagation = propagation.latencies;
  put('cli_refused_p50_ms', propagation.p50, 'ms');
  put('cli_refused_p99_ms', propagation.p99, 'ms');

  // Inside pg_virtualenv (make bench): the several-nodes rows.
  if (process.env.PGHOST) {
    log(`PostgreSQL: disable on node A → refused on node B (${2 * CHANGES} changes), check and generate`);
    await postgresRows({
      bin: BIN, sqlite: tessera.base, sqliteToken: checkToken, changes: 2 * CHANGES, pairs: PAIRS,
      seconds: SECONDS, outDir: OUT, put, details,
    });
    log('PostgreSQL: three nodes behind nginx beside one');
    await clusterRows({ root, bin: BIN, seconds: SECONDS, pairs: Math.min(PAIRS, 3), put, details, log });
  }
} finally {
  await nginx?.stop();
  await tessera.stop();
  await floor.stop();
}

// Last, on its own databases (SQLite, and PostgreSQL inside pg_virtualenv): the cost curve.
await costCurve({ bin: BIN, seconds: Math.min(SECONDS, 5), outDir: OUT, put, details, log });

if (!process.env.BENCH_SKIP_CRITERION) {
  log('criterion micro-benchmarks (cargo bench)');
  execFileSync('cargo', ['bench', '-p', 'tessera-server', '--bench', 'tokens'], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  // Every `<bench>/new/` directory criterion wrote, wherever it nests them.
  const walk = (dir) => readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    if (!e.isDirectory()) return [];
    const path = join(dir, e.name);
    return e.name === 'new' ? [path] : walk(path);
  });
  for (const dir of walk(join(root, 'target/criterion'))) {
    const id = JSON.parse(readFileSync(join(dir, 'benchmark.json'), 'utf8')).full_id;
    const ns = JSON.parse(readFileSync(join(dir, 'estimates.json'), 'utf8')).mean.point_estimate;
    put(`criterion ${id}`, ns, 'ns');
  }
}

const report = writeReport({ root, outDir: OUT, measured, details });
const over = report.rows.filter((r) => r.ok === false);
console.log(over.length ? `\n${over.length} over budget (see docs/benchmarks.md)` : '\nevery budget met');
