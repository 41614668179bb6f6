// A screenshot of each page in light and dark. `make screenshots` writes them to
// docs/screenshots/ for the README; a plain test run writes them under target/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, launchBrowser, withPage, signIn, ARTIFACTS } from './harness.mjs';

const OUT = process.env.SCREENSHOT_DIR ?? join(ARTIFACTS, 'screenshots');
let server;
let browser;
before(async () => { server = await startServer(); browser = await launchBrowser(); });
after(async () => { await browser?.close(); await server?.stop(); });

for (const scheme of ['light', 'dark']) {
  test(`screenshots of every page (${scheme})`, () => withPage(browser, server, `screenshots-${scheme}`, async (page) => {
    mkdirSync(OUT, { recursive: true });
    const shot = async (name) => {
      // From the top: a full-page shot of a scrolled page puts the sticky top bar midway.
      await page.evaluate(() => { document.activeElement?.blur(); window.scrollTo(0, 0); });
      const path = join(OUT, `${name}-${scheme}.png`);
      await page.screenshot({ path, fullPage: true });
      assert.ok(statSync(path).size > 5_000, `${path} is a real picture`);
    };
    await page.goto('/login');
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await shot('login');
    await signIn(page, 'alice');
    await page.goto('/personal-access-tokens/new');
    await page.getByLabel('Token name').fill(`Grafana dashboards (${scheme})`);
    await page.getByRole('checkbox', { name: /^Read metrics / }).check();
    await page.getByRole('checkbox', { name: /^Read SLO / }).check();
    await shot('generate');
    await page.getByRole('button', { name: 'Generate token' }).click();
    await page.getByLabel('Token', { exact: true }).waitFor();
    await page.getByRole('button', { name: 'Copy' }).click();
    await page.getByText('Copied to the clipboard.').waitFor();
    await shot('show-once');
    await page.getByRole('button', { name: 'Done' }).click();
    await page.getByRole('row', { name: /Grafana dashboards/ }).first().waitFor();
    await page.getByRole('button', { name: /User menu for/ }).click();
    await shot('tokens');
    await page.keyboard.press('Escape');
    await page.goto('/nowhere');
    await page.getByRole('heading', { name: 'Page not found' }).waitFor();
    await shot('not-found');
    await page.getByRole('button', { name: /User menu for/ }).waitFor({ state: 'detached' }).catch(() => {});
  }, { colorScheme: scheme }));
}

test('screenshots of the administrators\' pages (light and dark)', async () => {
  for (const scheme of ['light', 'dark']) {
    await withPage(browser, server, `settings-${scheme}`, async (page) => {
      await signIn(page, 'admin');
      const pages = [
        ['token-settings', '/settings/integration/token-settings', '.switch'],
        ['access-tokens', '/settings/access-control/access-tokens', 'table.tokens tbody tr'],
        ['users', '/settings/access-control/users', 'table.users tbody tr'],
        ['audit-log', '/settings/access-control/audit-log', 'table.audit tbody tr'],
      ];
      for (const [name, path, ready] of pages) {
        await page.goto(path);
        await page.locator(ready).first().waitFor();
        const file = join(OUT, `${name}-${scheme}.png`);
        await page.screenshot({ path: file, fullPage: true });
        assert.ok(statSync(file).size > 5_000);
      }
    }, { colorScheme: scheme });
  }
});
