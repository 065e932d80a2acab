// The coverage dashboard of `geoflux publish` in Debian's Chromium
// (playwright-core, executablePath), opened from disk: SITE/index.html with
// the SITE's data.js. Expectations come from SITE/report.json and
// SITE/communes.geojson, read here, not from the page. Checked:
//  - no request leaves the SITE folder (any other URL is aborted and fails
//    the test), no console error, no page error;
//  - the map draws one SVG path per commune of communes.geojson; hovering
//    one shows its name, clicking it opens its page (#/commune/CODE) with its
//    name, errors by code, reasons;
//  - the run's counts at the top are report.json's (the equipments' too);
//  - the table lists every commune of the report, sorts by a column when its
//    header is clicked (again: the other way), the text and status filters
//    narrow it (and dim the map); a click on a row opens the commune's page;
//  - the certified-share colouring changes the fills and the legend;
//  - names from the data are shown as text, never parsed as HTML;
//  - an unknown code says so.
// With --no-data (a SITE without data.js) only checks that the page says the
// data is missing instead of staying blank. With --base URL the page is
// loaded from URL (a static server of SITE_DIR) instead of file://, and no
// request may leave URL.
// Prints one line per check and a JSON summary; saves screenshots in OUTDIR
// (prefixed with --name NAME when given).
// --filter TEXT: the text typed in the table's filter (default "Toul", for
// the Haute-Garonne fixture); it must match more than one commune and fewer
// than all.
// Usage: node dashboard_check.mjs CHROMIUM SITE_DIR OUTDIR [TIMEOUT_S] [--no-data] [--base URL] [--name NAME] [--filter TEXT]
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

const args = process.argv.slice(2);
const opt = (name) => { const i = args.indexOf(name); return i < 0 ? null : args.splice(i, 2)[1]; };
const flag = (name) => { const i = args.indexOf(name); if (i >= 0) args.splice(i, 1); return i >= 0; };
const noData = flag('--no-data');
const base = opt('--base');
const name = opt('--name');
const filterText = opt('--filter') || 'Toul';
const [exe, site, outdir, tmo = '60'] = args;
const shot = (file) => `${outdir}/${name ? name + '-' : ''}${file}`;
const siteUrl = (base || pathToFileURL(site).href).replace(/\/?$/, '/');

let fails = 0, checks = 0;
const summary = {};
function check(cond, msg) {
  checks++;
  if (cond) console.log('ok: ' + msg);
  else { fails++; console.log('FAIL: ' + msg); }
}

const browser = await chromium.launch({
  executablePath: exe,
  args: ['--no-sandbox', '--disable-dev-shm-usage'],
});
const errors = [], offsite = [], seen = [];
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.setDefaultTimeout(+tmo * 1000);
  page.on('pageerror', (e) => errors.push('pageerror: ' + String(e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push('console: ' + m.text()); });
  page.on('request', (r) => {
    seen.push(r.url());
    if (!r.url().startsWith(siteUrl)) offsite.push(r.url());
  });
  // whatever is not in the SITE folder never goes out
  await page.route((u) => !u.href.startsWith(siteUrl), (r) => r.abort());

  await page.goto(siteUrl + 'index.html');
  await page.waitForFunction(() => document.body.dataset.ready || document.body.dataset.error);

  if (noData) {
    const r = await page.evaluate(() => ({ error: document.body.dataset.error || '',
      visible: !document.getElementById('error').hidden && document.getElementById('error').textContent }));
    check(/data\.js/.test(r.error) && r.visible, `without data.js the page says so: "${r.error}"`);
    await page.screenshot({ path: shot('no-data.png') });
    // the missing script itself is the one console error expected
    const other = errors.filter((e) => !/ERR_FILE_NOT_FOUND/.test(e));
    check(other.length === 0, `no other error (${other.join(' | ')})`);
  } else {
    const report = JSON.parse(readFileSync(`${site}/report.json`, 'utf8'));
    const geo = JSON.parse(readFileSync(`${site}/communes.geojson`, 'utf8'));
    const byCode = new Map(report.communes.map((c) => [c.code, c]));
    summary.load_ms = await page.evaluate(() => Math.round(performance.now()));
    summary.draw_ms = +(await page.evaluate(() => document.body.dataset.drawMs));

    // the map: one path per commune polygon
    const paths = await page.locator('#map svg path.commune').count();
    check(paths === geo.features.length, `map: ${paths} SVG paths for ${geo.features.length} communes in communes.geojson`);
    const fills = await page.evaluate(() => new Set([...document.querySelectorAll('#map path.commune')]
      .map((p) => getComputedStyle(p).fill)).size);
    check(fills === new Set(geo.features.map((f) => f.properties.status)).size,
      `map: one fill per status present (${fills})`);

    // the counts at the top
    for (const [group, vals] of Object.entries(report.counts)) {
      for (const [k, v] of Object.entries(vals)) {
        const loc = page.locator(`[data-count="${group}.${k}"] b`);
        const shown = (await loc.count()) ? (await loc.textContent()).replace(/\D/g, '') : null;
        check(shown === String(v), `counts: ${group}.${k} shows ${shown}, report says ${v}`);
      }
    }
    // the equipments' counts, when the report has equipments
    const eq = report.equipments;
    if (eq && eq.submissions > 0) {
      for (const k of ['rows', 'published', 'rejected', 'duplicates', 'geocoded', 'repaired', 'outside_commune',
        'without_position']) {
        const loc = page.locator(`[data-count="equipments.${k}"] b`);
        const shown = (await loc.count()) ? (await loc.textContent()).replace(/\D/g, '') : null;
        check(shown === String(eq[k]), `counts: equipments.${k} shows ${shown}, report says ${eq[k]}`);
      }
    }

    // the table: every commune, sortable
    const rowCodes = () => page.$$eval('#communes tbody tr', (trs) => trs.map((tr) => tr.dataset.code));
    let codes = await rowCodes();
    check(codes.length === report.communes.length, `table: ${codes.length} rows for ${report.communes.length} communes in report.json`);
    const sortedBy = (cs, key, dir) => {
      const v = cs.map((c) => byCode.get(c)[key]);
      const present = v.filter((x) => x != null);
      const firstNull = v.findIndex((x) => x == null);
      const nullsLast = firstNull < 0 || v.slice(firstNull).every((x) => x == null);
      return nullsLast && present.every((x, i) => i === 0 || dir * (x - present[i - 1]) >= 0) && present.length > 1;
    };
    await page.click('#communes th[data-key="rows"]');
    codes = await rowCodes();
    check(sortedBy(codes, 'rows', 1) && await page.getAttribute('#communes th[data-key="rows"]', 'aria-sort') === 'ascending',
      `table: a click on "Adresses" sorts by rows, ascending (first ${codes.slice(0, 3)})`);
    await page.click('#communes th[data-key="rows"]');
    codes = await rowCodes();
    check(sortedBy(codes, 'rows', -1) && await page.getAttribute('#communes th[data-key="rows"]', 'aria-sort') === 'descending',
      `table: a second click sorts descending (first ${codes.slice(0, 3)})`);
    await page.click('#communes th[data-key="certified_share"]');
    codes = await rowCodes();
    check(sortedBy(codes, 'certified_share', 1), `table: a click on "Certifiées" sorts by certified share (first ${codes.slice(0, 3)})`);

    // the filters
    const fold = (s) => String(s ?? '').normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase();
    const needle = fold(filterText);
    const want = report.communes.filter((c) => [c.code, c.name, c.producer].some((v) => fold(v).includes(needle))).length;
    await page.fill('#filter-text', filterText);
    codes = await rowCodes();
    check(codes.length === want && want > 1 && want < report.communes.length,
      `filter "${filterText}": ${codes.length} rows, ${want} expected`);
    const dim = await page.locator('#map path.commune.dim').count();
    const mapped = geo.features.filter((f) => [f.properties.code, f.properties.name, f.properties.producer]
      .some((v) => fold(v).includes(needle))).length;
    check(dim === geo.features.length - mapped, `filter: the map dims the ${dim} communes left out`);
    await page.fill('#filter-text', '');
    await page.selectOption('#filter-status', 'rejected');
    codes = await rowCodes();
    const rejected = report.communes.filter((c) => c.status === 'rejected').map((c) => c.code);
    check(codes.length === rejected.length && codes.every((c) => rejected.includes(c)),
      `status filter "rejected": ${codes} (${rejected} expected)`);
    // a click on a row opens its commune
    const target = report.communes.find((c) => c.status === 'rejected' && c.reasons.length && byCode.has(c.code));
    await page.click(`#communes tbody tr[data-code="${target.code}"] td:nth-child(3)`);
    await page.waitForFunction((h) => location.hash === h && document.body.dataset.view === 'commune', `#/commune/${target.code}`);
    const reasons = await page.$$eval('#reasons li', (l) => l.map((x) => x.textContent));
    check(JSON.stringify(reasons) === JSON.stringify(target.reasons),
      `table row click opens ${target.code}: its reasons are shown (${reasons.length})`);
    await page.goBack();
    await page.waitForFunction(() => document.body.dataset.view === 'home');
    await page.selectOption('#filter-status', '');
    check((await rowCodes()).length === report.communes.length, 'filters cleared: every commune again');

    // the map: hover shows the name, a click opens the commune's page
    const pick = report.communes.find((c) => Object.keys(c.errors || {}).length && c.status === 'published');
    // a point inside the commune's polygon that the browser hits (polygons can be concave)
    const pointOf = (code) => page.evaluate((c) => {
      const p = document.querySelector(`#map path[data-code="${c}"]`);
      p.scrollIntoView();
      const b = p.getBoundingClientRect();
      for (let i = 1; i < 40; i++) for (let j = 1; j < 40; j++) {
        const x = b.left + (b.width * i) / 40, y = b.top + (b.height * j) / 40;
        if (document.elementFromPoint(x, y) === p) return { x, y };
      }
      return null;
    }, code);
    let pt = await pointOf(pick.code);
    check(pt != null, `map: a point of ${pick.name} (${pick.code}) found`);
    if (pt) {
      await page.mouse.move(pt.x, pt.y);
      const tip = await page.evaluate(() => { const t = document.getElementById('tip'); return t.hidden ? '' : t.textContent; });
      check(tip.includes(pick.name), `map: hovering shows "${tip}"`);
      await page.screenshot({ path: shot('home.png'), fullPage: true });
      /* a full-page screenshot may scroll or resize the page: the point again */
      pt = (await pointOf(pick.code)) || pt;
      await page.mouse.click(pt.x, pt.y);
      /* the page is drawn by the hashchange handler, after the hash changes:
       * wait for it (as the table click above does), not for the hash alone */
      await page.waitForFunction((c) => location.hash === `#/commune/${c}` && document.body.dataset.view === 'commune'
        && (document.querySelector('#commune h2')?.textContent || '').includes(c), pick.code);
      const r = await page.evaluate(() => ({
        view: document.body.dataset.view,
        h2: document.querySelector('#commune h2')?.textContent,
        errors: [...document.querySelectorAll('#errors tbody tr')].map((tr) => [tr.dataset.code, tr.lastChild.textContent]),
        repairs: document.querySelectorAll('#repairs tbody tr').length,
        warnings: document.querySelectorAll('#warnings tbody tr').length,
        reasons: [...document.querySelectorAll('#reasons li')].map((li) => li.textContent),
        changes: [...document.querySelectorAll('#changes li')].map((li) => li.textContent),
      }));
      summary.commune = r;
      check(r.view === 'commune' && r.h2 && r.h2.includes(pick.name) && r.h2.includes(pick.code),
        `map click opens #/commune/${pick.code}: "${r.h2}"`);
      const wantErrors = Object.entries(pick.errors).map(([k, v]) => [k, String(v)]);
      check(JSON.stringify(r.errors) === JSON.stringify(wantErrors), `commune page: errors by code ${JSON.stringify(r.errors)}`);
      check(r.repairs === Object.keys(pick.repairs).length && r.warnings === Object.keys(pick.warnings).length,
        `commune page: ${r.repairs} repair codes, ${r.warnings} warning codes`);
      check(JSON.stringify(r.reasons) === JSON.stringify(pick.reasons), 'commune page: reasons');
      check(r.changes.length === 4 && r.changes[0].startsWith(String(pick.changes.added)), `commune page: changes ${r.changes}`);
      await page.screenshot({ path: shot('commune.png'), fullPage: true });
      await page.goBack();
      await page.waitForFunction(() => document.body.dataset.view === 'home');
    }

    // certified share colouring
    const fillOf = (code) => page.evaluate((c) => getComputedStyle(document.querySelector(`#map path[data-code="${c}"]`)).fill, code);
    const before = await fillOf(pick.code);
    await page.check('#map-controls input[value="certified"]');
    const after = await fillOf(pick.code);
    const legend = await page.textContent('#legend');
    check(before !== after && /80 à 100 %/.test(legend) && await page.evaluate(() => document.body.dataset.mapMode) === 'certified',
      `certified share colouring: ${before} -> ${after}, legend "${legend.slice(0, 60)}…"`);
    await page.screenshot({ path: shot('certified.png'), fullPage: true });
    await page.check('#map-controls input[value="status"]');

    // data is text: the HTML producer name of the fixture, on the home page and its commune's page
    const html = report.communes.find((c) => /</.test(c.producer || ''));
    if (html) {
      const shownAsText = await page.evaluate((p) => [...document.querySelectorAll('#communes td')].some((td) => td.textContent === p), html.producer);
      await page.evaluate((c) => { location.hash = '#/commune/' + c; }, html.code);
      await page.waitForFunction(() => document.body.dataset.view === 'commune');
      const injected = await page.locator('#injected').count();
      check(shownAsText && injected === 0, `HTML in the data is shown as text (${injected} injected elements)`);
    }

    // an unknown code says so
    await page.evaluate(() => { location.hash = '#/commune/99999'; });
    await page.waitForFunction(() => /inconnue/.test(document.querySelector('#commune h2')?.textContent || ''));
    check(true, 'unknown commune: "Commune inconnue"');

    check(errors.length === 0, `no console or page error${errors.length ? ': ' + errors.slice(0, 5).join(' | ') : ''}`);
  }
  check(offsite.length === 0, `no request outside the SITE folder (${seen.length} requests${offsite.length ? '; outside: ' + offsite.slice(0, 5).join(' ') : ''})`);
} catch (e) {
  check(false, 'exception: ' + (e && e.message ? e.message.split('\n')[0] : e));
} finally {
  await browser.close();
}
console.log(JSON.stringify({ checks, fails, ...summary }));
process.exit(fails ? 1 : 0);
