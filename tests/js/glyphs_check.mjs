// The map page's label glyphs (tools/glyphs/gf_glyphs.c), decoded with the
// npm `pbf` reader as MapLibre reads them (glyphs > stacks > glyph, the
// fields of maplibre-gl's readFontstacks/readGlyph): each FILE is one
// fontstack whose range is its file name, glyph ids inside that range and
// increasing, each bitmap (width+6) x (height+6) bytes (MapLibre's 3 px
// border), the characters French names need present, and the distance
// field the right way round (inside a stem above MapLibre's 0.75 edge,
// around the glyph below it).
// Prints a JSON summary; exit 0 when every check passed.
// Usage: node glyphs_check.mjs FONTSTACK FILE.pbf...
import Pbf from 'pbf';
import fs from 'fs';
import path from 'path';

const [stackName, ...files] = process.argv.slice(2);
const out = { files: {}, failed: [] };
const check = (ok, what) => { if (!ok) out.failed.push(what); return ok; };
// characters of French commune and street names, by range
const NEED = {
  '0-255': 'AZaz09 -\'éèêëàâäîïôöùûüçÉÈÊÀÂÎÔÛÇ',
  '256-511': 'œŒŸ',
  '8192-8447': '’–',
};
const readGlyph = (tag, g, pbf) => {
  if (tag === 1) g.id = pbf.readVarint();
  else if (tag === 2) g.bitmap = pbf.readBytes();
  else if (tag === 3) g.width = pbf.readVarint();
  else if (tag === 4) g.height = pbf.readVarint();
  else if (tag === 5) g.left = pbf.readSVarint();
  else if (tag === 6) g.top = pbf.readSVarint();
  else if (tag === 7) g.advance = pbf.readVarint();
};
const readStack = (tag, s, pbf) => {
  if (tag === 1) s.name = pbf.readString();
  else if (tag === 2) s.range = pbf.readString();
  else if (tag === 3) s.glyphs.push(pbf.readMessage(readGlyph, {}));
};
for (const f of files) {
  const range = path.basename(f, '.pbf');
  const [lo, hi] = range.split('-').map(Number);
  const stacks = new Pbf(fs.readFileSync(f)).readFields((tag, arr, pbf) => {
    if (tag === 1) arr.push(pbf.readMessage(readStack, { glyphs: [] }));
  }, []);
  const s = stacks[0] || { glyphs: [] };
  const r = { glyphs: s.glyphs.length, name: s.name, range: s.range };
  out.files[range] = r;
  check(stacks.length === 1 && s.name === stackName && s.range === range, `${range}: one fontstack ${stackName} ${range}`);
  check(hi === lo + 255 && lo % 256 === 0, `${range}: a 256-glyph range`);
  let prev = -1, badBitmap = 0;
  for (const g of s.glyphs) {
    check(g.id >= lo && g.id <= hi && g.id > prev, `${range}: glyph ${g.id} in range and in order`);
    prev = g.id;
    if (g.width && g.height) { if (!g.bitmap || g.bitmap.length !== (g.width + 6) * (g.height + 6)) badBitmap++; }
    else if (g.bitmap && g.bitmap.length) badBitmap++;
  }
  check(badBitmap === 0, `${range}: every bitmap is (width+6) x (height+6) (${badBitmap} are not)`);
  const ids = new Set(s.glyphs.map((g) => g.id));
  const missing = [...(NEED[range] || '')].filter((c) => !ids.has(c.codePointAt(0)));
  check(missing.length === 0, `${range}: has ${NEED[range] || ''} (missing: ${missing.join('')})`);
  // letters advance; the space advances with no bitmap
  for (const c of range === '0-255' ? 'A é' : '') {
    const g = s.glyphs.find((x) => x.id === c.codePointAt(0));
    check(g && g.advance > 4 && (c === ' ' ? !g.bitmap && !g.width : g.bitmap), `'${c}' advances (${g && g.advance})`);
  }
  // 'I' (a vertical stem): its middle column is inside, the border outside
  const I = s.glyphs.find((g) => g.id === 73);
  if (range === '0-255' && check(I && I.bitmap, '0-255: has I')) {
    const w = I.width + 6, h = I.height + 6, mid = Math.floor(w / 2);
    r.I = { width: I.width, height: I.height, left: I.left, top: I.top, advance: I.advance,
      centre: I.bitmap[Math.floor(h / 2) * w + mid], corner: I.bitmap[0] };
    check(r.I.centre > 192 && r.I.corner < 150, `0-255: I's distance field: centre ${r.I.centre} > 192, corner ${r.I.corner} < 150`);
    // the metrics at 24 px: a cap height of about 17 px, its top about
    // 27 px under MapLibre's origin (top = ascent - 27)
    check(I.height >= 15 && I.height <= 19 && I.top >= -12 && I.top <= -8, `0-255: I is ${I.height} px high, top ${I.top}`);
  }
}
console.log(JSON.stringify(out));
process.exit(out.failed.length ? 1 : 0);
