// The bench report: one table on stdout, target/bench/report.json and report.md.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parse } from 'smol-toml';

export function machine() {
  const cpu = os.cpus();
  let kernel = os.release();
  return {
    cpu: cpu[0]?.model ?? 'unknown', cores: cpu.length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30), kernel, node: process.version,
  };
}

const fmt = (v) => (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2));

/** Marks every measured row against bench/budgets.toml and writes the report. */
export function writeReport({ root, outDir, measured, details }) {
  const budgets = parse(readFileSync(join(root, 'bench/budgets.toml'), 'utf8'));
  const rows = Object.entries(measured).map(([id, m]) => {
    const b = budgets[id] ?? {};
    const ok = b.max !== undefined ? m.value <= b.max : b.min !== undefined ? m.value >= b.min : null;
    const budget = b.max !== undefined ? `≤ ${b.max}` : b.min !== undefined ? `≥ ${b.min}` : '';
    return { id, label: b.label ?? m.label ?? id, value: m.value, unit: m.unit, budget, ok };
  });
  const missing = Object.keys(budgets).filter((id) => !(id in measured));
  const report = { date: new Date().toISOString(), machine: machine(), rows, missing, details };
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);

  const mark = (ok) => (ok === null ? '' : ok ? 'ok' : 'OVER');
  const lines = rows.map((r) => [r.label, `${fmt(r.value)} ${r.unit}`, r.budget, mark(r.ok)]);
  const widths = [0, 1, 2, 3].map((i) => Math.max(...lines.map((l) => l[i].length), 6));
  console.log(lines.map((l) => l.map((c, i) => c.padEnd(widths[i])).join('  ')).join('\n'));
  const md = ['| Measurement | Result | Budget | |', '|---|---:|---:|---|',
    ...lines.map((l) => `| ${l.join(' | ')} |`)].join('\n');
  writeFileSync(join(outDir, 'report.md'), `${md}\n`);
  if (missing.length) console.log(`not measured: ${missing.join(', ')}`);
  return report;
}
