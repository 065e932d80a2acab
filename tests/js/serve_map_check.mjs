// The map page of `geoflux serve SITE` in Debian's Chromium through
// playwright-core, as a person uses it: open the server's root (redirected
// to the map), see the communes with their names and the addresses, type an
// address in the search box and press Enter (the map flies to it), click an
// address point (a popup shows its attributes). Every request the browser
// makes is recorded: all must go to the local server.
// Prints a JSON summary; screenshots OUTDIR/{overview,search,popup}.png.
// Exit 0 when every check passed, 1 otherwise (the summary's `failed` says
// which).
// Usage: node serve_map_check.mjs CHROMIUM BASE_URL OUTDIR SEARCH_TEXT [TIMEOUT_S]
import { chromium } from 'playwright-core';

const [exe, base, outdir, text, tmo = '120'] = process.argv.slice(2);
const origin = new URL(base).origin;
const out = { errors: [], requests: 0, foreign: [], failed: [] };
const check = (ok, what) => { if (!ok) out.failed.push(what); return ok; };
const browser = await chromium.launch({
  executablePath: exe,
  args: ['--no-sandbox', '--disable-dev-shm-usage', '--use-angle=swiftshader', '--enable-unsafe-swiftshader'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1000, height: 700 } });
  page.on('pageerror', (e) => out.errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') out.errors.push(m.text()); });
  // every request, whatever asked for it (page, MapLibre's workers, fetch)
  page.on('request', (r) => {
    out.requests++;
    const u = r.url();
    if (!(u.startsWith(origin + '/') || u.startsWith('data:') || u.startsWith('blob:'))) out.foreign.push(u);
  });
  const wait = (what, fn, arg) => page.waitForFunction(fn, arg, { timeout: +tmo * 1000 })
    .then(() => true, () => { out.errors.push('timeout: ' + what); return false; });
  const data = () => page.evaluate(() => ({ ...document.body.dataset }));

  // 1. the server's root is the map; communes with names, addresses
  await page.goto(base + '/');
  out.url = page.url();
  check(new URL(out.url).pathname === '/carte/', '/ leads to the map page /carte/');
  await wait('rendered', () => document.body.dataset.rendered || document.body.dataset.error);
  await wait('labels and points', () => +document.body.dataset.labels > 0 && +document.body.dataset.rendered > 0);
  out.overview = await data();
  check(!out.overview.error, 'no error on the page');
  check(+out.overview.rendered > 0, 'addresses rendered');
  check(+out.overview.polygons > 0, 'commune polygons rendered');
  check(+out.overview.labels > 0, 'commune names rendered (the label layer placed text)');
  check((out.overview.legend || '').includes('Communes') && (out.overview.legend || '').includes('Adresses'),
    'the legend lists the communes and the addresses');
  // a publication's communes carry their coverage: the fills are the choropleth by status
  out.coverage = await page.evaluate(() => [...new Set(window.gfMap.queryRenderedFeatures({ layers: ['communes-fill'] })
    .map((f) => f.properties.status))].sort());
  const known = ['published', 'unchanged', 'rejected', 'conflict', 'missing'];
  check(out.coverage.includes('published') && out.coverage.every((x) => known.includes(x)) &&
    (out.overview.legend || '').includes('statut'), `the coverage choropleth: communes drawn by status (${out.coverage})`);
  out.names = (out.overview.labelNames || '').split('|').filter(Boolean);
  check(out.names.every((n) => n.length > 0) && out.names.length === +out.overview.labels, 'every label placed has a name');
  out.dashboard_link = await page.evaluate(() => {
    const a = document.getElementById('dashboard-link');
    return a ? a.getAttribute('href') : null;
  });
  check(out.dashboard_link && new URL(out.dashboard_link).pathname === '/index.html', 'the map links to the dashboard');
  await page.screenshot({ path: `${outdir}/overview.png` });

  // 2. typing an address and Enter: the map flies to it
  await wait('search box', () => !document.getElementById('search').hidden);
  await page.fill('#q', text);
  await page.press('#q', 'Enter');
  await wait('found', () => document.body.dataset.found);
  out.found = (await data()).found;
  const [, lon, lat] = (out.found || '').split('|').map(Number);
  check(out.found && out.found !== 'none', `the search found "${text}"`);
  await wait('flown there', ([x, y]) => {
    const m = window.gfMap, c = m.getCenter();
    return !m.isMoving() && m.getZoom() > 16 && Math.abs(c.lng - x) < 1e-4 && Math.abs(c.lat - y) < 1e-4;
  }, [lon, lat]);
  out.after_search = await page.evaluate(() => ({
    center: window.gfMap.getCenter().toArray(), zoom: window.gfMap.getZoom(), hash: location.hash,
  }));
  check(out.after_search.zoom > 16 && Math.abs(out.after_search.center[0] - lon) < 1e-4 &&
    Math.abs(out.after_search.center[1] - lat) < 1e-4, 'the map moved to the address found');
  await wait('tiles at the address', () => window.gfMap.areTilesLoaded() && window.gfMap.isStyleLoaded());
  await page.screenshot({ path: `${outdir}/search.png` });

  // 3. a click on an address point: a popup with its attributes (one
  // away from the search's marker, which sits on the map's centre)
  const target = await page.evaluate(() => {
    const m = window.gfMap, c = m.project(m.getCenter());
    for (const f of m.queryRenderedFeatures({ layers: ['points'] })) {
      const p = m.project(f.geometry.coordinates);
      if (Math.hypot(p.x - c.x, p.y - c.y) > 30 && p.x > 300 && p.x < 950 && p.y > 60 && p.y < 650)
        return { x: p.x, y: p.y, properties: f.properties };
    }
    return null;
  });
  check(target, 'an address point to click in view');
  if (target) {
    const box = await page.locator('.maplibregl-canvas').boundingBox();
    await page.mouse.click(box.x + target.x, box.y + target.y);
    await wait('popup', () => document.body.dataset.popup && document.querySelector('.maplibregl-popup'));
    out.popup = JSON.parse((await data()).popup || 'null');
    out.popup_text = await page.evaluate(() => {
      const p = document.querySelector('.maplibregl-popup');
      return p ? p.innerText : '';
    });
    check(out.popup && out.popup.layer === 'points', 'the popup is an address\'s');
    check(out.popup && out.popup_text.includes('cle_interop') && out.popup_text.includes(String(out.popup.properties.cle_interop)) &&
      out.popup_text.includes(String(out.popup.properties.voie_nom)), 'the popup shows the attributes (cle_interop, voie_nom)');
  }
  await page.waitForTimeout(300);
  await page.screenshot({ path: `${outdir}/popup.png` });
} catch (e) {
  out.errors.push(String(e));
  out.failed.push('exception');
} finally {
  await browser.close();
}
check(out.requests > 0 && out.foreign.length === 0, 'no request left the machine');
console.log(JSON.stringify(out, null, 1));
process.exit(out.failed.length ? 1 : 0);
