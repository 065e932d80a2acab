// The map page: MapLibre GL reads a geoflux PMTiles archive through the
// pmtiles protocol (HTTP range requests, no tile server). ?pmtiles=FILE
// picks the archive (default adresses.pmtiles next to the page). Once the
// map is idle the page writes what MapLibre rendered into the DOM
// (body[data-rendered], #status) so a headless browser test can read it.
(function () {
  const params = new URLSearchParams(location.search);
  const file = params.get('pmtiles') || 'adresses.pmtiles';
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
  window.addEventListener('error', (e) => report('error: ' + e.message, { error: e.message }));

  const protocol = new pmtiles.Protocol();
  maplibregl.addProtocol('pmtiles', protocol.tile);
  const archive = new pmtiles.PMTiles(url);
  protocol.add(archive);

  Promise.all([archive.getHeader(), archive.getMetadata()]).then(([h, meta]) => {
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
    const size = ['min', 3, ['sqrt', ['coalesce', ['get', 'point_count'], 1]]];
    style.layers.push({
      id: 'points', type: 'circle', source: 'gf', 'source-layer': pointLayer,
      paint: {
        'circle-color': '#c0392b',
        'circle-radius': ['interpolate', ['linear'], ['zoom'], 5, ['*', 1.2, size], 12, ['*', 2.5, size], 16, ['*', 5, size]],
        'circle-opacity': 0.75,
      },
    });
    const map = new maplibregl.Map({
      container: 'map', style,
      bounds: [[h.minLon, h.minLat], [h.maxLon, h.maxLat]],
      fitBoundsOptions: { padding: 20 },
      preserveDrawingBuffer: true,
    });
    map.addControl(new maplibregl.NavigationControl());
    map.on('click', 'points', (e) => {
      const p = e.features[0].properties;
      let label = [p.numero, p.suffixe, p.voie_nom || p.nom_voie, p.commune_nom || p.nom_commune].filter(Boolean).join(' ');
      if (p.point_count > 1) label += ` (and ${p.point_count - 1} more addresses around it at this zoom)`;
      new maplibregl.Popup().setLngLat(e.lngLat).setText(label || JSON.stringify(p)).addTo(map);
    });
    // 'idle' can lag under a headless browser's virtual time: also poll,
    // and report whenever the tiles in view are loaded
    const done = () => {
      if (!map.isStyleLoaded() || !map.areTilesLoaded()) {
        status.textContent = `waiting for tiles (style ${map.isStyleLoaded()}, tiles ${map.areTilesLoaded()})`;
        return;
      }
      const pts = map.queryRenderedFeatures({ layers: ['points'] }).length;
      const polys = layers.includes('communes') ? map.queryRenderedFeatures({ layers: ['communes-fill'] }).length : 0;
      report(`${file}: zoom ${map.getZoom().toFixed(1)}, ${pts} points and ${polys} polygons rendered\nlayers: ${layers.join(', ')}`,
        { rendered: pts, polygons: polys, zoom: map.getZoom().toFixed(2) });
    };
    map.on('idle', done);
    setInterval(done, 500);
  }).catch((e) => report('error: ' + e, { error: String(e) }));
})();
