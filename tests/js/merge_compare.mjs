// Compares two PMTiles archives tile by tile with readers nobody here wrote
// (`pmtiles` for the archive, `@mapbox/vector-tile` + `pbf` for the MVT):
// for every tile of either, per layer, the multiset of features, each as
// its id, type, geometry and properties. Used by tests/cli/merge.sh to
// check that `geoflux merge` of per-department archives decodes to what one
// run over all the inputs wrote.
// Prints one JSON object: {"zooms":{Z:{"tiles":[nA,nB],"equal":N,"differ":N,
// "differ_layers":[names],"points":[featuresA,featuresB]}},"dup_ids":N,
// "first_diff":"z/x/y layer: ..."}; points counts the features of LAYER
// (default addresses) at that zoom; dup_ids counts ids seen twice in one
// layer of one tile of B.
// Usage: node merge_compare.mjs A.pmtiles B.pmtiles [LAYER]
import fs from 'node:fs';
import { PMTiles, tileIdToZxy } from 'pmtiles';
import { VectorTile } from '@mapbox/vector-tile';
import Pbf from 'pbf';
import zlib from 'node:zlib';

const [pa, pb, pointLayer = 'addresses'] = process.argv.slice(2);

function open(path) {
  const fd = fs.openSync(path, 'r');
  return new PMTiles({
    getKey: () => path,
    getBytes: async (offset, length) => {
      const b = Buffer.alloc(length);
      fs.readSync(fd, b, 0, length, offset);
      return { data: b.buffer.slice(b.byteOffset, b.byteOffset + length) };
    },
  });
}

async function ids(pm) {
  const header = await pm.getHeader();
  const acc = [];
  async function walk(offset, length) {
    const dir = await pm.cache.getDirectory(pm.source, offset, length, header);
    for (const e of dir) {
      if (e.runLength === 0) await walk(header.leafDirectoryOffset + e.offset, e.length);
      else for (let k = 0; k < e.runLength; k++) acc.push(e.tileId + k);
    }
  }
  await walk(header.rootDirectoryOffset, header.rootDirectoryLength);
  return acc;
}

// layer name -> sorted array of feature keys
async function decode(pm, z, x, y, dup) {
  const t = await pm.getZxy(z, x, y);
  const out = {};
  if (!t) return out;
  let data = Buffer.from(t.data);
  if (data[0] === 0x1f && data[1] === 0x8b) data = zlib.gunzipSync(data);
  const vt = new VectorTile(new Pbf(data));
  for (const name of Object.keys(vt.layers)) {
    const l = vt.layers[name];
    const keys = [];
    const seen = new Set();
    for (let i = 0; i < l.length; i++) {
      const f = l.feature(i);
      if (f.id !== undefined) { if (seen.has(f.id)) dup.n++; seen.add(f.id); }
      const props = Object.keys(f.properties).sort().map((k) => [k, f.properties[k]]);
      const geom = f.loadGeometry().map((ring) => ring.map((p) => [p.x, p.y]));
      keys.push(JSON.stringify([f.id, f.type, geom, props]));
    }
    keys.sort();
    out[name] = keys;
  }
  return out;
}

const A = open(pa), B = open(pb);
const all = [...new Set([...(await ids(A)), ...(await ids(B))])].sort((a, b) => a - b);
const res = { zooms: {}, dup_ids: 0, first_diff: null };
const dupA = { n: 0 }, dupB = { n: 0 };
for (const id of all) {
  const [z, x, y] = tileIdToZxy(id);
  const zs = res.zooms[z] || (res.zooms[z] = { tiles: [0, 0], equal: 0, differ: 0, differ_layers: [], points: [0, 0] });
  const a = await decode(A, z, x, y, dupA), b = await decode(B, z, x, y, dupB);
  if (Object.keys(a).length) zs.tiles[0]++;
  if (Object.keys(b).length) zs.tiles[1]++;
  zs.points[0] += (a[pointLayer] || []).length;
  zs.points[1] += (b[pointLayer] || []).length;
  let same = true;
  for (const name of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const ka = a[name] || [], kb = b[name] || [];
    if (ka.length === kb.length && ka.every((k, i) => k === kb[i])) continue;
    same = false;
    if (!zs.differ_layers.includes(name)) zs.differ_layers.push(name);
    if (!res.first_diff)
      res.first_diff = `${z}/${x}/${y} ${name}: ${ka.length} vs ${kb.length} features; ` +
        `first only in A: ${(ka.find((k) => !kb.includes(k)) || '-').slice(0, 200)}; ` +
        `first only in B: ${(kb.find((k) => !ka.includes(k)) || '-').slice(0, 200)}`;
  }
  if (same) zs.equal++; else zs.differ++;
}
res.dup_ids = dupB.n;
for (const zs of Object.values(res.zooms)) zs.differ_layers.sort();
console.log(JSON.stringify(res));
