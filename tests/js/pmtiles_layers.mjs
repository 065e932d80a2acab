// Counts what a PMTiles archive holds per layer, with readers nobody here
// wrote (`pmtiles` for the archive, `@mapbox/vector-tile` + `pbf` for the
// MVT): for every tile of zoom Z (default: the archive's maxzoom), the
// distinct feature ids of each layer, and their property names. Prints
// JSON: {"vector_layers":[ids], "layers":{NAME:{"features":N,"keys":[..],
// "types":[..]}}, "minzoom":{NAME:first zoom holding it}}.
// Usage: node pmtiles_layers.mjs ARCHIVE.pmtiles [Z]
import fs from 'node:fs';
import { PMTiles, tileIdToZxy } from 'pmtiles';
import { VectorTile } from '@mapbox/vector-tile';
import Pbf from 'pbf';
import zlib from 'node:zlib';

const [archive, zArg] = process.argv.slice(2);
const fd = fs.openSync(archive, 'r');
const pm = new PMTiles({
  getKey: () => archive,
  getBytes: async (offset, length) => {
    const b = Buffer.alloc(length);
    fs.readSync(fd, b, 0, length, offset);
    return { data: b.buffer.slice(b.byteOffset, b.byteOffset + length) };
  },
});
const header = await pm.getHeader();
const meta = await pm.getMetadata();
const want = zArg === undefined ? header.maxZoom : Number(zArg);
const out = { vector_layers: (meta.vector_layers || []).map((l) => l.id), layers: {}, minzoom: {} };
const ids = {};
// every tile id: walk the directories through the library's own entry reader
async function entries(offset, length, acc) {
  const dir = await pm.cache.getDirectory(pm.source, offset, length, header);
  for (const e of dir) {
    if (e.runLength === 0) await entries(header.leafDirectoryOffset + e.offset, e.length, acc);
    else for (let k = 0; k < e.runLength; k++) acc.push(e.tileId + k);
  }
  return acc;
}
const all = await entries(header.rootDirectoryOffset, header.rootDirectoryLength, []);
for (const id of all) {
  const [z, x, y] = tileIdToZxy(id);
  const t = await pm.getZxy(z, x, y);
  if (!t) continue;
  let data = Buffer.from(t.data);
  if (data[0] === 0x1f && data[1] === 0x8b) data = zlib.gunzipSync(data);
  const vt = new VectorTile(new Pbf(data));
  for (const name of Object.keys(vt.layers)) {
    if (!(name in out.minzoom) || z < out.minzoom[name]) out.minzoom[name] = z;
    if (z !== want) continue;
    const l = vt.layers[name];
    const o = out.layers[name] || (out.layers[name] = { features: 0, keys: [], types: [] });
    const seen = ids[name] || (ids[name] = new Set());
    for (let i = 0; i < l.length; i++) {
      const f = l.feature(i);
      if (!seen.has(f.id)) { seen.add(f.id); o.features++; }
      if (!o.types.includes(f.type)) o.types.push(f.type);
      for (const k of Object.keys(f.properties)) if (!o.keys.includes(k)) o.keys.push(k);
    }
  }
}
for (const o of Object.values(out.layers)) { o.keys.sort(); o.types.sort(); }
console.log(JSON.stringify(out));
