#!/usr/bin/env node
// Only the PostgreSQL rows of make bench, beside one SQLite node, on existing builds:
//   pg_virtualenv node bench/postgres.mjs
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { postgresRows } from './lib/postgres.mjs';
import { PASSWORD, setPatEnabled, signIn, startTessera } from './lib/server.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const BIN = process.env.BENCH_BIN ?? join(root, 'target/release/tessera-server');
mkdirSync(join(root, 'target/bench'), { recursive: true });
const measured = {};
const details = {};
const sqlite = await startTessera({ bin: BIN });
try {
  const admin = await signIn(sqlite.base, 'admin', PASSWORD);
  await setPatEnabled(admin, true);
  const { token } = await admin.send('POST', '/api/v2/apiTokens', { name: 'check', scopes: ['metrics.read'] });
  await postgresRows({
    bin: BIN, sqlite: sqlite.base, sqliteToken: token, changes: Number(process.env.BENCH_CHANGES ?? 200),
    pairs: Number(process.env.BENCH_PAIRS ?? 10), seconds: Number(process.env.BENCH_SECONDS ?? 10),
    outDir: join(root, 'target/bench'),
    put: (id, value, unit) => { measured[id] = { value, unit }; }, details,
  });
} finally {
  await sqlite.stop();
}
for (const [id, { value, unit }] of Object.entries(measured)) console.log(`${id}\t${value.toFixed(2)} ${unit}`);
