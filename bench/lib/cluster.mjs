// Three nodes on one PostgreSQL behind nginx's auth_request, beside one node behind the same
// config (issue 12): what several nodes cost or give on this box. Both sides run the same
// nginx, upstream and load generator; on 2 cores the nodes share the CPUs nginx and wrk use.
import { execFileSync } from 'node:child_process';

import { startNginx } from './nginx.mjs';
import { postgresDatabase } from './postgres.mjs';
import { PASSWORD, setPatEnabled, signIn, startTessera } from './server.mjs';
import { alternate, wrk } from './wrk.mjs';

export async function clusterRows({ root, bin, seconds, pairs, put, details, log }) {
  const name = `cluster_${process.pid}`;
  const databaseUrl = postgresDatabase(name);
  const nodes = [];
  const proxies = [];
  try {
    for (let i = 0; i < 3; i += 1) nodes.push(await startTessera({ bin, databaseUrl }));
    const admin = await signIn(nodes[0].base, 'admin', PASSWORD);
    await setPatEnabled(admin, true);
    const { token } = await admin.send('POST', '/api/v2/apiTokens', { name: 'cluster', scopes: ['metrics.read'] });
    const host = (node) => new URL(node.base).host;
    const three = await startNginx({ root, tessera: nodes.map(host) });
    proxies.push(three);
    const one = await startNginx({ root, tessera: host(nodes[0]) });
    proxies.push(one);
    const headers = { Authorization: `Api-Token ${token}` };
    const half = Math.max(1, Math.round(seconds / 2));
    const load = (nginx) => () => {
      const r = wrk(`${nginx.protectedUrl}/metrics/cpu`, { seconds: half, connections: 64, headers });
      if (r.non2xx > 0) throw new Error('check through nginx: non-2xx responses');
      return r;
    };
    log('three nodes behind nginx ÷ one node behind nginx (check through auth_request)');
    const result = alternate(load(three), load(one), pairs);
    details.cluster = result;
    put('cluster_3_nodes_rps', result.a.rps, 'req/s');
    put('cluster_1_node_rps', result.b.rps, 'req/s');
    put('cluster_3_nodes_p99_ms', result.a.p99, 'ms');
    put('cluster_3_vs_1_ratio', result.ratio, '×');
  } finally {
    for (const p of proxies) await p.stop();
    for (const n of nodes) await n.stop();
    execFileSync('psql', ['-qc', `DROP DATABASE ${name}`]);
  }
}
