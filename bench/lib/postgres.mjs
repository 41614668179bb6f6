// PostgreSQL rows of `make bench` (issue 12), run when the bench is inside pg_virtualenv:
// propagation between two nodes, a check on a PostgreSQL node beside one on SQLite, and
// generation on PostgreSQL.
import { execFileSync } from 'node:child_process';

import { percentile } from './stats.mjs';
import { PASSWORD, setPatEnabled, signIn, startTessera } from './server.mjs';
import { alternate, wrk } from './wrk.mjs';

/** A fresh database on the pg_virtualenv cluster (PG* variables). */
export function postgresDatabase(name) {
  execFileSync('psql', ['-qc', `CREATE DATABASE ${name}`]);
  const { PGUSER, PGPASSWORD, PGHOST, PGPORT } = process.env;
  return `postgres://${PGUSER}:${encodeURIComponent(PGPASSWORD)}@${PGHOST}:${PGPORT}/${name}`;
}

async function untilStatus(url, headers, status) {
  for (;;) {
    const r = await fetch(url, { headers });
    if (r.status === status) return;
  }
}

export async function postgresRows({ bin, sqlite, sqliteToken, changes, pairs, seconds, outDir, put, details }) {
  const databaseUrl = postgresDatabase(`bench_${process.pid}`);
  const a = await startTessera({ bin, databaseUrl });
  const b = await startTessera({ bin, databaseUrl });
  try {
    const admin = await signIn(a.base, 'admin', PASSWORD);
    await setPatEnabled(admin, true);
    const { id, token } = await admin.send('POST', '/api/v2/apiTokens', { name: 'propagation', scopes: ['metrics.read'] });
    const url = `${b.base}/api/v2/auth/check?scope=metrics.read`;
    const headers = { Authorization: `Api-Token ${token}` };
    const latencies = [];
    for (let i = 0; i < changes; i += 1) {
      await untilStatus(url, headers, 204);
      const started = performance.now();
      await admin.send('PUT', `/api/v2/apiTokens/${id}`, { enabled: false });
      await untilStatus(url, headers, 401);
      latencies.push(performance.now() - started);
      await admin.send('PUT', `/api/v2/apiTokens/${id}`, { enabled: true });
    }
    details.pgPropagation = latencies;
    put('pg_propagation_p50_ms', percentile(latencies, 50), 'ms');
    put('pg_propagation_p99_ms', percentile(latencies, 99), 'ms');

    await untilStatus(url, headers, 204);
    const half = Math.max(1, Math.round(seconds / 2));
    const { ratio } = alternate(
      () => wrk(url, { seconds: half, headers }),
      () => wrk(`${sqlite}/api/v2/auth/check?scope=metrics.read`, { seconds: half, headers: { Authorization: `Api-Token ${sqliteToken}` } }),
      pairs,
    );
    put('pg_check_ratio', ratio, '×');
    const generate = wrk(`${a.base}/api/v2/apiTokens`, {
      connections: 16, seconds, scriptDir: outDir, method: 'POST',
      body: JSON.stringify({ name: 'bench generate', scopes: ['metrics.read'] }),
      headers: { Cookie: admin.cookie, 'X-CSRF-Token': admin.csrf },
    });
    if (generate.non2xx > 0) throw new Error('generate on PostgreSQL: non-2xx responses');
    put('pg_generate_per_s', generate.rps, 'req/s');
  } finally {
    await a.stop();
    await b.stop();
  }
}
