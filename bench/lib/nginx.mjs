// One nginx for the bench: the box's HTTP ceiling (`return 204`), a stand-in upstream, the
// shipped auth_request config in front of it, and a plain proxy to it for comparison.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, rmSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

async function freePort() {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function listening(port) {
  for (let i = 0; i < 100; i += 1) {
    const ok = await fetch(`http://127.0.0.1:${port}/`).then(() => true, () => false);
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nginx did not listen on ${port}`);
}

/** `tessera` is one `host:port`, or several (an upstream of nodes, as tessera-cluster.conf). */
export async function startNginx({ root, tessera }) {
  const [ceiling, upstream, protectedPort, plain] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-nginx-'));
  const shipped = readFileSync(join(root, 'deploy/nginx/tessera-auth.conf'), 'utf8')
    .replace('server 127.0.0.1:8080;', [tessera].flat().map((h) => `server ${h} max_fails=2 fail_timeout=5s;`).join('\n    '))
    .replace('server 127.0.0.1:9000;', `server 127.0.0.1:${upstream};`)
    .replace('listen 8000;', `listen 127.0.0.1:${protectedPort};`);
  writeFileSync(join(dir, 'tessera-auth.conf'), shipped);
  const asRoot = process.getuid?.() === 0 ? 'user root;\n' : '';
  writeFileSync(join(dir, 'nginx.conf'), `${asRoot}daemon off;
worker_processes 2;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  keepalive_requests 1000000;
  server { listen 127.0.0.1:${ceiling}; location / { return 204; } }
  server { listen 127.0.0.1:${upstream}; location / { return 200 "ok"; } }
  upstream plain_app { server 127.0.0.1:${upstream}; keepalive 32; }
  server {
    listen 127.0.0.1:${plain};
    location / { proxy_pass http://plain_app; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
  include ${dir}/tessera-auth.conf;
}
`);
  const bin = existsSync('/usr/sbin/nginx') ? '/usr/sbin/nginx' : 'nginx';
  const child = spawn(bin, ['-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: 'inherit' });
  await listening(ceiling);
  await listening(protectedPort);
  return {
    ceiling: `http://127.0.0.1:${ceiling}/`,
    protectedUrl: `http://127.0.0.1:${protectedPort}`,
    plainUrl: `http://127.0.0.1:${plain}`,
    upstream: `127.0.0.1:${upstream}`,
    pid: child.pid,
    async stop() {
      child.kill('SIGQUIT');
      await new Promise((r) => (child.exitCode !== null ? r() : child.on('exit', r)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
