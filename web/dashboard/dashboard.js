/* The coverage dashboard of `geoflux publish` (docs/publish.md): a map of
 * the communes, a sortable and filterable table, a page per commune
 * (#/commune/CODE) and the run's submissions, from window.GF_REPORT and
 * window.GF_COMMUNES (data.js, next to index.html).
 * Plain JS, no library, no request: the page must work opened from disk
 * (file://) as well as from any static server, with no network. The map is
 * inline SVG, projected here (equirectangular scaled by cos(mid-latitude):
 * at the scale of a department it is indistinguishable from Web Mercator,
 * and it needs no tiles). Every value from the data reaches the page as
 * text (textContent, attributes), never as HTML.
 * For tests, <body> carries data-ready once drawn (data-draw-ms: how long
 * drawing took), data-view (home, commune) and data-error when the data is
 * missing. */
(function () {
  'use strict';

  const STATUS = {
    published: { label: 'publiée', plural: 'publiées', color: '#2e7d32' },
    unchanged: { label: 'inchangée', plural: 'inchangées', color: '#8bc34a' },
    rejected: { label: 'rejetée', plural: 'rejetées', color: '#d32f2f' },
    conflict: { label: 'en conflit', plural: 'en conflit', color: '#f08c00' },
    missing: { label: 'sans BAL', plural: 'sans BAL', color: '#cfd6dc' },
  };
  const STATUS_ORDER = Object.keys(STATUS);
  const SUBMISSION_STATUS = { accepted: 'acceptée', unchanged: 'inchangée', rejected: 'rejetée', conflict: 'en conflit' };
  // certified share, in five classes (the national map's scheme: darker is more certified)
  const SHARE_CLASSES = [
    { max: 0.2, color: '#deebf7', label: '0 à 20 %' },
    { max: 0.4, color: '#9ecae1', label: '20 à 40 %' },
    { max: 0.6, color: '#6baed6', label: '40 à 60 %' },
    { max: 0.8, color: '#3182bd', label: '60 à 80 %' },
    { max: Infinity, color: '#08519c', label: '80 à 100 %' },
  ];
  const NO_SHARE = { color: '#eeeeee', label: 'sans adresse publiée' };
  const SVG = 'http://www.w3.org/2000/svg';

  const $ = (id) => document.getElementById(id);
  /* el('td', {class: 'num'}, 'text', node...): children are text or nodes */
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) if (v != null) e.setAttribute(k, v);
    for (const c of children) if (c != null) e.append(c instanceof Node ? c : String(c));
    return e;
  }
  const nf = new Intl.NumberFormat('fr-FR');
  const num = (v) => (typeof v === 'number' && isFinite(v) ? nf.format(v) : '—');
  const share = (v) => (typeof v === 'number' && isFinite(v) ? (v * 100).toFixed(1).replace('.', ',') + ' %' : '—');
  const text = (v) => (v == null || v === '' ? '—' : String(v));
  const fold = (s) => String(s == null ? '' : s).normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase();
  const statusLabel = (s) => (STATUS[s] ? STATUS[s].label : text(s));
  const communeHref = (code) => '#/commune/' + encodeURIComponent(code);
  function badge(status, labels) {
    return el('span', { class: 'badge st-' + (STATUS[status] || labels ? status : 'unknown') },
      labels ? labels[status] || text(status) : statusLabel(status));
  }
  function changeTotal(c) {
    const ch = c.changes || {};
    const t = ['added', 'removed', 'modified', 'moved'].map((k) => (typeof ch[k] === 'number' ? ch[k] : null));
    return t.every((v) => v == null) ? null : t.reduce((a, v) => a + (v || 0), 0);
  }
  function changeText(c) {
    const ch = c.changes;
    if (!ch || changeTotal(c) == null) return '—';
    return `+${ch.added || 0} −${ch.removed || 0} ~${ch.modified || 0} ⇄${ch.moved || 0}`;
  }

  function fail(msg) {
    document.body.dataset.error = msg;
    const e = $('error');
    e.textContent = msg;
    e.hidden = false;
  }

  const report = window.GF_REPORT;
  const geo = window.GF_COMMUNES;
  if (!report || typeof report !== 'object' || !Array.isArray(report.communes)) {
    fail('Données absentes : data.js (window.GF_REPORT) est introuvable ou illisible à côté de index.html.');
    return;
  }
  const features = geo && Array.isArray(geo.features) ? geo.features : [];

  // The communes: report.json's entries, completed by the polygons' properties
  // for a commune the report would lack (the same values, per the contract).
  const byCode = new Map();
  for (const c of report.communes) if (c && c.code != null) byCode.set(String(c.code), c);
  for (const f of features) {
    const p = (f && f.properties) || {};
    if (p.code == null || byCode.has(String(p.code))) continue;
    byCode.set(String(p.code), {
      ...p, changes: { added: p.added, removed: p.removed, modified: p.modified, moved: p.moved },
    });
  }
  const communes = [...byCode.values()];
  const submissions = Array.isArray(report.submissions) ? report.submissions : [];

  /* report.json's equipments counts shown, in this order */
  const EQUIP_COUNTS = [['rows', 'lus'], ['published', 'publiés'], ['rejected', 'rejetés'],
    ['duplicates', 'doublons écartés'], ['geocoded', 'géocodés'], ['repaired', 'long/lat réparées'],
    ['outside_commune', 'hors de leur commune'], ['without_position', 'sans position']];

  /* ---- header: the perimeter and the run's counts ------------------------ */
  function drawHeader() {
    const per = report.perimeter || {};
    if (per.value != null) $('perimeter').textContent = `— ${per.kind === 'department' ? 'département' : text(per.kind)} ${per.value}`;
    $('run').textContent = `Publication du ${text(report.generated_at)}` + (report.geoflux ? ` · geoflux ${report.geoflux}` : '');
    const counts = report.counts || {};
    const box = (title, items) => el('div', { class: 'countbox' }, el('h3', null, title),
      el('ul', null, ...items.map(([key, label, v, status]) => el('li', { 'data-count': key },
        status ? el('span', { class: 'swatch', style: `background:${STATUS[status].color}` }) : null,
        el('b', null, num(v)), ' ', label))));
    const cc = counts.communes || {};
    const sc = counts.submissions || {};
    const rc = counts.rows || {};
    $('counts').replaceChildren(
      box('Communes', STATUS_ORDER.map((s) => ['communes.' + s, cc[s] > 1 ? STATUS[s].plural : STATUS[s].label, cc[s], s])),
      box('Soumissions', [['submissions.total', 'reçues', sc.total], ['submissions.accepted', 'acceptées', sc.accepted],
        ['submissions.unchanged', 'inchangées', sc.unchanged], ['submissions.rejected', 'rejetées', sc.rejected],
        ['submissions.conflict', 'en conflit', sc.conflict]]),
      box('Adresses', [['rows.read', 'lues', rc.read], ['rows.published', 'publiées', rc.published],
        ['rows.rejected', 'rejetées', rc.rejected]]));
    /* the equipments (SCDL), when some were ever submitted */
    const eq = report.equipments;
    if (eq && eq.submissions > 0)
      $('counts').append(box('Équipements', EQUIP_COUNTS.map(([k, label]) => ['equipments.' + k, label, eq[k]])));
  }

  /* ---- the map ----------------------------------------------------------- */
  const map = { svg: null, paths: new Map(), d: new Map(), mode: 'status' };

  function rings(g) {
    if (!g) return [];
    if (g.type === 'Polygon') return g.coordinates || [];
    if (g.type === 'MultiPolygon') return (g.coordinates || []).flat();
    return [];
  }
  function fillOf(c) {
    if (map.mode === 'status') return (STATUS[c.status] || STATUS.missing).color;
    const v = c.certified_share;
    if (typeof v !== 'number' || !isFinite(v)) return NO_SHARE.color;
    return SHARE_CLASSES.find((k) => v < k.max || k.max === Infinity).color;
  }
  function buildMap() {
    let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    for (const f of features) for (const r of rings(f && f.geometry)) for (const p of r) {
      if (p[0] < x0) x0 = p[0]; if (p[0] > x1) x1 = p[0];
      if (p[1] < y0) y0 = p[1]; if (p[1] > y1) y1 = p[1];
    }
    const svg = document.createElementNS(SVG, 'svg');
    map.svg = svg;
    if (!(x1 > x0 && y1 > y0)) {
      $('map').replaceChildren(el('p', { class: 'empty' }, 'Aucun contour de commune dans communes.geojson.'));
      return;
    }
    const kx = Math.cos(((y0 + y1) / 2) * Math.PI / 180);
    const W = 1000, s = W / ((x1 - x0) * kx), H = Math.ceil((y1 - y0) * s);
    svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
    svg.setAttribute('preserveAspectRatio', 'xMidYMid meet');
    svg.setAttribute('role', 'img');
    const frag = document.createDocumentFragment();
    for (const f of features) {
      const code = f && f.properties && f.properties.code;
      if (code == null) continue;
      let d = '';
      for (const r of rings(f.geometry)) {
        let last = '';
        r.forEach((p, i) => {
          const pt = ((p[0] - x0) * kx * s).toFixed(1) + ',' + ((y1 - p[1]) * s).toFixed(1);
          if (pt !== last) d += (i ? 'L' : 'M') + pt;  // points closer than 0.1 px add nothing
          last = pt;
        });
        d += 'Z';
      }
      const path = document.createElementNS(SVG, 'path');
      path.setAttribute('d', d);
      path.setAttribute('class', 'commune');
      path.setAttribute('data-code', String(code));
      frag.append(path);
      map.paths.set(String(code), path);
      map.d.set(String(code), d);
    }
    svg.append(frag);
    $('map').replaceChildren(svg);

    const tip = $('tip');
    const codeAt = (ev) => ev.target && ev.target.getAttribute && ev.target.getAttribute('data-code');
    svg.addEventListener('mousemove', (ev) => {
      const code = codeAt(ev);
      const c = code && byCode.get(code);
      if (!c) { tip.hidden = true; return; }
      tip.replaceChildren(el('b', null, text(c.name)), ` (${code})`, el('br'), statusLabel(c.status),
        ' · certifiées : ', share(c.certified_share));
      const box = $('map-panel').getBoundingClientRect();
      tip.style.left = (ev.clientX - box.left + 12) + 'px';
      tip.style.top = (ev.clientY - box.top + 12) + 'px';
      tip.hidden = false;
    });
    svg.addEventListener('mouseleave', () => { tip.hidden = true; });
    svg.addEventListener('click', (ev) => {
      const code = codeAt(ev);
      if (code) location.hash = communeHref(code);
    });
    for (const r of document.querySelectorAll('#map-controls input')) {
      r.addEventListener('change', () => { map.mode = r.value; paintMap(); });
    }
  }
  function paintMap() {
    for (const [code, path] of map.paths) {
      const c = byCode.get(code) || {};
      path.style.fill = fillOf(c);
    }
    const items = map.mode === 'status'
      ? STATUS_ORDER.map((s) => [STATUS[s].color, STATUS[s].label])
      : SHARE_CLASSES.map((k) => [k.color, k.label]).concat([[NO_SHARE.color, NO_SHARE.label]]);
    $('legend').replaceChildren(el('b', null, map.mode === 'status' ? 'Statut' : 'Part d’adresses certifiées'),
      ...items.map(([color, label]) => el('span', { class: 'item' },
        el('span', { class: 'swatch', style: `background:${color}` }), label)));
    document.body.dataset.mapMode = map.mode;
  }

  /* ---- the table of communes --------------------------------------------- */
  const COLUMNS = [
    { key: 'code', label: 'Code', get: (c) => c.code },
    { key: 'name', label: 'Commune', get: (c) => c.name },
    { key: 'status', label: 'Statut', get: (c) => STATUS_ORDER.indexOf(c.status) },
    { key: 'producer', label: 'Producteur', get: (c) => c.producer },
    { key: 'revision', label: 'Révision', get: (c) => c.revision, num: true },
    { key: 'rows', label: 'Adresses', get: (c) => c.rows, num: true },
    { key: 'valid_rows', label: 'Valides', get: (c) => c.valid_rows, num: true },
    { key: 'certified_share', label: 'Certifiées', get: (c) => c.certified_share, num: true },
    { key: 'changes', label: 'Changements', get: changeTotal, num: true },
  ];
  const table = { key: 'code', dir: 1, text: '', status: '' };
  const collator = new Intl.Collator('fr', { sensitivity: 'base', numeric: true });
  function compare(col, a, b) {
    const va = col.get(a), vb = col.get(b);
    const na = va == null || va === '', nb = vb == null || vb === '';
    if (na || nb) return na === nb ? 0 : na ? 1 : -1;  // no value: last, both ways
    const r = typeof va === 'number' && typeof vb === 'number' ? va - vb : collator.compare(String(va), String(vb));
    return r * table.dir;
  }
  function buildTable() {
    const tr = document.querySelector('#communes thead tr');
    for (const col of COLUMNS) {
      const th = el('th', { 'data-key': col.key, class: col.num ? 'num' : null, scope: 'col' },
        el('button', { type: 'button' }, col.label));
      th.addEventListener('click', () => {
        table.dir = table.key === col.key ? -table.dir : 1;
        table.key = col.key;
        drawTable();
      });
      tr.append(th);
    }
    const sel = $('filter-status');
    for (const s of STATUS_ORDER) {
      const n = communes.filter((c) => c.status === s).length;
      sel.append(el('option', { value: s }, `${STATUS[s].label} (${n})`));
    }
    sel.addEventListener('change', () => { table.status = sel.value; drawTable(); });
    $('filter-text').addEventListener('input', (ev) => { table.text = fold(ev.target.value.trim()); drawTable(); });
    document.querySelector('#communes tbody').addEventListener('click', (ev) => {
      if (ev.target.closest('a')) return;  // the link navigates by itself
      const row = ev.target.closest('tr[data-code]');
      if (row) location.hash = communeHref(row.dataset.code);
    });
  }
  function drawTable() {
    const col = COLUMNS.find((c) => c.key === table.key);
    const code = COLUMNS[0];
    const rows = communes.filter((c) => (!table.status || c.status === table.status) &&
      (!table.text || [c.code, c.name, c.producer].some((v) => fold(v).includes(table.text))));
    rows.sort((a, b) => compare(col, a, b) || collator.compare(String(code.get(a)), String(code.get(b))));
    const frag = document.createDocumentFragment();
    for (const c of rows) {
      frag.append(el('tr', { 'data-code': c.code, 'data-status': c.status },
        el('td', null, text(c.code)),
        el('td', null, el('a', { href: communeHref(c.code) }, text(c.name))),
        el('td', null, badge(c.status)),
        el('td', null, text(c.producer)),
        el('td', { class: 'num' }, num(c.revision)),
        el('td', { class: 'num' }, num(c.rows)),
        el('td', { class: 'num' }, num(c.valid_rows)),
        el('td', { class: 'num' }, share(c.certified_share)),
        el('td', { class: 'num' }, changeText(c))));
    }
    document.querySelector('#communes tbody').replaceChildren(frag);
    for (const th of document.querySelectorAll('#communes th')) {
      if (th.dataset.key === table.key) th.setAttribute('aria-sort', table.dir > 0 ? 'ascending' : 'descending');
      else th.removeAttribute('aria-sort');
    }
    $('shown').textContent = `${rows.length} commune${rows.length > 1 ? 's' : ''} sur ${communes.length}`;
    // the map follows the filter: the communes left out are dimmed
    const shown = new Set(rows.map((c) => String(c.code)));
    const all = rows.length === communes.length;
    for (const [k, path] of map.paths) path.classList.toggle('dim', !all && !shown.has(k));
  }

  /* ---- the submissions --------------------------------------------------- */
  function communeLinks(codes) {
    const span = el('span');
    (codes || []).forEach((code, i) => {
      if (i) span.append(' ');
      const c = byCode.get(String(code));
      span.append(el('a', { href: communeHref(code), title: c ? text(c.name) : null }, String(code)));
    });
    return span;
  }
  function submissionRows(list) {
    return list.map((s) => el('tr', { 'data-status': s.status },
      el('td', { class: 'file' }, text(s.file)), el('td', null, text(s.producer)), el('td', null, text(s.kind)),
      el('td', null, badge(s.status, SUBMISSION_STATUS)), el('td', null, text(s.reason)),
      el('td', null, communeLinks(s.communes)), el('td', { class: 'num' }, num(s.rows))));
  }
  function drawSubmissions() {
    document.querySelector('#submissions tbody').replaceChildren(...submissionRows(submissions));
  }

  /* ---- a commune's page -------------------------------------------------- */
  function codeTable(id, title, obj, empty) {
    const entries = Object.entries(obj || {}).sort((a, b) => collator.compare(a[0], b[0]));
    const sec = el('section', { id, class: 'codes' }, el('h3', null, title,
      el('span', { class: 'n' }, ' ', num(entries.reduce((a, [, n]) => a + (+n || 0), 0)))));
    if (!entries.length) sec.append(el('p', { class: 'none' }, empty));
    else sec.append(el('table', null, el('thead', null, el('tr', null, el('th', null, 'Code'), el('th', { class: 'num' }, 'Nombre'))),
      el('tbody', null, ...entries.map(([k, n]) => el('tr', { 'data-code': k }, el('td', null, el('code', null, k)), el('td', { class: 'num' }, num(n)))))));
    return sec;
  }
  function miniMap(code) {
    const d = map.d.get(code);
    if (!d) return el('p', { class: 'none' }, 'Pas de contour pour cette commune.');
    const svg = document.createElementNS(SVG, 'svg');
    const path = document.createElementNS(SVG, 'path');
    path.setAttribute('d', d);
    path.style.fill = (STATUS[(byCode.get(code) || {}).status] || STATUS.missing).color;
    svg.append(path);
    svg.setAttribute('class', 'mini');
    return svg;
  }
  function drawCommune(code) {
    const sec = $('commune');
    const c = byCode.get(code);
    const back = el('p', null, el('a', { href: '#/' }, '← Toutes les communes'));
    if (!c) {
      sec.replaceChildren(back, el('h2', null, 'Commune inconnue : ', code), el('p', null, 'Ce code n’est pas dans le rapport de la publication.'));
      return;
    }
    const dl = el('dl');
    const row = (k, v) => dl.append(el('dt', null, k), el('dd', null, v));
    row('Statut', badge(c.status));
    row('Producteur', text(c.producer));
    row('Révision publiée', c.revision == null ? 'aucune' : num(c.revision));
    row('Reçue le', text(c.received_at));
    row('Fichier', text(c.file));
    row('Adresses', num(c.rows));
    row('Adresses valides', num(c.valid_rows));
    row('Part certifiée', share(c.certified_share));
    const ch = c.changes || {};
    const changes = el('section', { id: 'changes' }, el('h3', null, 'Changements de cette publication'),
      changeTotal(c) == null ? el('p', { class: 'none' }, 'Aucun.')
        : el('ul', null, ...[['added', 'ajoutées'], ['removed', 'supprimées'], ['modified', 'modifiées'], ['moved', 'déplacées']]
          .map(([k, l]) => el('li', { 'data-change': k }, el('b', null, num(ch[k] || 0)), ' ', l))));
    const reasons = Array.isArray(c.reasons) ? c.reasons : [];
    const subs = submissions.filter((s) => Array.isArray(s.communes) && s.communes.map(String).includes(code));
    sec.replaceChildren(back,
      el('div', { class: 'commune-head' }, miniMap(code), el('div', null, el('h2', null, text(c.name), ' ', el('small', null, code)), dl)),
      el('section', { id: 'reasons' }, el('h3', null, 'Motifs'), reasons.length
        ? el('ul', null, ...reasons.map((r) => el('li', null, String(r)))) : el('p', { class: 'none' }, 'Aucun.')),
      el('div', { class: 'code-tables' },
        codeTable('errors', 'Erreurs', c.errors, 'Aucune erreur.'),
        codeTable('warnings', 'Avertissements', c.warnings, 'Aucun avertissement.'),
        codeTable('repairs', 'Réparations', c.repairs, 'Aucune réparation.')),
      changes,
      el('section', { id: 'commune-submissions' }, el('h3', null, 'Soumissions'), subs.length
        ? el('table', null, el('thead', null, el('tr', null, ...['Fichier', 'Producteur', 'Type', 'Statut', 'Motif', 'Communes', 'Lignes']
          .map((h) => el('th', null, h)))), el('tbody', null, ...submissionRows(subs)))
        : el('p', { class: 'none' }, 'Aucune soumission pour cette commune dans cette publication.')));
    // fit the mini map to the commune once it is in the document
    const mini = sec.querySelector('svg.mini');
    if (mini) {
      const b = mini.firstChild.getBBox();
      const m = Math.max(b.width, b.height) * 0.05;
      mini.setAttribute('viewBox', `${b.x - m} ${b.y - m} ${b.width + 2 * m} ${b.height + 2 * m}`);
    }
  }

  /* ---- routing: #/ and #/commune/CODE ------------------------------------ */
  function route() {
    const m = /^#\/commune\/([^/]+)$/.exec(location.hash);
    const view = m ? 'commune' : 'home';
    $('home').hidden = view !== 'home';
    $('commune').hidden = view !== 'commune';
    if (m) {
      let code;
      try { code = decodeURIComponent(m[1]); } catch (e) { code = m[1]; }
      drawCommune(code);
      document.title = `${text((byCode.get(code) || {}).name || code)} — couverture des adresses`;
      window.scrollTo(0, 0);
    } else {
      document.title = 'Couverture des adresses — geoflux';
    }
    document.body.dataset.view = view;
  }

  const t0 = performance.now();
  drawHeader();
  buildMap();
  paintMap();
  buildTable();
  drawTable();
  drawSubmissions();
  window.addEventListener('hashchange', route);
  route();
  document.body.dataset.drawMs = Math.round(performance.now() - t0);  // for the test's summary
  document.body.dataset.ready = '1';
})();
