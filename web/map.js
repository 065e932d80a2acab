// The map page: MapLibre GL reads a geoflux PMTiles archive through the
// pmtiles protocol, with no tile server. ?pmtiles=FILE picks the archive
// (default adresses.pmtiles next to the page); the URL hash keeps the view
// (#zoom/lat/lon, MapLibre's hash option).
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
  const file = params.get('pmtiles') || 'adresses.pmtiles';
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
    const api = (path) => new URL(path, location.href).href;
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

  const protocol = new pmtiles.Protocol();
  maplibregl.addProtocol('pmtiles', protocol.tile);

  openArchive().then(async ({ archive, source, size }) => {
    protocol.add(archive);
    const [h, meta] = await Promise.all([archive.getHeader(), archive.getMetadata()]);
    const via = source === 'range' ? 'read with HTTP Range requests'
      : `read whole into memory (${mb(size)}): this server ignores HTTP Range requests`;
    const layers = (meta.vector_layers || []).map((l) => l.id);
    const pointLayer = layers.find((l) => l !== 'communes') || layers[0];
    const style = {
      version: 8,
      sources: {
        gf: { type: 'vector', url: 'pmtiles://' + url, attribution: 'adresses: BAN/BAL, tuiles: geoflux' },
      },
      layers: [{ id: 'bg', type: 'background', paint: { 'background-color': '#f4f1ea' } }],
    };
    if (layers.includes('communes')) {
      style.layers.push({
        id: 'communes-fill', type: 'fill', source: 'gf', 'source-layer': 'communes',
        paint: { 'fill-color': '#7aa6c2', 'fill-opacity': 0.25 },
      });
      style.layers.push({
        id: 'communes-line', type: 'line', source: 'gf', 'source-layer': 'communes',
        paint: { 'line-color': '#35617d', 'line-width': 0.6 },
      });
    }
    // below the maximum zoom a point stands for point_count addresses (the
    // ones thinned out around it): its area grows with that count, capped
    const size2 = ['min', 3, ['sqrt', ['coalesce', ['get', 'point_count'], 1]]];
    style.layers.push({
      id: 'points', type: 'circle', source: 'gf', 'source-layer': pointLayer,
      paint: {
        'circle-color': '#c0392b',
        'circle-radius': ['interpolate', ['linear'], ['zoom'], 5, ['*', 1.2, size2], 12, ['*', 2.5, size2], 16, ['*', 5, size2]],
        'circle-opacity': 0.75,
      },
    });
    // with a #zoom/lat/lon in the URL, the hash wins over the bounds
    const map = new maplibregl.Map({
      container: 'map', style, hash: true,
      bounds: [[h.minLon, h.minLat], [h.maxLon, h.maxLat]],
      fitBoundsOptions: { padding: 20 },
      preserveDrawingBuffer: true,
    });
    map.addControl(new maplibregl.NavigationControl());
    map.on('error', (e) => fail('error: ' + (e.error ? e.error.message : String(e))));
    map.on('click', 'points', (e) => {
      const p = e.features[0].properties;
      let label = [p.numero, p.suffixe, p.voie_nom || p.nom_voie, p.commune_nom || p.nom_commune].filter(Boolean).join(' ');
      if (p.point_count > 1) label += ` (and ${p.point_count - 1} more addresses around it at this zoom)`;
      new maplibregl.Popup().setLngLat(e.lngLat).setText(label || JSON.stringify(p)).addTo(map);
    });
    // 'idle' can lag under a headless browser: also poll, and report
    // whenever the tiles in view are loaded
    const done = () => {
      if (!map.isStyleLoaded() || !map.areTilesLoaded()) {
        status.textContent = `waiting for tiles (style ${map.isStyleLoaded()}, tiles ${map.areTilesLoaded()})`;
        last = '';
        return;
      }
      const pts = map.queryRenderedFeatures({ layers: ['points'] }).length;
      const polys = layers.includes('communes') ? map.queryRenderedFeatures({ layers: ['communes-fill'] }).length : 0;
      report(`${file}: zoom ${map.getZoom().toFixed(1)}, ${pts} points and ${polys} polygons rendered\n` +
        `layers: ${layers.join(', ')}\n${via}`,
        { rendered: pts, polygons: polys, zoom: map.getZoom().toFixed(2), source });
    };
    map.on('idle', done);
    setInterval(done, 500);
    searchBox(map);
  }).catch((e) => fail('error: ' + (e.message || e)));
})();
