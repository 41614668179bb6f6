// Token lifecycle in the console (issue 15): regenerate on both token pages, the expiry
// notice, the policy form, and webhook deliveries with a test event to a real receiver.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { startServer, launchBrowser, withPage, signIn, noSeriousA11yViolations, apiSession, checkAt } from './harness.mjs';

let server;
let browser;
before(async () => { server = await startServer(); browser = await launchBrowser(); });
after(async () => { await browser?.close(); await server?.stop(); });

const run = (name, fn, options) => test(name, () => withPage(browser, server, name, fn, options));

const check = (token, scope) => checkAt(server.base, token, scope);

run('an owner regenerates a token: grace choice, the new token shown once, the old one refused', async (page) => {
  const alice = await apiSession(server.base, 'alice');
  const old = await alice.token('to regenerate', ['metrics.read']);
  await signIn(page, 'alice');
  await page.getByRole('button', { name: 'Regenerate token “to regenerate”' }).click();
  const dialog = page.getByRole('dialog', { name: 'Regenerate “to regenerate”?' });
  await dialog.getByLabel('Stop the old token at once').check();
  await dialog.getByRole('button', { name: 'Regenerate' }).click();
  const fresh = await page.getByLabel('Token', { exact: true }).inputValue();
  assert.notEqual(fresh, old.token);
  assert.equal((await check(old.token)).status, 401);
  assert.equal((await check(fresh)).status, 204);
  await page.getByRole('button', { name: 'Copy' }).click();
  await page.getByRole('button', { name: 'Done' }).click();
  // The list again: the new token, and the old one (now expired) beside it.
  await page.getByRole('row', { name: /to regenerate/ }).getByText('Expired').waitFor();
  assert.equal(await page.getByRole('row', { name: /to regenerate/ }).count(), 2);
});

run('tokens about to expire are announced and marked on the personal page', async (page) => {
  const alice = await apiSession(server.base, 'alice');
  const r = await alice.call('POST', '/api/v2/apiTokens', { name: 'short-lived', scopes: ['metrics.read'], expirationDate: 'now+3d' });
  assert.equal(r.status, 201);
  await signIn(page, 'alice');
  await page.getByText(/of your tokens expires? within 7 days/).waitFor();
  await page.getByRole('row', { name: /short-lived/ }).getByText('Expires soon').waitFor();
});

run('an admin edits the lifecycle policy; the generate form then offers only what fits', async (page) => {
  await signIn(page, 'admin');
  await page.goto('/settings/integration/token-settings');
  const max = page.getByLabel('Maximum lifetime (days)');
  await max.fill('a month');
  await page.getByRole('button', { name: 'Save lifecycle policy' }).click();
  await page.locator('#policy-max-error').getByText('Enter a whole number of days').waitFor();
  await max.fill('60');
  await page.getByLabel('Webhook URL').fill('ftp://example.test/hook');
  await page.getByRole('button', { name: 'Save lifecycle policy' }).click();
  await page.locator('#policy-webhook-url-error').getByText(/http or https|absolute/).waitFor();
  assert.equal(await max.getAttribute('aria-invalid'), 'false');
  await page.getByLabel('Webhook URL').fill('http://127.0.0.1:9/hook');
  await page.getByLabel('Webhook secret').fill('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw');
  await page.getByRole('button', { name: 'Save lifecycle policy' }).click();
  await page.getByRole('status').getByText('Saved.').waitFor();
  await noSeriousA11yViolations(page, 'token settings with the policy');
  const admin = await apiSession(server.base, 'admin');
  const list = await (await admin.call('GET', '/api/v2/settings/objects?schemaIds=tessera:tokens.lifecycle')).json();
  assert.equal(list.items[0].value.maxLifetimeDays, 60);
  assert.equal(list.items[0].value.webhookSecretSet, true);

  const context = await browser.newContext({ baseURL: server.base });
  try {
    const alice = await context.newPage();
    await signIn(alice, 'alice');
    await alice.goto('/personal-access-tokens/new');
    await alice.getByText('at most 60 days').waitFor();
    const offered = await alice.locator('input[name="expiration"]').evaluateAll((els) => els.map((e) => e.value));
    assert.deepEqual(offered, ['30d', 'custom']);
  } finally {
    await context.close();
    await admin.call('PUT', `/api/v2/settings/objects/${list.items[0].objectId}`, { value: { maxLifetimeDays: null } });
  }
});

run('an admin regenerates someone else\'s token from the access tokens page', async (page) => {
  const alice = await apiSession(server.base, 'alice');
  const old = await alice.token('alice regenerated', ['metrics.read']);
  await signIn(page, 'admin');
  await page.goto('/settings/access-control/access-tokens');
  await page.getByRole('button', { name: 'Regenerate token “alice regenerated”' }).click();
  const dialog = page.getByRole('dialog', { name: 'Regenerate “alice regenerated”?' });
  await dialog.getByLabel('Keep the old token working for 1 hour').check();
  await dialog.getByRole('button', { name: 'Regenerate' }).click();
  const fresh = await page.getByLabel('Token', { exact: true }).inputValue();
  assert.notEqual(fresh, old.token);
  // Within the grace both work; the new one is alice's.
  assert.equal((await check(old.token)).status, 204);
  assert.equal((await check(fresh)).status, 204);
  await page.getByRole('button', { name: 'Copy' }).click();
  await page.getByRole('button', { name: 'Done' }).click();
  await page.getByRole('heading', { name: 'Access tokens' }).waitFor();
  const mine = await (await alice.call('GET', '/api/v2/apiTokens?fields=+owner')).json();
  assert.equal(mine.apiTokens.filter((t) => t.name === 'alice regenerated').length, 2);
});

run('an admin sends a test event and sees it delivered, then a failing receiver retried', async (page) => {
  const seen = [];
  let answer = 204;
  const receiver = createServer((req, res) => {
    seen.push(req.headers['webhook-id']);
    req.resume();
    req.on('end', () => { res.statusCode = answer; res.end(); });
  });
  await new Promise((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${receiver.address().port}/hook`;
  const admin = await apiSession(server.base, 'admin');
  const list = await (await admin.call('GET', '/api/v2/settings/objects?schemaIds=tessera:tokens.lifecycle')).json();
  const policy = `/api/v2/settings/objects/${list.items[0].objectId}`;
  try {
    await signIn(page, 'admin');
    await page.goto('/settings/integration/token-settings');
    await page.getByLabel('Webhook URL').fill(url);
    await page.getByLabel('Webhook secret').fill('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw');
    await page.getByRole('button', { name: 'Save lifecycle policy' }).click();
    await page.getByRole('status').getByText('Saved.').waitFor();
    const section = page.getByRole('region', { name: 'Webhook deliveries' });
    await section.getByRole('button', { name: 'Send test event' }).click();
    await section.getByText('Test event queued.').waitFor();
    const row = section.getByRole('row', { name: /webhook\.test/ });
    await row.getByText('Delivered').waitFor();
    await row.getByText('HTTP 204').waitFor();
    assert.ok(seen.length >= 2, 'settings.changed and the test event reached the receiver');

    answer = 500;
    await section.getByRole('button', { name: 'Send test event' }).click();
    await section.getByRole('row', { name: /webhook\.test.*Retrying/ }).getByText('500 Internal Server Error').waitFor();
    await noSeriousA11yViolations(page, 'token settings with deliveries');
  } finally {
    await admin.call('PUT', policy, { value: { webhookUrl: null, webhookSecret: '' } });
    receiver.close();
  }
});

run('an owner is told when the lifecycle policy shortens their tokens', async (page) => {
  const alice = await apiSession(server.base, 'alice');
  await alice.token('forever', ['metrics.read']);
  const admin = await apiSession(server.base, 'admin');
  const list = await (await admin.call('GET', '/api/v2/settings/objects?schemaIds=tessera:tokens.lifecycle')).json();
  const policy = `/api/v2/settings/objects/${list.items[0].objectId}`;
  try {
    assert.equal((await admin.call('PUT', policy, { value: { maxLifetimeDays: 30 } })).status, 200);
    await signIn(page, 'alice');
    await page.getByText(/The token lifecycle policy shortened the life of \d+ of your tokens/).waitFor();
    await page.getByRole('row', { name: /forever/ }).getByText('Shortened by policy').waitFor();
    await noSeriousA11yViolations(page, 'the personal page with shortened tokens');
  } finally {
    await admin.call('PUT', policy, { value: { maxLifetimeDays: null } });
  }
});
