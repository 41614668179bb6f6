// The administrators' pages (issue 14): everyone's tokens, users, the audit log, against
// the real server. Each test makes the data it needs through the API.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, withPage, signIn, a11yViolations, noSeriousA11yViolations, apiSession, PASSWORD, checkAt } from './harness.mjs';

let server;
let browser;
before(async () => { server = await startServer(); browser = await launchBrowser(); });
after(async () => { await browser?.close(); await server?.stop(); });

const run = (name, fn, options) => test(name, () => withPage(browser, server, name, fn, options));

const check = (token, scope) => checkAt(server.base, token, scope);

const tokenRows = (page) => page.locator('table.tokens tbody tr');

run('an admin finds a user\'s tokens by owner and scope and bulk-disables three; the API refuses them', async (page) => {
  const alice = await apiSession(server.base, 'alice');
  const admin = await apiSession(server.base, 'admin');
  const made = [];
  for (const n of [1, 2, 3]) made.push(await alice.token(`bulk-${n}`, ['metrics.read']));
  await alice.token('bulk-other-scope', ['slo.read']);
  await admin.token('bulk-admin', ['metrics.read']);
  for (const t of made) assert.equal((await check(t.token)).status, 204);

  await signIn(page, 'admin');
  // From everyone's build into the administrators' build through the navigation.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Access tokens', exact: true }).click();
  await page.waitForURL('**/settings/access-control/access-tokens');
  await page.getByRole('heading', { name: 'Access tokens' }).waitFor();
  await page.getByLabel('Owner', { exact: true }).fill('alice');
  await page.getByRole('button', { name: 'Apply' }).click();
  await page.getByLabel('Scope', { exact: true }).selectOption('metrics.read');
  await page.locator('.pager').getByText('1–3 of 3').waitFor();
  const names = await tokenRows(page).locator('th.name').allTextContents();
  assert.deepEqual(names.sort(), ['bulk-1', 'bulk-2', 'bulk-3']);
  await noSeriousA11yViolations(page, 'access tokens');

  await page.getByRole('checkbox', { name: 'Select all tokens on this page' }).check();
  await page.getByText('3 tokens selected').waitFor();
  await page.getByRole('button', { name: 'Disable selected' }).click();
  const dialog = page.getByRole('dialog', { name: 'Disable 3 tokens?' });
  await dialog.getByRole('button', { name: 'Disable 3 tokens' }).click();
  await page.getByTestId('bulk-report').getByText('3 tokens disabled.').waitFor();
  for (const t of made) assert.equal((await check(t.token)).status, 401, 'a disabled token is refused');
  // The list, read again, shows the three switched off (and the selection emptied).
  await page.waitForFunction(() => {
    const switches = [...document.querySelectorAll('table.tokens tbody [role="switch"]')];
    return switches.length === 3 && switches.every((s) => s.getAttribute('aria-checked') === 'false');
  });
  assert.equal(await page.getByText('3 tokens selected').isVisible(), false);
});

run('a bulk delete reports each token that could not be deleted', async (page) => {
  const alice = await apiSession(server.base, 'alice');
  const keep = await alice.token('partial-a', ['metrics.read']);
  const gone = await alice.token('partial-b', ['metrics.read']);
  await signIn(page, 'admin');
  await page.goto('/settings/access-control/access-tokens');
  await page.getByLabel('Owner', { exact: true }).fill('alice');
  await page.getByRole('button', { name: 'Apply' }).click();
  await page.getByRole('checkbox', { name: 'Select token “partial-a”' }).check();
  await page.getByRole('checkbox', { name: 'Select token “partial-b”' }).check();
  // Someone else deletes one of them meanwhile.
  assert.equal((await alice.call('DELETE', `/api/v2/apiTokens/${gone.id}`)).status, 204);
  await page.getByRole('button', { name: 'Delete selected' }).click();
  await page.getByRole('dialog', { name: 'Delete 2 tokens?' }).getByRole('button', { name: 'Delete 2 tokens' }).click();
  const report = page.getByTestId('bulk-report');
  await report.getByText('1 token deleted.').waitFor();
  await report.getByText('1 token could not be deleted:').waitFor();
  assert.match(await report.locator('li').textContent(), new RegExp(`partial-b \\(${gone.id.replace(/\./g, '\\.')}\\): `));
  assert.equal((await check(keep.token)).status, 401);
});

run('an admin generates an environment token with the show-once panel', async (page) => {
  await signIn(page, 'admin');
  await page.goto('/settings/access-control/access-tokens');
  await page.getByRole('link', { name: 'Generate environment token' }).click();
  await page.getByRole('heading', { name: 'Generate environment token' }).waitFor();
  await page.getByLabel('Token name').fill('env exporter');
  await page.getByRole('checkbox', { name: /^Read metrics / }).check();
  await page.getByRole('button', { name: 'Generate token' }).click();
  const token = await page.getByLabel('Token', { exact: true }).inputValue();
  assert.equal((await check(token)).status, 204);
  await page.getByRole('button', { name: 'Copy' }).click();
  await page.getByRole('button', { name: 'Done' }).click();
  await page.getByLabel('Type', { exact: true }).selectOption('environment');
  // Only environment tokens are left once the filter applies (alice's PATs are on page one
  // before it).
  await page.waitForFunction(() => {
    const types = [...document.querySelectorAll('table.tokens tbody td[data-label="Type"]')].map((c) => c.textContent);
    return types.length > 0 && types.every((t) => t === 'Environment');
  });
  await page.getByRole('row', { name: /env exporter/ }).waitFor();
});

/** Presses Tab until the focused element matches `selector` (and reads `text`, when
 * given), at most 80 times. */
async function tabTo(page, selector, text) {
  for (let i = 0; i < 80; i++) {
    const here = await page.evaluate(([s, t]) => {
      const e = document.activeElement;
      return !!e?.matches(s) && (t === undefined || e.textContent.trim() === t);
    }, [selector, text]);
    if (here) return;
    await page.keyboard.press('Tab');
  }
  throw new Error(`Tab never reached ${selector} ${text ?? ''}`);
}

run('an admin adds a user by keyboard; they sign in and may grant only the two permissions given', async (page) => {
  await signIn(page, 'admin');
  await page.goto('/settings/access-control/users');
  await page.getByRole('heading', { name: 'Users' }).waitFor();
  await noSeriousA11yViolations(page, 'users');
  await tabTo(page, 'a[href="/settings/access-control/users/new"]');
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: 'Add user' }).waitFor();
  await tabTo(page, '#user-username');
  await page.keyboard.type('not valid!');
  await tabTo(page, 'button[type="submit"]');
  await page.keyboard.press('Enter');
  // The server's word, next to the field.
  await page.locator('#user-username-error').filter({ hasText: /./ }).waitFor();
  assert.equal(await page.getByLabel('Username').getAttribute('aria-invalid'), 'true');
  await noSeriousA11yViolations(page, 'add user with an error');

  await tabTo(page, '#user-username');
  await page.keyboard.press('ControlOrMeta+a');
  await page.keyboard.type('carol');
  await page.keyboard.press('Tab');
  await page.keyboard.type('Carol Checker');
  for (const id of ['#scope-metrics-read', '#scope-slo-read']) {
    await tabTo(page, id);
    await page.keyboard.press('Space');
  }
  await tabTo(page, 'button[type="submit"]');
  await page.keyboard.press('Enter');
  const password = await page.getByLabel('Password', { exact: true }).inputValue();
  assert.ok(password.length >= 16, 'a generated password');
  await tabTo(page, 'button', 'Copy');
  await page.keyboard.press('Enter');
  await page.getByText('Copied to the clipboard.').waitFor();
  await tabTo(page, 'button', 'Done');
  await page.keyboard.press('Enter');
  await page.getByRole('row', { name: /carol/ }).waitFor();

  const context = await browser.newContext({ baseURL: server.base });
  try {
    const carol = await context.newPage();
    await signIn(carol, 'carol', password);
    await carol.goto('/personal-access-tokens/new');
    await carol.getByLabel('Token name').waitFor();
    const enabled = await carol.locator('.scope-groups input[type="checkbox"]:not([disabled])').evaluateAll((els) => els.map((e) => e.value));
    assert.deepEqual(enabled.sort(), ['metrics.read', 'slo.read']);
  } finally {
    await context.close();
  }
});

run('an admin resets a password: the old one fails, the new one works', async (page) => {
  await signIn(page, 'admin');
  await page.goto('/settings/access-control/users');
  await page.getByRole('button', { name: 'Reset the password of bob' }).click();
  await page.getByRole('dialog', { name: 'Reset the password of bob?' }).getByRole('button', { name: 'Reset password' }).click();
  const password = await page.getByLabel('Password', { exact: true }).inputValue();
  const signInAs = (pw) => fetch(`${server.base}/api/session`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'bob', password: pw }),
  });
  assert.equal((await signInAs(PASSWORD)).status, 401);
  assert.equal((await signInAs(password)).status, 200);
});

run('editing a user changes only what was edited (permissions of admins, zones with commas)', async (page) => {
  const admin = await apiSession(server.base, 'admin');
  const get = async (u) => (await admin.call('GET', `/api/v2/tessera/users/${u}`)).json();
  const zones = ['EU, West', 'Production'];
  assert.equal((await admin.call('PUT', '/api/v2/tessera/users/alice', { managementZones: zones })).status, 200);
  const [aliceBefore, adminBefore] = [await get('alice'), await get('admin')];
  await signIn(page, 'admin');
  for (const [username, name] of [['alice', 'Alice A.'], ['admin', 'The Administrator']]) {
    await page.goto(`/settings/access-control/users/${username}`);
    await page.getByRole('heading', { name: `Edit ${username}` }).waitFor();
    await page.getByLabel('Display name').fill(name);
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.waitForURL('**/settings/access-control/users');
    const after = await get(username);
    const before = username === 'alice' ? aliceBefore : adminBefore;
    assert.deepEqual(after, { ...before, displayName: name }, `only ${username}'s display name changed`);
  }
  assert.deepEqual((await get('alice')).managementZones, zones);
});

run('an admin cannot remove their own administrator rights: the reason is next to the field', async (page) => {
  await signIn(page, 'admin');
  await page.goto('/settings/access-control/users/admin');
  await page.getByRole('heading', { name: 'Edit admin' }).waitFor();
  await page.locator('#user-admin').uncheck();
  await page.getByRole('button', { name: 'Save changes' }).click();
  await page.locator('#user-admin-error').getByText(/cannot remove your own administrator rights/).waitFor();
});

run('the audit log shows a change with its before and after', async (page) => {
  const alice = await apiSession(server.base, 'alice');
  const t = await alice.token('audited', ['metrics.read']);
  assert.equal((await alice.call('PUT', `/api/v2/apiTokens/${t.id}`, { enabled: false })).status, 204);
  await signIn(page, 'admin');
  await page.goto('/settings/access-control/audit-log');
  await page.getByRole('heading', { name: 'Audit log' }).waitFor();
  await page.getByLabel('Entity', { exact: true }).fill(t.id);
  await page.getByRole('button', { name: 'Apply' }).click();
  // Rows of the audit table, each with every text in `texts`, and exactly `n` of them.
  const rowsAre = (n, texts) => page.waitForFunction(([n, texts]) => {
    const rows = [...document.querySelectorAll('table.audit tbody tr')];
    return rows.length === n && rows.every((r) => texts.every((t) => r.textContent.includes(t)));
  }, [n, texts]);
  await rowsAre(2, [t.id, 'alice']);
  await page.getByLabel('Event type', { exact: true }).selectOption('UPDATE');
  await rowsAre(1, [t.id, 'UPDATE', 'enabled: true → false']);
  await noSeriousA11yViolations(page, 'audit log');
  await page.getByLabel('Event type', { exact: true }).selectOption('CREATE');
  await rowsAre(1, [t.id, 'CREATE', 'token.generated']);
});

run('people who are not administrators get "no access" on every admin page', async (page) => {
  await signIn(page, 'alice');
  assert.equal(await page.getByRole('link', { name: 'Access tokens', exact: true }).count(), 0);
  for (const path of ['/settings/access-control/access-tokens', '/settings/access-control/users', '/settings/access-control/audit-log']) {
    await page.goto(path);
    await page.getByRole('heading', { name: "You don't have access to this page" }).waitFor();
    await noSeriousA11yViolations(page, `no access at ${path}`);
  }
});

run('every page with data in it fits 360 px without scrolling sideways', async (page) => {
  const alice = await apiSession(server.base, 'alice');
  await alice.token('A rather long token name for the phone-sized window', ['metrics.read', 'slo.read']);
  await alice.token('second', ['metrics.read']);
  const sideways = () => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  await signIn(page, 'alice');
  await page.getByRole('row', { name: /second/ }).waitFor();
  assert.ok((await sideways()) <= 0, `personal tokens scroll sideways by ${await sideways()}px`);
  await page.getByRole('button', { name: /User menu for/ }).click();
  await page.getByRole('menuitem', { name: 'Sign out' }).click();
  await signIn(page, 'admin');
  const pages = [
    ['/personal-access-tokens/new', 'Generate new token'],
    ['/settings/access-control/access-tokens', 'Access tokens'],
    ['/settings/access-control/users', 'Users'],
    ['/settings/access-control/audit-log', 'Audit log'],
    ['/settings/integration/token-settings', 'Token settings'],
  ];
  for (const [path, heading] of pages) {
    await page.goto(path);
    await page.getByRole('heading', { name: heading, exact: true }).waitFor();
    await page.locator('table.tokens tbody tr, .scope-groups, .switch').first().waitFor();
    assert.ok((await sideways()) <= 0, `${path} scrolls sideways by ${await sideways()}px`);
  }
}, { viewport: { width: 360, height: 740 } });

run('the generate pages have no axe findings of any impact (heading order included)', async (page) => {
  await signIn(page, 'admin');
  for (const path of ['/personal-access-tokens/new', '/settings/access-control/access-tokens/new']) {
    await page.goto(path);
    await page.getByLabel('Token name').waitFor();
    assert.deepEqual(await a11yViolations(page, ['minor', 'moderate', 'serious', 'critical']), [], `axe on ${path}`);
  }
});
