// One binary (issue 18): the server started without --assets serves the console built into
// it, with the same encodings, caching and page routing as from a directory.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, launchBrowser, signIn, DIST } from './harness.mjs';

let server;
let browser;
before(async () => { server = await startServer({ assets: false }); browser = await launchBrowser(); });
after(async () => { await browser?.close(); await server?.stop(); });

const get = (path, encoding = 'br, gzip') => fetch(`${server.base}${path}`, { headers: { 'accept-encoding': encoding } });

test('the built-in console is served compressed, cached by name, with admin pages under /settings', async () => {
  const index = await get('/');
  assert.equal(index.status, 200);
  assert.equal(index.headers.get('content-encoding'), 'br');
  assert.match(index.headers.get('content-type'), /^text\/html/);
  assert.equal(index.headers.get('cache-control'), 'no-cache');
  assert.equal(await index.text(), readFileSync(join(DIST, 'index.html'), 'utf8'));

  const plain = await get('/personal-access-tokens/new', 'identity');
  assert.equal(plain.headers.get('content-encoding'), null);
  assert.equal(await plain.text(), readFileSync(join(DIST, 'index.html'), 'utf8'));
  const admin = await get('/settings/integration/token-settings', 'gzip');
  assert.equal(admin.headers.get('content-encoding'), 'gzip');
  assert.equal(await admin.text(), readFileSync(join(DIST, 'admin.html'), 'utf8'));

  const wasm = readdirSync(DIST).find((f) => f.endsWith('_bg.wasm'));
  const asset = await get(`/${wasm}`);
  assert.equal(asset.headers.get('content-type'), 'application/wasm');
  assert.equal(asset.headers.get('cache-control'), 'public, max-age=31536000, immutable');
  const etag = asset.headers.get('etag');
  const again = await fetch(`${server.base}/${wasm}`, { headers: { 'if-none-match': etag, 'accept-encoding': 'br, gzip' } });
  assert.equal(again.headers.get('cache-control'), 'public, max-age=31536000, immutable');
  assert.equal(again.status, 304);
  assert.equal((await fetch(`${server.base}/`, { method: 'POST' })).status, 405);
});

test('the built-in console signs in and shows the personal access tokens page', async () => {
  const context = await browser.newContext({ baseURL: server.base });
  try {
    const page = await context.newPage();
    const blocked = [];
    page.on('console', (m) => { if (/Content Security Policy/.test(m.text())) blocked.push(m.text()); });
    await signIn(page, 'alice');
    await page.getByRole('heading', { name: 'Personal access tokens' }).waitFor();
    assert.deepEqual(blocked, [], 'the CSP allows the built-in pages\' scripts');
  } finally {
    await context.close();
  }
});
