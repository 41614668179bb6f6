// Browser end-to-end harness: the real tessera-server on a free port with a fresh SQLite
// file and the release dist/, driven by Playwright in Debian's Chromium.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import assert from 'node:assert/strict';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const BIN = process.env.TESSERA_BIN ?? join(root, 'target/debug/tessera-server');
export const DIST = process.env.TESSERA_DIST ?? join(root, 'dist');
export const ARTIFACTS = join(root, 'target/e2e-artifacts');
export const PASSWORD = 'demo-password-1';
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

/** Starts Tessera in demo mode (admin, alice, bob; PATs on) on a free port. */
/** `assets: false` serves the console built into the binary instead of `--assets`. */
export async function startServer({ demo = true, extraArgs = [], assets = true } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-e2e-'));
  const dbUrl = `sqlite://${join(dir, 'tessera.db')}`;
  const listen = extraArgs.includes('--listen') ? [] : ['--listen', '127.0.0.1:0'];
  const args = [...listen, '--database-url', dbUrl, ...(assets ? ['--assets', DIST] : []),
    '--login-attempts-per-user', '1000', '--login-attempts-per-address', '1000', ...extraArgs];
  if (demo) args.push('--demo');
  const child = spawn(BIN, args, {
    env: { ...process.env, TESSERA_ADMIN_PASSWORD: PASSWORD, TESSERA_DEMO_PASSWORD: PASSWORD, TESSERA_LOG: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let logs = '';
  const base = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${logs}`)), 60_000);
    child.stdout.on('data', (chunk) => {
      logs += chunk;
      const m = /Tessera listening on (http:\/\/\S+)/.exec(logs);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    child.stderr.on('data', (chunk) => { logs += chunk; });
    child.on('exit', (code) => reject(new Error(`server exited (${code}):\n${logs}`)));
  });
  return {
    base,
    dbUrl,
    logs: () => logs,
    /** Runs `tessera-server user …` on this server's database. */
    user: (...userArgs) => execFileSync(BIN, ['user', '--database-url', dbUrl, ...userArgs], { encoding: 'utf8' }),
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r() : child.on('exit', r)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function launchBrowser() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/**
 * A fresh browser context and page for one test. CSP violations and page errors fail the
 * test; on failure a screenshot goes to target/e2e-artifacts/.
 */
export async function withPage(browser, server, name, fn, { colorScheme = 'light', viewport } = {}) {
  const context = await browser.newContext({ baseURL: server.base, colorScheme, viewport: viewport ?? { width: 1280, height: 800 } });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.base });
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy|Refused to/.test(m.text())) problems.push(`CSP: ${m.text()}`);
  });
  try {
    await fn(page, context);
    if (problems.length) throw new Error(problems.join('\n'));
  } catch (e) {
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, `${name.replace(/[^a-z0-9-]+/gi, '_')}.png`), fullPage: true }).catch(() => {});
    throw e;
  } finally {
    await context.close();
  }
}

export async function signIn(page, username, password = PASSWORD, path = '/login') {
  await page.goto(path);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: /User menu for/ }).waitFor();
}

const axeSource = readFileSync(join(root, 'node_modules/axe-core/axe.min.js'), 'utf8');

/** Runs axe-core in the page; returns its violations of the given impacts. */
export async function a11yViolations(page, impacts) {
  // evaluate() runs through the DevTools protocol, so the page's CSP does not block it.
  await page.evaluate(axeSource);
  const results = await page.evaluate(async () => window.axe.run(document, { resultTypes: ['violations'] }));
  return results.violations
    .filter((v) => impacts.includes(v.impact))
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

/** Serious and critical axe violations. */
export const seriousA11yViolations = (page) => a11yViolations(page, ['serious', 'critical']);

/** Asserts that axe finds nothing serious or critical on the page. */
export async function noSeriousA11yViolations(page, where) {
  assert.deepEqual(await seriousA11yViolations(page), [], `axe on ${where}`);
}

/** The gateway check of `token` for `scope` on the server at `base`. */
export const checkAt = (base, token, scope = 'metrics.read') =>
  fetch(`${base}/api/v2/auth/check?scope=${scope}`, { headers: { authorization: `Api-Token ${token}` } });

/** A signed-in API session of `username`: `call(method, path, body)` → Response. */
export async function apiSession(base, username, password = PASSWORD) {
  const login = await fetch(`${base}/api/session`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  assert.equal(login.status, 200, `sign-in of ${username}`);
  const cookie = login.headers.get('set-cookie').split(';')[0];
  const { csrfToken } = await login.json();
  const call = (method, path, body) => fetch(`${base}${path}`, {
    method,
    headers: { cookie, 'x-csrf-token': csrfToken, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const token = async (name, scopes) => {
    const r = await call('POST', '/api/v2/apiTokens', { name, scopes });
    assert.equal(r.status, 201);
    return r.json();
  };
  return { call, token };
}
