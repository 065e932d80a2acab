// The map page's MapLibre style, built from what a geoflux archive holds
// (its vector_layers): each layer drawn, and listed in the legend, only
// when present. Kept apart from map.js so that tests/js/style_check.mjs
// can check it for every subset of layers with MapLibre's style validator.
// Defines globalThis.gfMapStyle(layers, fields, url, glyphs).
(function () {
  const STATUS = [ // a publication's commune status (docs/publish.md)
    ['published', '#2e8b57', 'publiée'], ['unchanged', '#7fb77e', 'inchangée'],
    ['rejected', '#d9534f', 'rejetée'], ['conflict', '#f0ad4e', 'en conflit'], ['missing', '#b8b8b8', 'absente'],
  ];
  const JOIN = [ // convert --communes' join_status
    ['match', '#1f77b4', 'dans sa commune'], ['mismatch', '#d62728', 'dans une autre commune'],
    ['outside', '#ff7f0e', 'hors des communes'], ['no_position', '#7f7f7f', 'sans position'],
  ];
  // certification_commune: a Boolean in publish's tiles, 1/0 in a BAL's
  const CERT = [[['true', '1'], '#2e8b57', 'certifiée par la commune'], [['false', '0'], '#e67e22', 'non certifiée']];
  const CHANGE = [
    ['added', '#2ca02c', 'ajoutée'], ['removed', '#d62728', 'supprimée'],
    ['modified', '#ff7f0e', 'modifiée'], ['moved', '#9467bd', 'déplacée'],
  ];
  const match = (expr, table, other) => ['match', expr, ...table.flatMap(([v, c]) => [v, c]), other];
  // below the maximum zoom a point stands for point_count addresses (the
  // ones thinned out around it): its area grows with that count, capped
  const size = ['min', 3, ['sqrt', ['coalesce', ['get', 'point_count'], 1]]];
  const radius = (k) => ['interpolate', ['linear'], ['zoom'], 5, ['*', 1.2 * k, size], 12, ['*', 2.5 * k, size],
    16, ['*', 5 * k, size]];
  const FONT = 'dejavu-sans-bold';

  // layers: the archive's vector layer ids; fields: id -> its field names
  // (the archive's vector_layers); url: the archive's URL; glyphs: the
  // glyphs' URL template. Returns { style, legend, interactive, nameField }.
  function buildStyle(layers, fields, url, glyphs) {
    const has = (l) => layers.includes(l);
    const known = ['communes', 'changes', 'equipments'];
    const pointLayer = layers.find((l) => !known.includes(l));
    const legendItems = [], interactive = [];
    const style = {
      version: 8, glyphs,
      sources: { gf: { type: 'vector', url: 'pmtiles://' + url, attribution: 'adresses : BAN/BAL, tuiles : geoflux' } },
      layers: [{ id: 'bg', type: 'background', paint: { 'background-color': '#f4f1ea' } }],
    };
    const add = (l) => style.layers.push({ source: 'gf', ...l });
    const cf = fields.communes || [];
    // publish's communes carry `name`, convert's join statistics `nom`
    const nameField = ['name', 'nom', 'commune_nom', 'nom_commune'].find((f) => cf.includes(f)) || 'name';
    if (has('communes')) {
      const coverage = cf.includes('status');
      add({
        id: 'communes-fill', type: 'fill', 'source-layer': 'communes',
        paint: coverage ? {
          'fill-color': match(['get', 'status'], STATUS, '#cccccc'),
          // the coverage choropleth: the more certified, the stronger
          'fill-opacity': ['interpolate', ['linear'], ['to-number', ['coalesce', ['get', 'certified_share'], 0]],
            0, 0.25, 1, 0.65],
        } : { 'fill-color': '#7aa6c2', 'fill-opacity': 0.25 },
      });
      add({
        id: 'communes-line', type: 'line', 'source-layer': 'communes',
        paint: { 'line-color': '#35617d', 'line-width': ['interpolate', ['linear'], ['zoom'], 6, 0.4, 14, 1.5] },
      });
      legendItems.push(coverage
        ? { title: 'Communes (statut ; opacité : part certifiée)', items: STATUS, shape: 'box' }
        : { title: 'Communes', items: [['', '#7aa6c2', 'limites communales']], shape: 'box' });
      interactive.push(['communes-fill', 'Commune']);
    }
    if (pointLayer) {
      const pf = fields[pointLayer] || [];
      const by = pf.includes('join_status') ? ['join_status', JOIN, 'Adresses (jointure)']
        : pf.includes('certification_commune') ? ['certification_commune', CERT, 'Adresses (certification)']
          : null;
      add({
        id: 'points', type: 'circle', 'source-layer': pointLayer,
        paint: {
          'circle-color': by ? match(['to-string', ['get', by[0]]], by[1], '#c0392b') : '#c0392b',
          'circle-radius': radius(1), 'circle-opacity': 0.8,
        },
      });
      legendItems.push(by ? { title: by[2], items: by[1], shape: 'dot' }
        : { title: 'Adresses', items: [['', '#c0392b', pointLayer]], shape: 'dot' });
      interactive.push(['points', 'Adresse']);
    }
    if (has('equipments')) {
      add({
        id: 'equipments', type: 'circle', 'source-layer': 'equipments',
        paint: {
          'circle-color': '#8e44ad', 'circle-radius': radius(1.4),
          'circle-stroke-color': '#ffffff', 'circle-stroke-width': 1,
        },
      });
      legendItems.push({ title: 'Équipements', items: [['', '#8e44ad', 'équipement (SCDL)']], shape: 'dot' });
      interactive.push(['equipments', 'Équipement']);
    }
    if (has('changes')) {
      add({
        id: 'changes', type: 'circle', 'source-layer': 'changes',
        paint: {
          'circle-color': 'rgba(0,0,0,0)', 'circle-radius': radius(1.8),
          'circle-stroke-color': match(['get', 'change'], CHANGE, '#555555'), 'circle-stroke-width': 2,
        },
      });
      legendItems.push({ title: 'Changements', items: CHANGE, shape: 'ring' });
      interactive.push(['changes', 'Changement']);
    }
    if (has('communes')) {
      // names last: drawn over the points
      add({
        id: 'communes-label', type: 'symbol', 'source-layer': 'communes',
        layout: {
          'text-field': ['get', nameField], 'text-font': [FONT], 'text-size': 13,
          'text-max-width': 8, 'text-padding': 4,
        },
        paint: { 'text-color': '#1d3b4f', 'text-halo-color': '#ffffff', 'text-halo-width': 1.5 },
      });
    }
    return { style, legend: legendItems, interactive, nameField };
  }

  globalThis.gfMapStyle = buildStyle;
})();
