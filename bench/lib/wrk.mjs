// Load from wrk (Debian's package): one run, parsed into requests/s and latency percentiles.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { median } from './stats.mjs';

const toMs = (value, unit) => Number(value) * { us: 0.001, ms: 1, s: 1000 }[unit];

/**
 * Runs wrk against `url`. `request` may set method, body and headers (through a Lua script,
 * since wrk's -H cannot set a body).
 */
export function wrk(url, { connections = 64, seconds = 10, threads = 2, headers = {}, method, body, scriptDir } = {}) {
  const args = ['-t', String(threads), '-c', String(connections), '-d', `${seconds}s`, '--latency'];
  for (const [k, v] of Object.entries(headers)) args.push('-H', `${k}: ${v}`);
  if (method) {
    const script = join(scriptDir, `wrk-${Math.random().toString(36).slice(2)}.lua`);
    writeFileSync(script, `wrk.method = ${JSON.stringify(method)}\nwrk.body = ${JSON.stringify(body ?? '')}\n` +
      'wrk.headers["Content-Type"] = "application/json"\n');
    args.push('-s', script);
  }
  args.push(url);
  const out = execFileSync('wrk', args, { encoding: 'utf8' });
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)[1]);
  const pct = (p) => {
    const m = new RegExp(`\\s${p}%\\s+([\\d.]+)(us|ms|s)`).exec(out);
    return toMs(m[1], m[2]);
  };
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  const errors = /Socket errors: (.*)/.exec(out)?.[1] ?? null;
  return { rps, p50: pct(50), p99: pct(99), non2xx, errors };
}

/**
 * Runs A and B alternately, `rounds` pairs. Each side is summarised by its medians, and
 * `ratio` is the median of the per-pair A÷B throughput ratios: on a 2-core machine that
 * also runs the load generator, single runs swing by ±10 %, pairs much less.
 */
export function alternate(a, b, rounds = 2) {
  const runs = { a: [], b: [] };
  for (let i = 0; i < rounds; i += 1) {
    runs.a.push(a());
    runs.b.push(b());
  }
  const summary = (xs) => ({
    rps: median(xs.map((x) => x.rps)), p50: median(xs.map((x) => x.p50)), p99: median(xs.map((x) => x.p99)), runs: xs,
  });
  const ratio = median(runs.a.map((x, i) => x.rps / runs.b[i].rps));
  return { a: summary(runs.a), b: summary(runs.b), ratio };
}
