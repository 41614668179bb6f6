// Headless Chromium (Debian's) through Playwright: what a page downloads, and how long it
// takes from navigation start until it is usable.
import { chromium } from 'playwright-core';
import http from 'node:http';

const LAUNCH = {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
};

/** A new browser each time: Playwright gives every launch a fresh, empty profile. */
export async function withBrowser(fn) {
  const browser = await chromium.launch(LAUNCH);
  try {
    const context = await browser.newContext();
    return await fn(context, await context.newPage());
  } finally {
    await browser.close();
  }
}

/** Signs the context in through the API, so the next navigation is already signed in. */
export async function signInContext(context, base, username, password) {
  const r = await context.request.post(`${base}/api/session`, { data: { username, password } });
  if (r.status() !== 200) throw new Error(`sign in: ${r.status()}`);
}

// Records, from the first byte of the document, the moment `ready()` first holds, at the
// animation frame after it (the frame that shows it).
const readyProbe = (expression) => `
  (() => {
    const ready = () => { try { return ${expression}; } catch { return false; } };
    const mark = () => requestAnimationFrame(() => { window.__benchReady ??= performance.now(); });
    const observer = new MutationObserver(() => { if (ready()) { observer.disconnect(); mark(); } });
    observer.observe(document, { childList: true, subtree: true, attributes: true, characterData: true });
  })();`;

export const SIGN_IN_READY = "!!document.querySelector('#username') && !document.querySelector('form button[type=submit]').disabled";
export const TABLE_READY = (rows) => `document.querySelectorAll('table.tokens tbody tr').length >= ${rows}`;

/** Milliseconds from navigation start until `expression` holds, optionally throttled. */
export async function timeToReady(context, page, url, expression, throttle) {
  if (throttle) {
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false, latency: throttle.rttMs,
      downloadThroughput: throttle.kbitPerS * 1000 / 8, uploadThroughput: throttle.kbitPerS * 1000 / 8,
    });
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: throttle.cpuSlowdown });
  }
  await page.addInitScript(readyProbe(expression));
  await page.goto(url, { waitUntil: 'commit' });
  await page.waitForFunction(() => window.__benchReady !== undefined, null, { timeout: 60_000, polling: 50 });
  return page.evaluate(() => window.__benchReady);
}

/** Same-origin, non-API URLs a page loads until `expression` holds. */
export async function assetsOf(context, page, url, expression) {
  const urls = new Set();
  page.on('request', (request) => {
    const u = new URL(request.url());
    if (u.origin === new URL(url).origin && !u.pathname.startsWith('/api/')) urls.add(u.href);
  });
  await page.addInitScript(readyProbe(expression));
  await page.goto(url);
  await page.waitForFunction(() => window.__benchReady !== undefined, null, { timeout: 60_000 });
  return [...urls];
}

/** Bytes on the wire for `url` with this Accept-Encoding (body as sent, not decoded). */
export function wireBytes(url, encoding) {
  return new Promise((resolve, reject) => {
    http.get(url, { headers: { 'Accept-Encoding': encoding } }, (res) => {
      let bytes = 0;
      res.on('data', (chunk) => { bytes += chunk.length; });
      res.on('end', () => resolve({ bytes, encoding: res.headers['content-encoding'] ?? 'identity', status: res.statusCode }));
    }).on('error', reject);
  });
}
