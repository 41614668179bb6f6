// Browser end-to-end tests of the console against the real server (demo users).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, withPage, signIn, noSeriousA11yViolations, PASSWORD } from './harness.mjs';

const TOKEN_RE = /^dt0c01\.[A-Z2-7]{24}\.[A-Z2-7]{64}$/;
let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

const run = (name, fn, options) => test(name, () => withPage(browser, server, name, fn, options));

/** A scope's checkbox by its display name (its label also shows the API value). */
const scope = (page, name) => page.getByRole('checkbox', { name: new RegExp(`^${name} `) });

/** Generates a token through the form and returns it from the show-once panel. */
async function generateThroughForm(page, name, scopeLabels) {
  await page.goto('/personal-access-tokens/new');
  return fillAndGenerate(page, name, scopeLabels);
}

/** Fills the open Generate form and returns the token it shows. */
async function fillAndGenerate(page, name, scopeLabels) {
  await page.getByLabel('Token name').fill(name);
  for (const label of scopeLabels) await scope(page, label).check();
  await page.getByRole('button', { name: 'Generate token' }).click();
  const field = page.getByLabel('Token', { exact: true });
  await field.waitFor();
  return field.inputValue();
}

test('the built console is served precompressed, with caching and a strict CSP', async () => {
  const index = await fetch(`${server.base}/personal-access-tokens/new`);
  assert.equal(index.status, 200);
  assert.equal(index.headers.get('cache-control'), 'no-cache');
  const csp = index.headers.get('content-security-policy');
  assert.match(csp, /script-src 'self' 'wasm-unsafe-eval' 'sha256-/);
  assert.doesNotMatch(csp, /unsafe-inline/);
  const wasm = /\/[\w-]+_bg\.wasm/.exec(await index.text())[0];
  for (const encoding of ['br', 'gzip']) {
    const r = await fetch(`${server.base}${wasm}`, { headers: { 'accept-encoding': encoding } });
    assert.equal(r.headers.get('content-encoding'), encoding);
    assert.equal(r.headers.get('content-type'), 'application/wasm');
    assert.equal(r.headers.get('cache-control'), 'public, max-age=31536000, immutable');
  }
});

run('the page asks who is signed in once, through the preload that starts with the HTML', async (page) => {
  const asked = [];
  page.on('request', (r) => { if (new URL(r.url()).pathname === '/api/session') asked.push(r.method()); });
  await page.goto('/personal-access-tokens');
  await page.waitForURL(/\/login\?next=/);
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await page.waitForLoadState('networkidle');
  // A preload the app cannot use (say, a credentials mode that does not match) is a second GET.
  assert.deepEqual(asked, ['GET']);
  const initiators = await page.evaluate(() => performance.getEntriesByType('resource')
    .filter((e) => new URL(e.name).pathname === '/api/session').map((e) => e.initiatorType));
  assert.deepEqual(initiators, ['link']);
});

run('the console loads from the server and renders its shell', async (page) => {
  const response = await page.goto('/');
  assert.equal(response.status(), 200);
  await page.waitForURL(/\/login\?next=/);
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await noSeriousA11yViolations(page, 'login');
  await signIn(page, 'alice', PASSWORD, page.url());
  await page.waitForURL('**/personal-access-tokens');
  await page.getByRole('banner').getByText('Tessera').waitFor();
  await page.getByRole('navigation', { name: 'Breadcrumb' }).waitFor();
  await page.getByRole('heading', { name: 'Personal access tokens' }).waitFor();
  await page.getByText('No tokens yet').waitFor();
  await noSeriousA11yViolations(page, 'empty token list');
});

run('sign in with a wrong password shows the error inline, then sign in and out', async (page) => {
  await page.goto('/login');
  await page.getByLabel('Username').fill('bob');
  await page.getByLabel('Password').fill('not-the-password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('alert').filter({ hasText: 'Invalid username or password' }).waitFor();
  await signIn(page, 'bob');
  await page.getByRole('button', { name: /User menu for Bob/ }).click();
  await page.getByRole('menuitem', { name: 'Sign out' }).click();
  await page.waitForURL(/\/login$/);
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await page.goto('/personal-access-tokens');
  await page.waitForURL(/\/login\?next=%2Fpersonal-access-tokens/);
});

run('deep links come back after sign-in and survive a reload', async (page) => {
  await page.goto('/personal-access-tokens/new');
  await page.waitForURL(/\/login\?next=/);
  await page.getByLabel('Username').fill('alice');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL('**/personal-access-tokens/new');
  await page.getByRole('heading', { name: 'Generate new token' }).waitFor();
  await page.reload();
  await page.getByRole('heading', { name: 'Generate new token' }).waitFor();
  await page.goto('/settings/integration/token-settings');
  await page.getByRole('heading', { name: "You don't have access to this page" }).waitFor();
  await noSeriousA11yViolations(page, 'no access');
  await page.goto('/no/such/page');
  await page.getByRole('heading', { name: 'Page not found' }).waitFor();
  await noSeriousA11yViolations(page, 'not found');
});

run('the user menu leads to personal access tokens', async (page) => {
  await signIn(page, 'alice');
  await page.goto('/settings/integration/token-settings');
  await page.getByRole('button', { name: /User menu for Alice/ }).click();
  await page.getByRole('menuitem', { name: /Personal access tokens/ }).click();
  await page.waitForURL('**/personal-access-tokens');
  // Escape closes the menu and returns focus to its button.
  const button = page.getByRole('button', { name: /User menu for Alice/ });
  await button.click();
  await page.getByRole('menu').waitFor();
  await page.keyboard.press('Escape');
  await page.getByRole('menu').waitFor({ state: 'hidden' });
  assert.equal(await button.evaluate((el) => el === document.activeElement), true);
});

run('generate with two scopes, copy exactly the token, see it listed, and the secret is gone after reload', async (page) => {
  await signIn(page, 'alice');
  await page.goto('/personal-access-tokens/new');
  await noSeriousA11yViolations(page, 'generate');
  const token = await generateThroughForm(page, 'metrics exporter', ['Read metrics', 'Read SLO']);
  assert.match(token, TOKEN_RE);
  await page.getByText('It will not be shown again').waitFor();
  await noSeriousA11yViolations(page, 'show-once panel');
  await page.getByRole('button', { name: 'Copy' }).click();
  await page.getByRole('status').filter({ hasText: 'Copied to the clipboard.' }).waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), token);
  await page.getByRole('button', { name: 'Done' }).click();
  await page.waitForURL('**/personal-access-tokens');
  const row = page.getByRole('row', { name: /metrics exporter/ });
  await row.waitFor();
  await row.getByText('2 scopes').click();
  await row.getByText('metrics.read').waitFor();
  await row.getByText('slo.read').waitFor();
  await noSeriousA11yViolations(page, 'token list');
  await page.reload();
  await page.getByRole('row', { name: /metrics exporter/ }).waitFor();
  const secret = token.split('.')[2];
  assert.equal((await page.content()).includes(secret), false);
  const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }) + JSON.stringify(history.state));
  assert.equal(stored.includes(secret), false);
});

run('leaving the panel before copying asks first', async (page) => {
  await signIn(page, 'alice');
  await generateThroughForm(page, 'uncopied', ['Read entities']);
  const messages = [];
  page.once('dialog', (d) => { messages.push(d.message()); d.dismiss(); });
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Personal access tokens' }).click();
  assert.match(messages[0] ?? '', /not copied/);
  assert.match(page.url(), /\/personal-access-tokens\/new$/);
  await page.getByLabel('Token', { exact: true }).waitFor();
  page.once('dialog', (d) => d.accept());
  await page.getByRole('button', { name: 'Done' }).click();
  await page.waitForURL('**/personal-access-tokens');

  // The browser's Back within the console asks too; declining keeps the token and its address.
  await page.getByRole('link', { name: 'Generate new token' }).first().click();
  await fillAndGenerate(page, 'uncopied too', ['Read entities']);
  // The prompt comes from the page's popstate handler, after goBack has returned.
  const answer = (accept) => new Promise((resolve, reject) => {
    const none = setTimeout(() => reject(new Error('Back did not ask before leaving')), 10_000);
    page.once('dialog', async (d) => {
      clearTimeout(none);
      messages.push(d.message());
      await (accept ? d.accept() : d.dismiss());
      resolve();
    });
  });
  let answered = answer(false);
  await page.goBack();
  await answered;
  assert.match(messages[1] ?? '', /not copied/);
  await page.waitForURL(/\/personal-access-tokens\/new$/);
  await page.getByLabel('Token', { exact: true }).waitFor();
  // Agreeing leaves.
  answered = answer(true);
  await page.goBack();
  await answered;
  assert.match(messages[2] ?? '', /not copied/);
  await page.waitForURL(/\/personal-access-tokens$/);
  await page.getByRole('row', { name: /uncopied too/ }).waitFor();
  assert.equal(await page.getByLabel('Token', { exact: true }).count(), 0);
});

run('scopes the user lacks are disabled with the reason', async (page) => {
  await signIn(page, 'alice');
  await page.goto('/personal-access-tokens/new');
  assert.equal(await scope(page, 'Read metrics').isEnabled(), true);
  const write = scope(page, 'Write metrics');
  assert.equal(await write.isDisabled(), true);
  await page.getByText("you don't have this permission").first().waitFor();
  await page.getByRole('button', { name: 'Select all available scopes in Metrics' }).click();
  assert.equal(await scope(page, 'Read metrics').isChecked(), true);
  assert.equal(await write.isChecked(), false);
});

run('a user without permissions sees every scope disabled', async (page) => {
  await signIn(page, 'bob');
  await page.goto('/personal-access-tokens/new');
  const boxes = page.getByRole('checkbox');
  await boxes.first().waitFor();
  assert.equal(await boxes.count(), 18);
  for (let i = 0; i < 18; i += 1) assert.equal(await boxes.nth(i).isDisabled(), true);
});

run('validation errors are shown at their fields', async (page) => {
  await signIn(page, 'alice');
  await page.goto('/personal-access-tokens/new');
  await page.getByRole('button', { name: 'Generate token' }).click();
  await page.getByText('Enter a name that says what the token is for.').waitFor();
  await page.getByText('Select at least one scope.').waitFor();
  assert.equal(await page.getByLabel('Token name').getAttribute('aria-invalid'), 'true');
  await page.getByLabel('Token name').fill('x'.repeat(101));
  await page.getByText('Use at most 100 characters.').waitFor();
  await page.getByLabel('Token name').fill('fine');
  await scope(page, 'Read metrics').check();
  await page.getByLabel('Custom date').check();
  await page.getByLabel('Expires on').fill('2020-01-01');
  await page.getByText('Choose a date in the future.').waitFor();
});

run('a token name with markup is shown as text', async (page) => {
  await signIn(page, 'alice');
  let alerted = false;
  page.on('dialog', (d) => { alerted = true; d.dismiss(); });
  const name = '<img src=x onerror=alert(1)>';
  await generateThroughForm(page, name, ['Read problems']);
  await page.getByRole('heading', { name: `Your new token “${name}”` }).waitFor();
  await page.getByRole('button', { name: 'Copy' }).click();
  await page.getByRole('button', { name: 'Done' }).click();
  const cell = page.getByRole('rowheader', { name });
  await cell.waitFor();
  assert.equal(await cell.textContent(), name);
  assert.equal(await page.locator('table img').count(), 0);
  assert.equal(alerted, false);
});

run('disable, enable and delete with confirmation', async (page) => {
  await signIn(page, 'alice');
  await generateThroughForm(page, 'to toggle', ['Read metrics']);
  await page.getByRole('button', { name: 'Copy' }).click();
  await page.getByRole('button', { name: 'Done' }).click();
  const row = page.getByRole('row', { name: /to toggle/ });
  const toggle = row.getByRole('switch', { name: 'Token “to toggle” enabled' });
  assert.equal(await toggle.getAttribute('aria-checked'), 'true');
  await toggle.click();
  await row.getByText('Disabled').waitFor();
  await page.reload();
  const reloaded = page.getByRole('row', { name: /to toggle/ }).getByRole('switch');
  assert.equal(await reloaded.getAttribute('aria-checked'), 'false');
  await reloaded.click();
  await page.getByRole('row', { name: /to toggle/ }).getByText('Enabled').waitFor();

  await page.getByRole('button', { name: 'Delete token “to toggle”' }).click();
  const dialog = page.getByRole('dialog', { name: 'Delete “to toggle”?' });
  await dialog.waitFor();
  await noSeriousA11yViolations(page, 'delete dialog');
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'hidden' });
  await page.getByRole('row', { name: /to toggle/ }).waitFor();
  await page.getByRole('button', { name: 'Delete token “to toggle”' }).click();
  await dialog.getByRole('button', { name: 'Delete token' }).click();
  await page.getByRole('row', { name: /to toggle/ }).waitFor({ state: 'detached' });
  await page.reload();
  await page.getByRole('heading', { name: 'Personal access tokens' }).waitFor();
  assert.equal(await page.getByRole('row', { name: /to toggle/ }).count(), 0);
});

run('the whole generate flow with the keyboard alone', async (page) => {
  await signIn(page, 'alice');
  await page.goto('/personal-access-tokens/new');
  await page.getByLabel('Token name').focus();
  await page.keyboard.type('keyboard only');
  // Tab to the first available scope and tick it with Space.
  for (let i = 0; i < 40; i += 1) {
    await page.keyboard.press('Tab');
    if (await page.evaluate(() => document.activeElement?.id === 'scope-apiTokens-read')) break;
  }
  await page.keyboard.press('Space');
  assert.equal(await scope(page, 'Read API tokens').isChecked(), true);
  await page.getByLabel('Token name').focus();
  await page.keyboard.press('Enter');
  const field = page.getByLabel('Token', { exact: true });
  await field.waitFor();
  assert.match(await field.inputValue(), TOKEN_RE);
  for (let i = 0; i < 10; i += 1) {
    await page.keyboard.press('Tab');
    if (await page.evaluate(() => document.activeElement?.textContent === 'Copy')) break;
  }
  await page.keyboard.press('Enter');
  await page.getByRole('status').filter({ hasText: 'Copied' }).waitFor();
  await page.keyboard.press('Tab');
  await page.keyboard.press('Enter');
  await page.waitForURL('**/personal-access-tokens');
  await page.getByRole('row', { name: /keyboard only/ }).waitFor();
});

run('admins reach token settings from the navigation', async (page) => {
  await signIn(page, 'admin');
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Token settings' }).click();
  await page.waitForURL('**/settings/integration/token-settings');
  await page.getByRole('heading', { name: 'Token settings' }).waitFor();
  await page.getByRole('switch', { name: 'Enable personal access tokens' }).waitFor();
  await noSeriousA11yViolations(page, 'token settings');
  await page.reload();
  await page.getByRole('heading', { name: 'Token settings' }).waitFor();
});

run('works at 360 px wide', async (page) => {
  await signIn(page, 'alice');
  await page.goto('/personal-access-tokens/new');
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `page scrolls sideways by ${overflow}px`);
}, { viewport: { width: 360, height: 740 } });
