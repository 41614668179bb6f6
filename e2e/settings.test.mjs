// An admin turns personal access tokens off and on while another user is signed in.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, signIn, PASSWORD } from './harness.mjs';

let server;
let browser;
before(async () => { server = await startServer(); browser = await launchBrowser(); });
after(async () => { await browser?.close(); await server?.stop(); });

async function apiToken(base) {
  const login = await fetch(`${base}/api/session`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'alice', password: PASSWORD }),
  });
  const cookie = login.headers.get('set-cookie').split(';')[0];
  const { csrfToken } = await login.json();
  const created = await fetch(`${base}/api/v2/apiTokens`, {
    method: 'POST', headers: { 'content-type': 'application/json', cookie, 'x-csrf-token': csrfToken },
    body: JSON.stringify({ name: 'exporter', scopes: ['metrics.read'] }),
  });
  assert.equal(created.status, 201);
  return (await created.json()).token;
}

const check = (base, token) => fetch(`${base}/api/v2/auth/check?scope=metrics.read`, { headers: { authorization: `Api-Token ${token}` } });

test('admin turns PATs off: a signed-in user sees the notice, tokens are refused, then back on', async () => {
  const token = await apiToken(server.base);
  assert.equal((await check(server.base, token)).status, 204);
  const adminContext = await browser.newContext({ baseURL: server.base });
  const userContext = await browser.newContext({ baseURL: server.base });
  try {
    const admin = await adminContext.newPage();
    const user = await userContext.newPage();
    await signIn(user, 'alice');
    await user.getByRole('link', { name: 'Generate new token' }).first().waitFor();
    await signIn(admin, 'admin');
    await admin.goto('/settings/integration/token-settings');
    const toggle = admin.getByRole('switch', { name: 'Enable personal access tokens' });
    assert.equal(await toggle.getAttribute('aria-checked'), 'true');
    await toggle.click();
    await admin.getByText('Saved. Personal access tokens are off.').waitFor();
    assert.equal(await toggle.getAttribute('aria-checked'), 'false');
    // The admin's own menu reflects it at once.
    await admin.getByRole('button', { name: /User menu for/ }).click();
    await admin.getByRole('menuitem', { name: /Personal access tokens\s*Off/ }).waitFor();
    await admin.keyboard.press('Escape');

    assert.equal((await check(server.base, token)).status, 403);
    await user.reload();
    await user.getByText('Personal access tokens are turned off by an administrator.').waitFor();
    assert.equal(await user.getByRole('link', { name: 'Generate new token' }).count(), 0);
    await user.goto('/personal-access-tokens/new');
    await user.getByText('New tokens can\'t be generated').waitFor();

    await toggle.click();
    await admin.getByText('Saved. Personal access tokens are on.').waitFor();
    assert.equal((await check(server.base, token)).status, 204);
    await user.goto('/personal-access-tokens');
    await user.getByRole('link', { name: 'Generate new token' }).first().waitFor();
  } finally {
    await adminContext.close();
    await userContext.close();
  }
});

test('a failed save goes back to the stored state and says why', async () => {
  const context = await browser.newContext({ baseURL: server.base });
  try {
    const page = await context.newPage();
    await signIn(page, 'admin');
    await page.goto('/settings/integration/token-settings');
    const toggle = page.getByRole('switch', { name: 'Enable personal access tokens' });
    await toggle.waitFor();
    await page.route('**/api/v2/settings/objects/*', (route) => route.request().method() === 'PUT'
      ? route.fulfill({ status: 500, contentType: 'application/json', body: '{"error":{"code":500,"message":"Internal server error","constraintViolations":[]}}' })
      : route.continue());
    await toggle.click();
    await page.getByText('Not saved: Internal server error').waitFor();
    assert.equal(await toggle.getAttribute('aria-checked'), 'true');
  } finally {
    await context.close();
  }
});
