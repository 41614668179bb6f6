// Tessera (release build) on a fresh database, and HTTP helpers for seeding it.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const PASSWORD = 'bench-password-1';

// wrk runs block this process (execFileSync), so a pooled keep-alive connection can outlive
// the server's idle limit (--header-timeout) unnoticed; the server has closed it, nothing
// was sent, so one retry on a fresh connection is safe.
async function fetchRetry(url, init) {
  try {
    return await fetch(url, init);
  } catch (e) {
    if (e?.cause?.code !== 'UND_ERR_SOCKET') throw e;
    return fetch(url, init);
  }
}

export async function startTessera({ bin, assets, extraArgs = [], databaseUrl }) {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-'));
  const dbUrl = databaseUrl ?? `sqlite://${join(dir, 'tessera.db')}`;
  const args = ['--listen', '127.0.0.1:0', '--database-url', dbUrl,
    '--login-attempts-per-user', '100000', '--login-attempts-per-address', '100000', ...extraArgs];
  if (assets) args.push('--assets', assets);
  const child = spawn(bin, args, {
    env: { ...process.env, TESSERA_ADMIN_PASSWORD: PASSWORD, TESSERA_LOG: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let logs = '';
  const base = await new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk) => {
      logs += chunk;
      const m = /Tessera listening on (http:\/\/\S+)/.exec(logs);
      if (m) resolve(m[1]);
    });
    child.stderr.on('data', (chunk) => { logs += chunk; });
    child.on('exit', (code) => reject(new Error(`tessera-server exited (${code}):\n${logs}`)));
  });
  return {
    base,
    pid: child.pid,
    // The password goes to stdin only for commands that read it: a command that exits
    // without reading would fail the write with EPIPE.
    user: (...a) => execFileSync(bin, ['user', '--database-url', dbUrl, ...a],
      { encoding: 'utf8', ...(a.includes('--password-stdin') ? { input: `${PASSWORD}\n` } : {}) }),
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r() : child.on('exit', r)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Resident set size and its high-water mark of a process, in MiB. */
export function memory(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (key) => Number(new RegExp(`${key}:\\s+(\\d+) kB`).exec(status)[1]);
  return { rssMiB: kib('VmRSS') / 1024, peakMiB: kib('VmHWM') / 1024 };
}

/** Starts a new high-water mark at the current RSS (Linux: clear_refs 5). */
export function resetPeak(pid) {
  writeFileSync(`/proc/${pid}/clear_refs`, '5');
}

/** A signed-in API session: its cookie header and CSRF token. */
export async function signIn(base, username, password = PASSWORD) {
  const r = await fetchRetry(`${base}/api/session`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  if (r.status !== 200) throw new Error(`sign in ${username}: ${r.status} ${await r.text()}`);
  const cookie = r.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const { csrfToken } = await r.json();
  return {
    cookie,
    csrf: csrfToken,
    async send(method, path, body) {
      const res = await fetchRetry(`${base}${path}`, {
        method,
        headers: { 'Content-Type': 'application/json', Cookie: cookie, 'X-CSRF-Token': csrfToken },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
      return res.status === 204 ? null : res.json();
    },
  };
}

export async function setPatEnabled(session, enabled) {
  const list = await session.send('GET', '/api/v2/settings/objects?schemaIds=builtin:tokens.token-settings&scopes=environment');
  await session.send('PUT', `/api/v2/settings/objects/${list.items[0].objectId}`, { value: { patEnabled: enabled } });
}
