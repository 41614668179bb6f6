// The cost curve of make bench (issue 12): one node on a database holding 10,000, 100,000
// and 1,000,000 tokens, on SQLite and (inside pg_virtualenv) on PostgreSQL. The admin owns
// all but ten of them (the worst case for the admin's and the personal list); bob owns ten
// (a rare owner among a million). Filler rows are written with SQL, as the API would take
// hours; the node is started after seeding, so it loads them the way a restart does. The
// seed is checkpointed (SQLite) and vacuumed (PostgreSQL) first, as a database that grew
// over months would be: otherwise the first write copies the seed's whole WAL mid-measure.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { postgresDatabase } from './postgres.mjs';
import { memory, PASSWORD, setPatEnabled, signIn, startTessera } from './server.mjs';
import { wrk } from './wrk.mjs';

export const SIZES = [10_000, 100_000, 1_000_000];
const label = (n) => (n >= 1_000_000 ? `${n / 1_000_000}m` : `${n / 1000}k`);

// Ids must look like Tessera's (dt0c01. + 24 base32 characters): FILL + 20 hex digits with
// the digits base32 lacks mapped to letters.
function seedSqlite(file, n, now) {
  execFileSync('sqlite3', [file, `
    WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < ${n})
    INSERT INTO tokens (id, owner, name, scopes, personal, enabled, digest, created_at)
    SELECT 'dt0c01.FILL' || replace(replace(replace(replace(upper(hex(randomblob(10))),
             '0', 'Q'), '1', 'R'), '8', 'S'), '9', 'T'),
           'admin', 'filler ' || i, '["metrics.read"]', 1, 1, randomblob(32), ${now} - i * 1000
    FROM c;
    PRAGMA wal_checkpoint(TRUNCATE);`]);
}

function seedPostgres(database, n, now) {
  // Two commands: VACUUM cannot run inside the one transaction a single -c makes.
  execFileSync('psql', ['-q', '-d', database, '-c', `
    INSERT INTO tokens (id, owner, name, scopes, personal, enabled, digest, created_at)
    SELECT 'dt0c01.FILL' || translate(upper(substr(md5(random()::text || i), 1, 20)), '0189', 'QRST'),
           'admin', 'filler ' || i, ARRAY['metrics.read'], true, true,
           decode(md5(i::text) || md5((i + 1)::text), 'hex'), ${now} - i * 1000
    FROM generate_series(1, ${n}) AS i;`, '-c', 'VACUUM ANALYZE tokens']);
}

/** One backend at one size: seed, start, measure, stop. */
async function point({ bin, backend, n, seconds, outDir }) {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-scale-'));
  const name = `scale_${label(n)}_${process.pid}`;
  const databaseUrl = backend === 'sqlite' ? `sqlite://${join(dir, 'scale.db')}` : postgresDatabase(name);
  try {
    // First start: migrations, the admin, bob, the measuring tokens.
    let node = await startTessera({ bin, databaseUrl });
    node.user('add', 'bob', '--password-stdin', '--permissions', 'metrics.read');
    const admin = await signIn(node.base, 'admin', PASSWORD);
    await setPatEnabled(admin, true);
    const { token: pat } = await admin.send('POST', '/api/v2/apiTokens', { name: 'reader', scopes: ['apiTokens.read', 'metrics.read'] });
    const bob = await signIn(node.base, 'bob', PASSWORD);
    for (let i = 0; i < 10; i += 1) await bob.send('POST', '/api/v2/apiTokens', { name: `bob ${i}`, scopes: ['metrics.read'] });
    await node.stop();

    const now = Date.now();
    if (backend === 'sqlite') seedSqlite(join(dir, 'scale.db'), n - 11, now);
    else seedPostgres(name, n - 11, now);

    const started = performance.now();
    node = await startTessera({ bin, databaseUrl });
    const startS = (performance.now() - started) / 1000;
    try {
      const idle = memory(node.pid).rssMiB;
      const headers = { Authorization: `Api-Token ${pat}` };
      const api = (path, extra = {}) => {
        const r = wrk(`${node.base}${path}`, { seconds, connections: 1, threads: 1, headers, scriptDir: outDir, ...extra });
        if (r.non2xx > 0) throw new Error(`${backend} ${n}: ${path}: non-2xx responses`);
        return r;
      };
      // A node just started on a million rows answers its first seconds of lists with a
      // tail up to ~150 ms (a warm-up: gone in the next run; see docs/benchmarks.md).
      // Measured apart, then steady state.
      const firstList = api('/api/v2/apiTokens?pageSize=200', { seconds: 2 });
      const list = api('/api/v2/apiTokens?pageSize=200');
      const total = (await (await fetch(`${node.base}/api/v2/apiTokens?pageSize=1`, { headers })).json()).totalCount;
      if (total !== n) throw new Error(`${backend}: ${total} tokens listed, ${n} seeded`);
      const owner = api(`/api/v2/apiTokens?pageSize=200&apiTokenSelector=${encodeURIComponent('owner("bob")')}`);
      const lookup = api('/api/v2/apiTokens/lookup', { method: 'POST', body: JSON.stringify({ token: pat }) });
      const check = api('/api/v2/auth/check?scope=metrics.read', { connections: 16, threads: 2 });
      return { n, startS, idle, peak: memory(node.pid).peakMiB, firstList, list, owner, lookup, check };
    } finally {
      await node.stop();
    }
  } finally {
    if (backend !== 'sqlite') execFileSync('psql', ['-qc', `DROP DATABASE ${name}`]);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs every size on SQLite, and on PostgreSQL when the PG* variables name a cluster. */
export async function costCurve({ bin, seconds, outDir, put, details, log }) {
  const backends = process.env.PGHOST ? ['sqlite', 'pg'] : ['sqlite'];
  for (const backend of backends) {
    for (const n of SIZES) {
      log(`cost curve: ${backend}, ${n} tokens`);
      const p = await point({ bin, backend: backend === 'pg' ? 'postgres' : 'sqlite', n, seconds, outDir });
      details[`scale_${backend}_${label(n)}`] = p;
      log(`  start ${p.startS.toFixed(1)} s, RSS peak ${p.peak.toFixed(0)} MiB, list p99 ${p.list.p99} ms, `
        + `owner p99 ${p.owner.p99} ms, lookup p99 ${p.lookup.p99} ms, check p99 ${p.check.p99} ms`);
      const row = (what, value, unit) => put(`scale_${backend}_${label(n)}_${what}`, value, unit);
      row('start_s', p.startS, 's');
      row('rss_mib', p.peak, 'MiB');
      row('check_p99_ms', p.check.p99, 'ms');
      row('list_p99_ms', p.list.p99, 'ms');
      row('list_first_p99_ms', p.firstList.p99, 'ms');
      row('list_owner_p99_ms', p.owner.p99, 'ms');
      row('lookup_p99_ms', p.lookup.p99, 'ms');
    }
  }
}
