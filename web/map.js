// The map page: MapLibre GL reads a geoflux PMTiles archive through the
// pmtiles protocol, with no tile server. ?pmtiles=FILE picks the archive
// (default: the page's <meta name="geoflux-pmtiles">, adresses.pmtiles next
// to the page unless gf_web_install() said otherwise); the URL hash keeps the
// view (#zoom/lat/lon, MapLibre's hash option).
// The style is built from the archive's layers, each drawn (and in the
// legend) only when present: `communes` (fills, outlines and names; with a
// `status` field, a publication's coverage: fill by status, opacity by
// certified share), the address points (coloured by join_status when the
// archive has it, else by certification_commune), `changes` (by change) and
// `equipments`. Labels use the SDF glyphs next to the page (glyphs/, made at
// build time by tools/glyphs/gf_glyphs.c): no request leaves the server.
// A click on a feature opens a popup with its attributes.
// pmtiles reads an archive with HTTP Range requests. A static server that
// ignores them (python3 -m http.server) answers 200 with the whole file: the
// page then keeps that whole archive in memory and serves it to pmtiles
// itself, up to ?maxload=BYTES (default 256 MB); beyond, or when the archive
// cannot be fetched, the page says why in its panel, never a blank map.
// Once the map is idle the page writes what MapLibre rendered into the DOM
// (body[data-rendered], data-source, #status) so a headless browser test can
// read it.
// Served by `geoflux serve` (its getCapabilities answers), the panel gets a
// search box: suggestions from /completion as one types, and Enter (or a
// suggestion picked) flies to the address (/search when it was not one of
// them); body[data-found] says where it went. From a plain static server the
// box stays hidden.
(function () {
  const params = new URLSearchParams(location.search);
  const meta0 = document.querySelector('meta[name="geoflux-pmtiles"]');
  const file = params.get('pmtiles') || (meta0 && meta0.content) || 'adresses.pmtiles';
  const maxload = Number(params.get('maxload') || 256 * 1024 * 1024);
  const url = new URL(file, location.href).href;
  const status = document.getElementById('status');
  let last = '';
  const report = (msg, attrs) => {
    if (msg === last) return;
    last = msg;
    status.textContent = msg;
    for (const [k, v] of Object.entries(attrs || {})) document.body.dataset[k] = String(v);
    console.log('geoflux-map: ' + msg);
  };
  const fail = (msg) => {
    document.getElementById('panel').classList.add('error');
    report(msg, { error: msg });
  };
  window.addEventListener('error', (e) => fail('error: ' + e.message));
  const mb = (n) => (n < 1048576 ? n + ' bytes' : (n / 1048576).toFixed(1) + ' MB');

  // A whole archive already in memory, handed to pmtiles range by range.
  class MemorySource {
    constructor(key, buf) { this.key = key; this.buf = buf; }
    getKey() { return this.key; }
    async getBytes(offset, length) { return { data: this.buf.slice(offset, offset + length) }; }
  }

  // Ask for the first bytes only: 206 means the server does ranges; 200
  // means it sends the whole file whatever was asked.
  async function openArchive() {
    const ctl = new AbortController();
    let res;
    try {
      res = await fetch(url, { headers: { Range: 'bytes=0-16383' }, signal: ctl.signal, cache: 'no-store' });
    } catch (e) {
      throw new Error(`cannot fetch ${file}: ${e.message}` +
        (location.protocol === 'file:' ? ' (the page must be opened through an HTTP server, not as a file)' : ''));
    }
    if (res.status === 206) return { archive: new pmtiles.PMTiles(url), source: 'range' };
    if (res.status !== 200) { ctl.abort(); throw new Error(`cannot fetch ${file}: HTTP ${res.status} ${res.statusText}`); }
    const len = Number(res.headers.get('Content-Length') || NaN);
    const advice = 'serve this folder with a server that answers HTTP Range requests ' +
      '(node tests/js/serve.mjs DIR PORT from the geoflux sources, nginx, caddy, npx http-server)';
    if (!(len <= maxload)) {
      ctl.abort();
      throw new Error(`this server ignores HTTP Range requests, and ${file} (${Number.isNaN(len) ? 'size unknown' : mb(len)}) ` +
        `is more than the page loads whole (${mb(maxload)}): ${advice}`);
    }
    report(`this server ignores HTTP Range requests: loading the whole ${file} (${mb(len)}) into memory…`);
    const buf = await res.arrayBuffer();
    return { archive: new pmtiles.PMTiles(new MemorySource(url, buf)), source: 'memory', size: buf.byteLength };
  }

  // The search box, when the page's server is geoflux serve.
  async function searchBox(map) {
    // the API is at the server's root, wherever the page is (/ or /carte/)
    const api = (path) => new URL('/' + path, location.href).href;
    try {
      const caps = await (await fetch(api('getCapabilities'), { cache: 'no-store' })).json();
      if (!(caps.operations || []).some((o) => o.id === 'completion')) return;
    } catch (e) { return; } // a static server: no API, no box
    const form = document.getElementById('search');
    const input = document.getElementById('q');
    const list = document.getElementById('suggestions');
    const found = new Map(); // suggestion text -> [lon, lat]
    let marker = null, timer = null;
    form.hidden = false;
    const go = (text, lon, lat) => {
      map.flyTo({ center: [lon, lat], zoom: 17 });
      if (marker) marker.remove();
      marker = new maplibregl.Marker({ color: '#1f5f8b' }).setLngLat([lon, lat]).addTo(map);
      document.body.dataset.found = `${text}|${lon}|${lat}`;
    };
    const suggest = async (text) => {
      const res = await fetch(api('completion?' + new URLSearchParams({ text, maximumResponses: 6 })));
      if (!res.ok) return;
      const { results = [] } = await res.json();
      found.clear();
      list.replaceChildren(...results.map((r) => {
        found.set(r.fulltext, [r.x, r.y]);
        const o = document.createElement('option');
        o.value = r.fulltext;
        return o;
      }));
      document.body.dataset.suggestions = String(results.length);
    };
    input.addEventListener('input', () => {
      const v = input.value.trim();
      if (found.has(v)) { go(v, ...found.get(v)); return; } // a suggestion picked
      clearTimeout(timer);
      if (v.length >= 3) timer = setTimeout(() => suggest(v).catch(() => {}), 150);
    });
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const v = input.value.trim();
      if (found.has(v)) { go(v, ...found.get(v)); return; }
      if (v.length < 3) return;
      const res = await fetch(api('search?' + new URLSearchParams({ q: v, limit: 1 })));
      const f = res.ok ? (await res.json()).features : [];
      if (f && f.length) go(f[0].properties.label, ...f[0].geometry.coordinates);
      else document.body.dataset.found = 'none';
    });
  }

  // the glyphs' URL template: its braces must stay as they are (new URL()
  // would escape them)
  const glyphs = location.origin + location.pathname.replace(/[^/]*$/, '') + 'glyphs/{fontstack}/{range}.pbf';

  function legend(groups) {
    const el = document.getElementById('legend');
    el.replaceChildren();
    for (const g of groups) {
      const h = document.createElement('h2');
      h.textContent = g.title;
      el.append(h);
      for (const [, color, label] of g.items) {
        const row = document.createElement('div');
        const sw = document.createElement('i');
        if (g.shape === 'ring') { sw.className = 'dot'; sw.style.border = `2px solid ${color}`; }
        else { if (g.shape === 'dot') sw.className = 'dot'; sw.style.background = color; }
        row.append(sw, document.createTextNode(label));
        el.append(row);
      }
    }
    document.body.dataset.legend = groups.map((g) => g.title).join('|');
  }

  // A click: the attributes of the topmost feature under it, as a table
  // (text nodes: the values are data, never markup).
  function popups(map, interactive) {
    const ids = interactive.map(([id]) => id);
    const titles = Object.fromEntries(interactive);
    for (const id of ids) {
      map.on('mouseenter', id, () => { map.getCanvas().style.cursor = 'pointer'; });
      map.on('mouseleave', id, () => { map.getCanvas().style.cursor = ''; });
    }
    map.on('click', (e) => {
      const hit = map.queryRenderedFeatures(e.point, { layers: ids });
      if (!hit.length) return;
      // points over the commune polygon under them
      const f = hit.find((h) => h.layer.id !== 'communes-fill') || hit[0];
      const p = f.properties;
      const box = document.createElement('div');
      box.className = 'gf-popup';
      const h = document.createElement('h3');
      h.textContent = titles[f.layer.id];
      const t = document.createElement('table');
      for (const [k, v] of Object.entries(p)) {
        const tr = t.insertRow();
        const th = document.createElement('th');
        th.textContent = k;
        tr.append(th);
        tr.insertCell().textContent = String(v);
      }
      box.append(h, t);
      if (p.point_count > 1) {
        const n = document.createElement('p');
        n.textContent = `et ${p.point_count - 1} autres adresses autour à ce zoom`;
        box.append(n);
      }
      new maplibregl.Popup({ maxWidth: '24em' }).setLngLat(e.lngLat).setDOMContent(box).addTo(map);
      document.body.dataset.popup = JSON.stringify({ layer: f.layer.id, properties: p });
    });
  }

  // A publication's coverage dashboard is the index.html next to its
  // archive (SITE/index.html, the page being SITE/carte/): link to it when
  // it is there and is not this page.
  async function dashboardLink() {
    const dash = new URL('index.html', url);
    const here = new URL('index.html', location.href);
    if (dash.href === here.href) return;
    try {
      const res = await fetch(dash, { method: 'HEAD', cache: 'no-store' });
      if (!res.ok) return;
    } catch (e) { return; }
    const a = document.createElement('a');
    a.href = dash.href;
    a.textContent = 'tableau de bord de la couverture';
    a.id = 'dashboard-link';
    document.getElementById('links').append(a);
  }

  const protocol = new pmtiles.Protocol();
  maplibregl.addProtocol('pmtiles', protocol.tile);

  openArchive().then(async ({ archive, source, size }) => {
    protocol.add(archive);
    const [h, meta] = await Promise.all([archive.getHeader(), archive.getMetadata()]);
    const via = source === 'range' ? 'read with HTTP Range requests'
      : `read whole into memory (${mb(size)}): this server ignores HTTP Range requests`;
    const layers = (meta.vector_layers || []).map((l) => l.id);
    const fields = Object.fromEntries((meta.vector_layers || []).map((l) => [l.id, Object.keys(l.fields || {})]));
    const { style, legend: legendItems, interactive, nameField } = gfMapStyle(layers, fields, url, glyphs);
    // with a #zoom/lat/lon in the URL, the hash wins over the bounds
    const map = new maplibregl.Map({
      container: 'map', style, hash: true,
      bounds: [[h.minLon, h.minLat], [h.maxLon, h.maxLat]],
      fitBoundsOptions: { padding: 20 },
      preserveDrawingBuffer: true,
    });
    map.addControl(new maplibregl.NavigationControl());
    window.gfMap = map; // for the browser's console and the tests
    map.on('error', (e) => fail('error: ' + (e.error ? e.error.message : String(e))));
    popups(map, interactive);
    legend(legendItems);
    dashboardLink();
    // 'idle' can lag under a headless browser: also poll, and report
    // whenever the tiles in view are loaded
    const done = () => {
      if (!map.isStyleLoaded() || !map.areTilesLoaded()) {
        status.textContent = `waiting for tiles (style ${map.isStyleLoaded()}, tiles ${map.areTilesLoaded()})`;
        last = '';
        return;
      }
      const count = (ids) => {
        ids = ids.filter((id) => map.getLayer(id));
        return ids.length ? map.queryRenderedFeatures({ layers: ids }).length : 0;
      };
      const pts = count(['points']);
      const polys = count(['communes-fill']);
      // the labels MapLibre placed (a symbol rendered has its glyphs)
      const names = layers.includes('communes') && map.getLayer('communes-label')
        ? [...new Set(map.queryRenderedFeatures({ layers: ['communes-label'] }).map((f) => f.properties[nameField]))]
        : [];
      report(`${file}: zoom ${map.getZoom().toFixed(1)}, ${pts} points, ${polys} polygons and ${names.length} commune names rendered\n` +
        `layers: ${layers.join(', ')}\n${via}`,
        { rendered: pts, polygons: polys, labels: names.length, labelNames: names.slice(0, 20).join('|'),
          changes: count(['changes']), equipments: count(['equipments']),
          zoom: map.getZoom().toFixed(2), source });
    };
    map.on('idle', done);
    setInterval(done, 500);
    searchBox(map);
  }).catch((e) => fail('error: ' + (e.message || e)));
})();
