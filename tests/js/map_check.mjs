// Loads the map page in Debian's Chromium through playwright-core (no
// browser download: executablePath) and waits, in real time, for the page
// to write what MapLibre rendered into the DOM (body[data-rendered]) or an
// error (body[data-error], shown in the page's panel).
// Prints a JSON summary (with location.hash) and saves a screenshot.
// Exit 0 when points > 0 and no error; with --expect-error REGEX, exit 0 when
// the page shows an error matching REGEX in its panel instead; with
// --zoom-in, also zooms in with the keyboard and checks that the URL hash
// follows the view (hash_after, zoom_after in the summary).
// Usage: node map_check.mjs CHROMIUM URL SCREENSHOT.png [TIMEOUT_S] [--expect-error REGEX] [--zoom-in]
import { chromium } from 'playwright-core';

const args = process.argv.slice(2);
const opt = (name) => { const i = args.indexOf(name); return i < 0 ? null : args.splice(i, 2)[1]; };
const flag = (name) => { const i = args.indexOf(name); if (i >= 0) args.splice(i, 1); return i >= 0; };
const expectError = opt('--expect-error');
const zoomIn = flag('--zoom-in');
const [exe, url, shot, tmo = '90'] = args;
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
  const wait = (fn, arg) => page.waitForFunction(fn, arg, { timeout: +tmo * 1000 })
    .then(() => true, (e) => { errors.push('timeout: ' + e.message.split('\n')[0]); return false; });
  await wait(() => document.body.dataset.rendered || document.body.dataset.error);
  const state = () => page.evaluate(() => ({
    ...document.body.dataset,
    status: document.getElementById('status').textContent,
    status_visible: document.getElementById('status').getBoundingClientRect().height > 0,
    hash: location.hash,
  }));
  const r = await state();
  if (zoomIn && r.rendered && !r.error) {
    // the keyboard handler needs the focus on the map's canvas
    await page.focus('.maplibregl-canvas');
    await page.keyboard.press('Equal');
    if (await wait((h) => location.hash !== h && +location.hash.slice(1).split('/')[0] > 0, r.hash)) {
      await page.waitForTimeout(1000);  // the hash is updated while the zoom animates
      const r2 = await state();
      r.hash_after = r2.hash;
      r.zoom_after = r2.hash.slice(1).split('/')[0];
    }
  }
  await page.screenshot({ path: shot });
  console.log(JSON.stringify({ ...r, errors: errors.slice(0, 5) }));
  if (expectError) {
    code = r.error && new RegExp(expectError).test(r.error) && r.status_visible && r.status.includes(r.error) ? 0 : 1;
  } else {
    code = +(r.rendered || 0) > 0 && !r.error ? 0 : 1;
    if (zoomIn && !(+r.zoom_after > +r.zoom)) code = 1;
  }
} finally {
  await browser.close();
}
process.exit(code);
