// Loads the map page in Debian's Chromium through playwright-core (no
// browser download: executablePath) and waits, in real time, for the page
// to write what MapLibre rendered into the DOM (body[data-rendered]).
// Prints a JSON summary and saves a screenshot; exit 0 when points > 0.
// Usage: node map_check.mjs CHROMIUM URL SCREENSHOT.png [TIMEOUT_S]
import { chromium } from 'playwright-core';

const [exe, url, shot, tmo = '90'] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: exe,
  args: ['--no-sandbox', '--disable-dev-shm-usage', '--use-angle=swiftshader', '--enable-unsafe-swiftshader'],
});
let code = 1;
try {
  const page = await browser.newPage({ viewport: { width: 1000, height: 700 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  await page.goto(url);
  try {
    await page.waitForFunction(() => document.body.dataset.rendered || document.body.dataset.error, null, { timeout: +tmo * 1000 });
  } catch (e) { errors.push('timeout: ' + e.message.split('\n')[0]); }
  const r = await page.evaluate(() => ({ ...document.body.dataset, status: document.getElementById('status').textContent }));
  await page.screenshot({ path: shot });
  console.log(JSON.stringify({ ...r, errors: errors.slice(0, 5) }));
  code = +(r.rendered || 0) > 0 && !r.error ? 0 : 1;
} finally {
  await browser.close();
}
process.exit(code);
