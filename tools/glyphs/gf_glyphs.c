/* gf_glyphs: writes the SDF glyph ranges the map page's labels need
 * (FONTSTACK/START-END.pbf, MapLibre's glyph format) from a font file,
 * at build time.
 *
 * Why hand-written: MapLibre draws text from signed-distance-field glyph
 * PBFs fetched from a URL; no Debian or npm package available offline here
 * ships them (the usual ones are downloaded from a CDN or made by
 * node-fontnik, a native build), and the page must not make a request that
 * leaves the machine. FreeType (2.12, Debian libfreetype-dev) computes the
 * distance field itself (FT_RENDER_MODE_SDF); this tool only rescales its
 * values to the ones MapLibre's shader expects and writes the protobuf.
 *
 * MapLibre's conventions, the same as its own local glyphs (TinySDF in
 * maplibre-gl's glyph manager): glyphs at 24 px, a 3 px border around each
 * bitmap, byte = 255 - 255 * (d / 8 + 0.25) with d the distance in pixels,
 * positive outside (the edge is 191.25, what the shader's 0.75 cut-off reads),
 * and metrics.top measured from the baseline minus 27.5 px (rounded to 27:
 * the field is an integer).
 *
 * The output depends only on the font file and FreeType: glyphs in code
 * point order, no timestamps. Written to NAME.tmp then renamed.
 *
 * Usage: gf_glyphs OUTDIR FONTSTACK FONT.ttf START-END...
 * (each range 256 code points long, START a multiple of 256, as MapLibre
 * asks for them). Exit 0, or 1 with a message naming the file. */
#include <ft2build.h>
#include FT_FREETYPE_H
#include FT_MODULE_H

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum { SIZE_PX = 24, BORDER = 3, SPREAD = 8 /* FreeType's spread: distances up to 8 px, cropped to the border */ };

typedef struct { uint8_t *p; size_t n, cap; } buf;

static int put(buf *b, const void *data, size_t n)
{
    if (n > b->cap - b->n) {
        size_t cap = b->cap ? b->cap : 4096;
        while (n > cap - b->n) {
            if (cap > SIZE_MAX / 2) return -1;
            cap *= 2;
        }
        uint8_t *p = realloc(b->p, cap);
        if (!p) return -1;
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, data, n);
    b->n += n;
    return 0;
}

static int varint(buf *b, uint64_t v)
{
    uint8_t t[10];
    int k = 0;
    do { t[k++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0)); v >>= 7; } while (v);
    return put(b, t, (size_t)k);
}

static int field_varint(buf *b, unsigned field, uint64_t v) { return varint(b, (uint64_t)field << 3) || varint(b, v); }
static int field_sint(buf *b, unsigned field, int32_t v)
{
    return field_varint(b, field, ((uint32_t)v << 1) ^ (uint32_t)(v >> 31));
}
static int field_bytes(buf *b, unsigned field, const void *p, size_t n)
{
    return varint(b, ((uint64_t)field << 3) | 2) || varint(b, n) || put(b, p, n);
}

/* One glyph message into g (cleared first); 1 when the font has no glyph. */
static int glyph(FT_Face face, unsigned cp, buf *g, const char *font)
{
    g->n = 0;
    FT_UInt gi = FT_Get_Char_Index(face, cp);
    if (!gi) return 1;
    /* unhinted outlines: the distance field is of the designed shape */
    if (FT_Load_Glyph(face, gi, FT_LOAD_NO_HINTING | FT_LOAD_NO_BITMAP)) {
        fprintf(stderr, "gf_glyphs: %s: U+%04X: cannot load the glyph\n", font, cp);
        return -1;
    }
    FT_GlyphSlot s = face->glyph;
    int32_t advance = (int32_t)((s->advance.x + 32) >> 6);
    uint32_t w = 0, h = 0;
    int32_t left = 0, top = 0;
    uint8_t *sdf = NULL;
    if (s->format == FT_GLYPH_FORMAT_OUTLINE && s->outline.n_contours > 0) {
        if (FT_Render_Glyph(s, FT_RENDER_MODE_SDF)) {
            fprintf(stderr, "gf_glyphs: %s: U+%04X: FreeType's SDF renderer failed\n", font, cp);
            return -1;
        }
        /* FreeType pads the bitmap with SPREAD pixels on each side */
        FT_Bitmap *bm = &s->bitmap;
        if (bm->pixel_mode != FT_PIXEL_MODE_GRAY || bm->width < 2 * SPREAD || bm->rows < 2 * SPREAD) {
            fprintf(stderr, "gf_glyphs: %s: U+%04X: unexpected SDF bitmap (%ux%u, mode %d)\n", font, cp, bm->width,
                    bm->rows, bm->pixel_mode);
            return -1;
        }
        w = bm->width - 2 * SPREAD;
        h = bm->rows - 2 * SPREAD;
        left = s->bitmap_left + SPREAD;
        top = s->bitmap_top - SPREAD;
        uint32_t bw = w + 2 * BORDER, bh = h + 2 * BORDER;
        if (!(sdf = malloc((size_t)bw * bh))) return -1;
        for (uint32_t y = 0; y < bh; y++)
            for (uint32_t x = 0; x < bw; x++) {
                uint8_t v = bm->buffer[(size_t)(y + SPREAD - BORDER) * (size_t)abs(bm->pitch) + x + SPREAD - BORDER];
                /* FreeType: (v - 128) / 128 * spread pixels, positive inside */
                double inside = (v - 128.0) / 128.0 * SPREAD;
                long q = lround(255.0 - 255.0 * (-inside / 8.0 + 0.25));
                sdf[(size_t)y * bw + x] = (uint8_t)(q < 0 ? 0 : q > 255 ? 255 : q);
            }
        if (field_varint(g, 1, cp) || field_bytes(g, 2, sdf, (size_t)bw * bh)) { free(sdf); return -1; }
        free(sdf);
    } else if (field_varint(g, 1, cp)) return -1;
    if (field_varint(g, 3, w) || field_varint(g, 4, h) || field_sint(g, 5, left) ||
        field_sint(g, 6, top - 27) || field_varint(g, 7, (uint32_t)advance))
        return -1;
    return 0;
}

static int write_file(const char *path, const buf *b)
{
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) return -1;
    FILE *f = fopen(tmp, "wb");
    if (!f) { fprintf(stderr, "gf_glyphs: %s: %s\n", tmp, strerror(errno)); return -1; }
    int bad = fwrite(b->p, 1, b->n, f) != b->n;
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, path)) {
        fprintf(stderr, "gf_glyphs: %s: cannot write: %s\n", path, strerror(errno));
        remove(tmp);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: gf_glyphs OUTDIR FONTSTACK FONT.ttf START-END...\n");
        return 2;
    }
    const char *outdir = argv[1], *stack = argv[2], *font = argv[3];
    FT_Library lib;
    FT_Face face;
    if (FT_Init_FreeType(&lib)) { fprintf(stderr, "gf_glyphs: cannot start FreeType\n"); return 1; }
    FT_Int spread = SPREAD;
    if (FT_Property_Set(lib, "sdf", "spread", &spread)) {
        fprintf(stderr, "gf_glyphs: this FreeType has no SDF renderer (FreeType >= 2.11 needed)\n");
        return 1;
    }
    if (FT_New_Face(lib, font, 0, &face)) {
        fprintf(stderr, "gf_glyphs: %s: cannot open the font (Debian fonts-dejavu-core)\n", font);
        return 1;
    }
    if (FT_Set_Pixel_Sizes(face, 0, SIZE_PX)) { fprintf(stderr, "gf_glyphs: %s: not a scalable font\n", font); return 1; }
    char dir[PATH_MAX];
    if (snprintf(dir, sizeof dir, "%s/%s", outdir, stack) >= (int)sizeof dir) return 1;
    if (mkdir(outdir, 0755) && errno != EEXIST) { fprintf(stderr, "gf_glyphs: %s: %s\n", outdir, strerror(errno)); return 1; }
    if (mkdir(dir, 0755) && errno != EEXIST) { fprintf(stderr, "gf_glyphs: %s: %s\n", dir, strerror(errno)); return 1; }
    buf g = {0}, st = {0}, out = {0};
    int rc = 0;
    for (int a = 4; a < argc && !rc; a++) {
        char *end;
        errno = 0;
        unsigned long lo = strtoul(argv[a], &end, 10), hi = 0;
        if (!errno && *end == '-') hi = strtoul(end + 1, &end, 10);
        if (errno || *end || lo % 256 || hi != lo + 255 || hi > 0xffff) {
            fprintf(stderr, "gf_glyphs: %s: not a glyph range (START-END, START a multiple of 256, 256 long)\n", argv[a]);
            rc = 2;
            break;
        }
        st.n = out.n = 0;
        if (field_bytes(&st, 1, stack, strlen(stack)) || field_bytes(&st, 2, argv[a], strlen(argv[a]))) rc = 1;
        for (unsigned long cp = lo; cp <= hi && !rc; cp++) {
            int r = glyph(face, (unsigned)cp, &g, font);
            if (r < 0) rc = 1;
            else if (r == 0 && field_bytes(&st, 3, g.p, g.n)) rc = 1;
        }
        if (rc || field_bytes(&out, 1, st.p, st.n)) { rc = 1; break; }
        char path[PATH_MAX];
        if (snprintf(path, sizeof path, "%s/%s.pbf", dir, argv[a]) >= (int)sizeof path || write_file(path, &out)) rc = 1;
    }
    free(g.p);
    free(st.p);
    free(out.p);
    FT_Done_Face(face);
    FT_Done_FreeType(lib);
    return rc;
}
