// The map page's search box against `geoflux serve`, in Debian's Chromium
// through playwright-core: once the map has rendered, the box is shown (the
// page found the API), typing gives suggestions from /completion, picking
// one flies there, and Enter on free text flies to /search's first answer.
// Prints a JSON summary and saves a screenshot; exit 0 when all of that
// happened.
// Usage: node search_check.mjs CHROMIUM URL SCREENSHOT.png TEXT [TIMEOUT_S]
import { chromium } from 'playwright-core';

const [exe, url, shot, text, tmo = '90'] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: exe,
  args: ['--no-sandbox', '--disable-dev-shm-usage', '--use-angle=swiftshader', '--enable-unsafe-swiftshader'],
});
const out = { errors: [] };
let code = 1;
try {
  const page = await browser.newPage({ viewport: { width: 1000, height: 700 } });
  page.on('pageerror', (e) => out.errors.push(String(e)));
  const wait = (fn, arg) => page.waitForFunction(fn, arg, { timeout: +tmo * 1000 })
    .then(() => true, (e) => { out.errors.push('timeout: ' + e.message.split('\n')[0]); return false; });
  await page.goto(url);
  await wait(() => document.body.dataset.rendered || document.body.dataset.error);
  await wait(() => !document.getElementById('search').hidden);
  out.box = await page.evaluate(() => !document.getElementById('search').hidden);
  await page.fill('#q', text);
  await wait(() => Number(document.body.dataset.suggestions) > 0);
  out.suggestions = await page.evaluate(() => [...document.querySelectorAll('#suggestions option')].map((o) => o.value));
  // picking a suggestion: the input's value becomes the option's
  await page.fill('#q', out.suggestions[0] || '');
  await wait(() => document.body.dataset.found);
  out.picked = await page.evaluate(() => document.body.dataset.found);
  // free text and Enter: /search
  await page.evaluate(() => { delete document.body.dataset.found; });
  await page.fill('#q', text + ' ');
  await page.press('#q', 'Enter');
  await wait(() => document.body.dataset.found);
  out.entered = await page.evaluate(() => document.body.dataset.found);
  await page.waitForTimeout(1500); // the flight
  await page.screenshot({ path: shot });
  code = out.box && out.suggestions.length && out.picked && out.entered && out.entered !== 'none' ? 0 : 1;
} catch (e) {
  out.errors.push(String(e));
} finally {
  await browser.close();
}
console.log(JSON.stringify(out));
process.exit(code);
