// How soon a running server refuses a token after `tessera-server user disable` (another
// process) changed the database: from the CLI's start to the first 401 of auth/check.
import { percentile } from './stats.mjs';

async function untilStatus(url, headers, status) {
  for (;;) {
    const r = await fetch(url, { headers });
    if (r.status === status) return;
  }
}

/** `changes` disable/enable rounds; returns the disable → refused latencies in ms. */
export async function cliPropagation({ tessera, token, username, changes }) {
  const url = `${tessera.base}/api/v2/auth/check?scope=metrics.read`;
  const headers = { Authorization: `Api-Token ${token}` };
  const latencies = [];
  for (let i = 0; i < changes; i += 1) {
    await untilStatus(url, headers, 204);
    const started = performance.now();
    tessera.user('disable', username);
    await untilStatus(url, headers, 401);
    latencies.push(performance.now() - started);
    tessera.user('enable', username);
  }
  return { latencies, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}
