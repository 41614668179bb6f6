#!/usr/bin/env node
// Only the cost curve and the three-node rows of make bench, on an existing release build:
//   pg_virtualenv -o max_connections=200 node bench/scale.mjs   (SQLite only without it)
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { costCurve } from './lib/scale.mjs';
import { clusterRows } from './lib/cluster.mjs';
import { writeReport } from './lib/report.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const BIN = process.env.BENCH_BIN ?? join(root, 'target/release/tessera-server');
const OUT = join(root, 'target/bench/scale');
mkdirSync(OUT, { recursive: true });
const measured = {};
const details = {};
const put = (id, value, unit) => { measured[id] = { value, unit }; };
const log = (...a) => console.error('==>', ...a);
const seconds = Number(process.env.BENCH_SECONDS ?? 5);
if (process.env.PGHOST && !process.env.BENCH_SKIP_CLUSTER) {
  await clusterRows({ root, bin: BIN, seconds, pairs: Number(process.env.BENCH_PAIRS ?? 3), put, details, log });
}
if (!process.env.BENCH_SKIP_SCALE) await costCurve({ bin: BIN, seconds, outDir: OUT, put, details, log });
writeReport({ root, outDir: OUT, measured, details });
