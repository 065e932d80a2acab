// The map page's style (web/style.js) for every kind of geoflux archive:
// each subset of the layers convert and publish write (addresses, communes
// with join statistics or with a publication's coverage, changes,
// equipments) gives a style MapLibre's own validator accepts, drawing and
// listing in the legend exactly the layers present: a communes layer with
// `status` is the coverage choropleth, one without is plain fills; the
// labels use the name field the layer has; addresses are coloured by
// join_status when present, else by certification_commune.
// Prints a JSON summary; exit 0 when every check passed.
// Usage: node style_check.mjs SRCDIR
import { validateStyleMin } from '@maplibre/maplibre-gl-style-spec';
import { pathToFileURL } from 'url';

const src = process.argv[2];
await import(pathToFileURL(`${src}/web/style.js`).href);
const build = globalThis.gfMapStyle;
const failed = [];
const check = (ok, what) => { if (!ok) failed.push(what); };
const BAL = ['cle_interop', 'numero', 'voie_nom', 'commune_nom', 'certification_commune', 'point_count'];
const JOIN = ['code', 'nom', 'addresses', 'certified_share'];
const COVER = ['code', 'name', 'status', 'producer', 'revision', 'rows', 'valid_rows', 'certified_share',
  'added', 'removed', 'modified', 'moved'];
const cases = {
  'addresses': { addresses: BAL },
  'addresses+join': { addresses: [...BAL, 'join_status'], communes: JOIN },
  'publication': { addresses: BAL, communes: COVER, changes: ['change', 'id', 'commune_insee', 'voie_nom', 'numero', 'suffixe'] },
  'publication+equipments': { addresses: BAL, communes: COVER, changes: ['change', 'id'], equipments: ['EQUIP_NOM', 'EQUIP_TYPE'] },
  'communes only': { communes: COVER },
  'changes only': { changes: ['change', 'id'] },
  'nothing': {},
};
const out = {};
for (const [name, fields] of Object.entries(cases)) {
  const layers = Object.keys(fields);
  const r = build(layers, fields, 'http://127.0.0.1:1/a.pmtiles', 'http://127.0.0.1:1/glyphs/{fontstack}/{range}.pbf');
  const errs = validateStyleMin(r.style);
  check(errs.length === 0, `${name}: MapLibre's validator: ${errs.map((e) => e.message).join('; ')}`);
  const ids = r.style.layers.map((l) => l.id);
  const src = new Set(r.style.layers.filter((l) => l['source-layer']).map((l) => l['source-layer']));
  check([...src].sort().join() === layers.slice().sort().join(), `${name}: draws exactly ${layers} (drew ${[...src]})`);
  check(r.legend.length === layers.length, `${name}: a legend entry per layer (${r.legend.map((g) => g.title)})`);
  const fill = r.style.layers.find((l) => l.id === 'communes-fill');
  if (fields.communes) {
    const cover = fields.communes.includes('status');
    const colour = JSON.stringify(fill.paint['fill-color']);
    check(cover ? colour.includes('"status"') && JSON.stringify(fill.paint['fill-opacity']).includes('certified_share')
      : !colour.includes('status'), `${name}: ${cover ? 'coverage choropleth' : 'plain fills'}`);
    const label = r.style.layers.find((l) => l.id === 'communes-label');
    check(label && JSON.stringify(label.layout['text-field']) === JSON.stringify(['get', cover ? 'name' : 'nom']) &&
      r.style.glyphs.includes('{fontstack}'), `${name}: labels from the commune name field, with glyphs`);
    check(ids[ids.length - 1] === 'communes-label', `${name}: the names drawn last, over the points`);
  }
  if (fields.addresses) {
    const c = JSON.stringify(r.style.layers.find((l) => l.id === 'points').paint['circle-color']);
    const by = fields.addresses.includes('join_status') ? 'join_status' : 'certification_commune';
    check(c.includes(`"${by}"`), `${name}: addresses coloured by ${by}`);
  }
  out[name] = { layers: ids, legend: r.legend.map((g) => g.title) };
}
console.log(JSON.stringify({ cases: out, failed }));
process.exit(failed.length ? 1 : 0);
