// Token usage in the console (issue 17): the Usage disclosure of a token row draws the
// token's requests per hour, on a person's own page and on the administrators' list.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, withPage, signIn, noSeriousA11yViolations, apiSession, checkAt } from './harness.mjs';

let server;
let browser;
before(async () => { server = await startServer(); browser = await launchBrowser(); });
after(async () => { await browser?.close(); await server?.stop(); });

const run = (name, fn, options) => test(name, () => withPage(browser, server, name, fn, options));

const check = (token, scope) => checkAt(server.base, token, scope);

async function limitedToken(name) {
  const alice = await apiSession(server.base, 'alice');
  const r = await alice.call('POST', '/api/v2/apiTokens', { name, scopes: ['metrics.read'], rateLimitPerMinute: 4 });
  assert.equal(r.status, 201);
  const { token } = await r.json();
  for (const [scope, status] of [['metrics.read', 204], ['metrics.read', 204], ['metrics.read', 204], ['metrics.write', 403], ['metrics.read', 429]]) {
    assert.equal((await check(token, scope)).status, status, scope);
  }
}

async function seeUsage(page, name) {
  const row = page.getByRole('row', { name: new RegExp(name) });
  await row.getByText('Usage', { exact: true }).click();
  await row.getByText('Limited to 4 requests a minute').waitFor();
  const chart = row.getByRole('img', { name: '3 allowed, 1 refused, 1 over the rate limit in the last 30 days' });
  await chart.waitFor();
  await row.getByText('3 allowed', { exact: true }).waitFor();
  await row.getByText('2 refused', { exact: true }).waitFor();
  // One hour with requests: one column of each kind.
  assert.match(await chart.locator('path.allowed').getAttribute('d'), /^M\d+\.5 480V\d+$/);
  assert.match(await chart.locator('path.refused').getAttribute('d'), /^M\d+\.5 \d+V\d+$/);
  await noSeriousA11yViolations(page, 'the usage chart');
}

run('an owner opens a token\'s usage: allowed, refused and rate-limited requests by hour', async (page) => {
  await limitedToken('busy token');
  await signIn(page, 'alice');
  await seeUsage(page, 'busy token');
});

run('an admin sees the same usage on everyone\'s tokens', async (page) => {
  await limitedToken('watched token');
  await signIn(page, 'admin');
  await page.goto('/settings/access-control/access-tokens');
  await seeUsage(page, 'watched token');
});

run('a token without requests says so', async (page) => {
  const alice = await apiSession(server.base, 'alice');
  await alice.token('idle token', ['metrics.read']);
  await signIn(page, 'alice');
  const row = page.getByRole('row', { name: /idle token/ });
  await row.getByText('Usage', { exact: true }).click();
  await row.getByText('No requests in the last 30 days').waitFor();
});
