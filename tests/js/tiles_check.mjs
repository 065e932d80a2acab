// Checks a geoflux PMTiles archive with readers nobody here wrote: the
// `pmtiles` package walks the directories (root + leaves) and fetches every
// tile through its own lookup (getZxy), `@mapbox/vector-tile` + `pbf` decode
// the MVT. Compared with the GeoJSON-lines output of the same input:
// every positioned row is in exactly one tile at maxzoom, with its
// attributes, at its position (within one tile pixel); no tile over 500 KB;
// thinning keeps a point at every zoom above the first one it appears at;
// below maxzoom every point has a point_count >= 1 (itself and the points
// thinned out around it), and the counts of a zoom add up to at most every
// point (exactly every point when nothing was thinned).
// With POLYLAYER and POLYCOUNT: that polygon layer is in the metadata, every
// polygon appears at maxzoom (and the layer at minzoom), as valid MVT polygons (exterior
// ring first, clockwise in tile coordinates as the spec requires).
// Usage: node tiles_check.mjs ARCHIVE.pmtiles EXPECTED.geojsonl [LAYER] [ATTR,ATTR|-] [POLYLAYER POLYCOUNT]
// Prints a JSON summary; exit 0 when every check passes.
import fs from 'node:fs';
import { PMTiles, tileIdToZxy, zxyToTileId } from 'pmtiles';
import { VectorTile } from '@mapbox/vector-tile';
import Pbf from 'pbf';

const [archive, expectedPath, layerName = 'addresses', attrsArg0, polyLayer, polyCountArg] = process.argv.slice(2);
const attrsArg = attrsArg0 === '-' ? undefined : attrsArg0;
const polyIdsMin = new Set(), polyIdsMax = new Set();
let polyFeatures = 0;
const fd = fs.openSync(archive, 'r');
const source = {
  getKey: () => archive,
  getBytes: async (offset, length) => {
    const b = Buffer.alloc(length);
    fs.readSync(fd, b, 0, length, offset);
    return { data: b.buffer.slice(b.byteOffset, b.byteOffset + length) };
  },
};
const pm = new PMTiles(source);
const header = await pm.getHeader();
const meta = await pm.getMetadata();
const failures = [];
const fail = (m) => { if (failures.length < 30) failures.push(m); };

if (!meta.vector_layers || !meta.vector_layers.some((l) => l.id === layerName)) fail(`metadata has no vector_layers entry '${layerName}'`);
if (header.tileType !== 1) fail(`tile type ${header.tileType} is not MVT`);
if (!header.clustered) fail('archive not clustered');

// every tile id through the library's directory reader
const ids = [];
const storedLen = new Map();
async function walk(offset, length) {
  const dir = await pm.cache.getDirectory(source, offset, length, header);
  for (const e of dir) {
    if (e.runLength === 0) await walk(header.leafDirectoryOffset + e.offset, e.length);
    else for (let k = 0; k < e.runLength; k++) { ids.push(e.tileId + k); storedLen.set(e.tileId + k, e.length); }
  }
}
await walk(header.rootDirectoryOffset, header.rootDirectoryLength);
for (let i = 1; i < ids.length; i++) if (ids[i] <= ids[i - 1]) { fail('tile ids not increasing'); break; }

const expected = [];
for (const line of fs.readFileSync(expectedPath, 'utf8').split('\n')) {
  if (!line) continue;
  const f = JSON.parse(line);
  if (f.geometry) expected.push(f);
}
const attrs = attrsArg ? attrsArg.split(',') : null;
const seenAtMax = new Map(); // id -> count
const firstZoom = new Map(); // id -> lowest zoom where present
const perZoom = {}, pcSum = {};
let maxTile = 0, maxTileId = '', layerMissing = 0, maxRaw = 0;
for (const id of ids) {
  const [z, x, y] = tileIdToZxy(id);
  if (zxyToTileId(z, x, y) !== id) fail(`tile id ${id} round trip`);
  const r = await pm.getZxy(z, x, y);
  if (!r) { fail(`getZxy(${z},${x},${y}) found nothing for a listed tile`); continue; }
  const bytes = new Uint8Array(r.data);
  // the 500 KB ceiling is on the stored (gzip) tile, as tippecanoe counts it
  const stored = storedLen.get(id);
  if (stored > maxTile) { maxTile = stored; maxTileId = `${z}/${x}/${y}`; }
  if (bytes.length > maxRaw) maxRaw = bytes.length;
  if (stored > 500 * 1024) fail(`tile ${z}/${x}/${y} is ${stored} bytes stored (> 500 KB)`);
  const vt = new VectorTile(new Pbf(bytes));
  if (polyLayer && vt.layers[polyLayer]) {
    const pl = vt.layers[polyLayer];
    for (let i = 0; i < pl.length; i++) {
      const f = pl.feature(i);
      polyFeatures++;
      if (f.type !== 3) { fail(`${polyLayer} feature ${f.id} in ${z}/${x}/${y} is not a polygon`); continue; }
      const rings = f.loadGeometry();
      const area = (r) => { let a = 0; for (let k = 0, j = r.length - 1; k < r.length; j = k++) a += r[j].x * r[k].y - r[k].x * r[j].y; return a; };
      if (!(area(rings[0]) > 0)) fail(`${polyLayer} feature ${f.id} in ${z}/${x}/${y}: first ring is not an exterior (clockwise) ring`);
      if (z === header.minZoom) polyIdsMin.add(f.id);
      if (z === header.maxZoom) polyIdsMax.add(f.id);
      if (Object.keys(f.properties).length === 0) fail(`${polyLayer} feature ${f.id} has no attributes`);
    }
  }
  const lyr = vt.layers[layerName];
  if (!lyr) { layerMissing++; continue; }
  perZoom[z] = (perZoom[z] || 0) + lyr.length;
  for (let i = 0; i < lyr.length; i++) {
    const f = lyr.feature(i);
    if (f.type !== 1) { fail(`feature ${f.id} in ${z}/${x}/${y} is not a point`); continue; }
    const fz = firstZoom.get(f.id);
    if (fz === undefined || z < fz) firstZoom.set(f.id, z);
    if (z !== header.maxZoom) {
      const pc = f.properties.point_count;
      if (!Number.isInteger(pc) || pc < 1) fail(`feature ${f.id} in ${z}/${x}/${y}: point_count ${pc}`);
      else pcSum[z] = (pcSum[z] || 0) + pc;
      continue;
    }
    seenAtMax.set(f.id, (seenAtMax.get(f.id) || 0) + 1);
    const e = expected[f.id - 1];
    if (!e) { fail(`feature id ${f.id} has no expected row`); continue; }
    const g = f.toGeoJSON(x, y, z);
    const [lon, lat] = g.geometry.coordinates;
    const tol = 360 / (1 << z) / 4096 * 1.5;
    if (Math.abs(lon - e.geometry.coordinates[0]) > tol || Math.abs(lat - e.geometry.coordinates[1]) > tol)
      fail(`feature ${f.id}: position ${lon},${lat} vs ${e.geometry.coordinates}`);
    const want = {};
    for (const [k, v] of Object.entries(e.properties)) if (!attrs || attrs.includes(k)) if (k !== 'errors' && k !== 'warnings') want[k] = v;
    const got = f.properties;
    for (const [k, v] of Object.entries(want)) {
      if (v === null) continue;
      if (typeof v === 'number' ? Math.abs(got[k] - v) > 1e-9 * Math.max(1, Math.abs(v)) : got[k] !== v)
        fail(`feature ${f.id}: ${k} = ${JSON.stringify(got[k])}, expected ${JSON.stringify(v)}`);
    }
    for (const k of Object.keys(got)) if (!(k in want)) fail(`feature ${f.id}: unexpected attribute ${k}`);
  }
}
if (polyLayer) {
  const n = +polyCountArg;
  if (!meta.vector_layers.some((l) => l.id === polyLayer)) fail(`metadata has no vector_layers entry '${polyLayer}'`);
  // below one pixel a polygon vanishes at low zooms, as in every tiler; some must stay
  if (polyIdsMin.size < 1) fail(`no polygon at zoom ${header.minZoom}`);
  if (polyIdsMax.size !== n) fail(`${polyIdsMax.size} of ${n} polygons at zoom ${header.maxZoom}`);
}
let missing = 0, dup = 0;
for (let i = 1; i <= expected.length; i++) {
  const c = seenAtMax.get(i) || 0;
  if (c === 0) missing++;
  if (c > 1) dup++;
}
if (missing) fail(`${missing} of ${expected.length} rows missing at maxzoom`);
if (dup) fail(`${dup} rows in more than one tile at maxzoom`);
// thinning is monotone: count at zoom z never exceeds count at z + 1
for (let z = header.minZoom; z < header.maxZoom; z++)
  if ((perZoom[z] || 0) > (perZoom[z + 1] || 0)) fail(`zoom ${z} has more points (${perZoom[z]}) than zoom ${z + 1}`);
if (header.minZoom < header.maxZoom && expected.length > 0 && !(perZoom[header.minZoom] > 0)) fail('no point at the lowest zoom');
for (let z = header.minZoom; z < header.maxZoom; z++) {
  const n = expected.length, sum = pcSum[z] || 0;
  if (sum > n) fail(`zoom ${z}: point_count adds up to ${sum}, more than the ${n} points`);
  if ((perZoom[z] || 0) === n && sum !== n) fail(`zoom ${z}: nothing thinned but point_count adds up to ${sum}, not ${n}`);
  if (n > 0 && sum < 0.5 * n) fail(`zoom ${z}: point_count adds up to ${sum} of ${n} points`);
}
if (meta.vector_layers && header.minZoom < header.maxZoom) {
  const l = meta.vector_layers.find((v) => v.id === layerName);
  if (l && !(l.fields && l.fields.point_count === 'Number')) fail('vector_layers: no point_count field');
}
console.log(JSON.stringify({ polyFeatures, polygonsAtMax: polyIdsMax.size, tiles: ids.length, expected: expected.length, maxzoom: header.maxZoom, maxTile, maxRaw, maxTileId, perZoom, pcSum, failures }));
process.exit(failures.length ? 1 : 0);
