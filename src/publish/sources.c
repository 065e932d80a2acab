/* Submissions: the sources walked, each file hashed, sniffed, classified by
 * its header and split by commune.
 *
 * A file of one commune is read in place by the convert job; a file of
 * several (an EPCI's BAL, a BAN extract) is split into one scratch CSV per
 * commune: its header, then the commune's records as read (after
 * transcoding, so the parts are UTF-8). The commune of a record is its
 * commune_insee, else the first five characters of its cle_interop; a
 * record with neither is rejected with the submission's counts. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <xxhash.h>

#include "geoflux/address.h"
#include "geoflux/ingest.h"
#include "publish/pub_int.h"

/* ---- hashes ---------------------------------------------------------------- */

static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

uint64_t pb_row_hash(const char *p, size_t n)
{
    uint64_t a = 14695981039346656037ULL;
    for (size_t i = 0; i < n; i++) a = (a ^ (unsigned char)p[i]) * 1099511628211ULL;
    return mix64(a ^ n);
}

const char *pb_kind_name(int kind)
{
    switch (kind) {
    case PB_KIND_BAL: return "bal";
    case PB_KIND_BAN: return "ban";
    case PB_KIND_EQUIP: return "equipments";
    default: return NULL;
    }
}

const char *pb_status_name(int st)
{
    static const char *const n[] = {"published", "unchanged", "rejected", "conflict", "missing", "accepted"};
    return st >= 0 && st <= PB_ST_ACCEPTED ? n[st] : "?";
}

/* ---- files ------------------------------------------------------------------ */

gf_status pb_read_file(gf_ctx *ctx, const char *path, gf_buf *out)
{
    FILE *f = fopen(path, "rb");
    if (!f) return gf_ctx_err(ctx, GF_ERR_INPUT, "%s: %s", path, strerror(errno));
    struct stat sb;
    gf_status st = GF_OK;
    /* read in place: no copy through a small buffer, no regrowth */
    if (fstat(fileno(f), &sb) == 0 && gf_buf_reserve(out, (size_t)sb.st_size + 1))
        st = gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    while (!st) {
        if (out->cap - out->len < 65536 && gf_buf_reserve(out, 65536)) {
            st = gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
            break;
        }
        size_t n = fread(out->p + out->len, 1, out->cap - out->len, f);
        out->len += n;
        if (n == 0) break;
    }
    if (!st && ferror(f)) st = gf_ctx_err(ctx, GF_ERR_INPUT, "%s: read error", path);
    fclose(f);
    return st;
}

gf_status pb_write_file(gf_ctx *ctx, const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f) return gf_ctx_err(ctx, GF_ERR_OUTPUT, "%s: %s", path, strerror(errno));
    int bad = n && fwrite(p, 1, n, f) != n;
    bad |= fclose(f) != 0;
    return bad ? gf_ctx_err(ctx, GF_ERR_OUTPUT, "%s: write error", path) : GF_OK;
}

static gf_status add_sub(gf_ctx *ctx, pb_set *set, const char *path)
{
    if (set->nsubs == set->capsubs) {
        int cap = set->capsubs ? 2 * set->capsubs : 64;
        pb_sub *n = realloc(set->subs, (size_t)cap * sizeof *n);
        if (!n) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
        set->subs = n;
        set->capsubs = cap;
    }
    pb_sub *s = &set->subs[set->nsubs];
    memset(s, 0, sizeof *s);
    if (!(s->path = strdup(path))) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    s->status = PB_ST_ACCEPTED;
    set->nsubs++;
    return GF_OK;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Adds path, or every regular file under it (names in byte order, hidden
 * names skipped). */
static gf_status walk(gf_ctx *ctx, pb_set *set, const char *path, int top)
{
    struct stat sb;
    if (stat(path, &sb) != 0) {
        if (top) return gf_ctx_err(ctx, GF_ERR_INPUT, "%s: %s", path, strerror(errno));
        return GF_OK; /* a dangling link inside a source: skipped */
    }
    if (!S_ISDIR(sb.st_mode)) return S_ISREG(sb.st_mode) || top ? add_sub(ctx, set, path) : GF_OK;
    DIR *d = opendir(path);
    if (!d) return gf_ctx_err(ctx, GF_ERR_INPUT, "%s: %s", path, strerror(errno));
    char **names = NULL;
    size_t n = 0, cap = 0;
    gf_status st = GF_OK;
    struct dirent *e;
    while (!st && (e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 32;
            char **nn = realloc(names, cap * sizeof *nn);
            if (!nn) { st = gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory"); break; }
            names = nn;
        }
        size_t l = strlen(path);
        char *full = malloc(l + strlen(e->d_name) + 2);
        if (!full) { st = gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory"); break; }
        sprintf(full, "%s%s%s", path, l && path[l - 1] == '/' ? "" : "/", e->d_name);
        names[n++] = full;
    }
    closedir(d);
    if (!st && n) qsort(names, n, sizeof *names, cmp_str);
    for (size_t i = 0; i < n; i++) {
        if (!st) st = walk(ctx, set, names[i], 0);
        free(names[i]);
    }
    free(names);
    return st;
}

/* The name of the folder holding path ("" at the top). */
static char *parent_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash) return strdup("");
    const char *end = slash;
    while (end > path && end[-1] == '/') end--;
    const char *beg = end;
    while (beg > path && beg[-1] != '/') beg--;
    size_t n = (size_t)(end - beg);
    if (n == 1 && *beg == '.') return strdup("");
    char *r = malloc(n + 1);
    if (r) { memcpy(r, beg, n); r[n] = 0; }
    return r;
}

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

/* The manifest: `file;producer;received_at` (header required, any
 * separator the CSV reader detects). A submission takes the row whose file
 * is its path as given, else its file name. */
static gf_status apply_manifest(gf_ctx *ctx, const char *manifest, pb_set *set)
{
    gf_stream *s;
    gf_status st = gf_stream_open(ctx, manifest, &s);
    if (st) return st == GF_ERR_IO ? GF_ERR_INPUT : st;
    gf_csv *c;
    gf_csv_opts co = {0};
    if ((st = gf_csv_open(ctx, s, &co, &c))) return st;
    gf_csv_record r;
    int cf = -1, cp = -1, cr = -1;
    if ((st = gf_csv_next(c, ctx, &r)) != GF_OK) {
        gf_csv_close(c);
        return gf_ctx_err(ctx, GF_ERR_INPUT, "%s: empty manifest (expected the header file;producer;received_at)", manifest);
    }
    for (int i = 0; i < r.nfields; i++) {
        char h[64];
        gf_header_norm(r.field[i], r.len[i], h, sizeof h);
        if (!strcmp(h, "file")) cf = i;
        else if (!strcmp(h, "producer")) cp = i;
        else if (!strcmp(h, "received_at")) cr = i;
    }
    if (cf < 0 || cp < 0) {
        gf_csv_close(c);
        return gf_ctx_err(ctx, GF_ERR_INPUT, "%s:1: the manifest needs the columns file and producer (and received_at)",
                          manifest);
    }
    while ((st = gf_csv_next(c, ctx, &r)) == GF_OK) {
        if (r.error || cf >= r.nfields) continue;
        const char *file = r.field[cf];
        size_t fl = r.len[cf];
        for (int i = 0; i < set->nsubs; i++) {
            pb_sub *sb = &set->subs[i];
            const char *bn = base_name(sb->path);
            if (!(strlen(sb->path) == fl && !memcmp(sb->path, file, fl)) && !(strlen(bn) == fl && !memcmp(bn, file, fl)))
                continue;
            if (cp < r.nfields && r.len[cp]) {
                free(sb->producer);
                sb->producer = strndup(r.field[cp], r.len[cp]);
            }
            if (cr >= 0 && cr < r.nfields && r.len[cr]) {
                free(sb->received_at);
                sb->received_at = strndup(r.field[cr], r.len[cr]);
            }
            if (!sb->producer || !sb->received_at) st = gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
        }
        if (st < 0) break;
    }
    gf_csv_close(c);
    return st == GF_DONE ? GF_OK : st;
}

static gf_status reject(gf_ctx *ctx, pb_sub *s, const char *fmt, const char *arg)
{
    char msg[600];
    snprintf(msg, sizeof msg, fmt, arg ? arg : "");
    free(s->reason);
    if (!(s->reason = strdup(msg))) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    s->status = PB_ST_REJECTED;
    return GF_OK;
}

/* Hash of the file's bytes (as stored: a .gz is hashed compressed), 32 hex
 * digits: XXH3-128 (libxxhash), change detection, not security. It reads
 * at memory speed: the pair of FNV-1a streams it replaced took 0.49 s for
 * the 198 MB of the 1M-row bench's sources, XXH3 0.012 s, and every run
 * hashes every file. With legacy (a store keyed by that pair), that hash
 * too, in the same read, for pb_store_rehash(). */
static gf_status hash_file(gf_ctx *ctx, pb_sub *s, char legacy[33])
{
    FILE *f = fopen(s->path, "rb");
    if (!f) return reject(ctx, s, "cannot be read: %s", strerror(errno));
    XXH3_state_t *x = XXH3_createState();
    if (!x) {
        fclose(f);
        return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    }
    XXH3_128bits_reset(x);
    uint64_t la = 14695981039346656037ULL, lb = 0x6c62272e07bb0142ULL;
    char buf[1 << 16];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        XXH3_128bits_update(x, buf, n);
        for (size_t i = 0; legacy && i < n; i++) {
            la = (la ^ (unsigned char)buf[i]) * 1099511628211ULL;
            lb = (lb ^ (unsigned char)buf[i]) * 0x100000001b3ULL + 0x9e3779b97f4a7c15ULL;
        }
    }
    int err = ferror(f);
    fclose(f);
    XXH128_hash_t h = XXH3_128bits_digest(x);
    XXH3_freeState(x);
    if (err) return reject(ctx, s, "cannot be read: %s", "read error");
    snprintf(s->hash, sizeof s->hash, "%016llx%016llx", (unsigned long long)h.high64, (unsigned long long)h.low64);
    if (legacy)
        snprintf(legacy, 33, "%016llx%016llx", (unsigned long long)mix64(la), (unsigned long long)mix64(lb));
    return GF_OK;
}

/* What the first bytes (decompressed) say: NULL for "looks like text". */
static const char *sniff(const char *p, size_t n)
{
    if (n >= 3 && (unsigned char)p[0] == 0xEF && (unsigned char)p[1] == 0xBB && (unsigned char)p[2] == 0xBF) {
        p += 3;
        n -= 3;
    }
    while (n && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')) { p++; n--; }
    if (n >= 5 && (!strncasecmp(p, "<!doc", 5) || !strncasecmp(p, "<html", 5) || !strncasecmp(p, "<?xml", 5)
                   || !strncasecmp(p, "<head", 5) || !strncasecmp(p, "<body", 5)))
        return "an HTML or XML page, not a CSV file";
    if (n && (*p == '{' || *p == '[')) return "JSON, not a CSV file";
    return NULL;
}

typedef struct part_buf {
    char code[6];
    gf_buf rows;
    /* per row kept: its first line in the part's file, then in the
     * submission (two u64), so that the rows the run rejects or repairs
     * are named by the user's file and line (pb_part.lines) */
    gf_buf map;
    uint64_t part_line; /* the next row's first line in the part's file */
    uint64_t nrows, transcoded;
    int flushed;     /* rows already appended to its file */
    char *path;
} part_buf;

static int valid_code(const char *p, size_t n)
{
    if (n != 5) return 0;
    for (size_t i = 0; i < 5; i++) {
        char c = p[i];
        if (!((c >= '0' && c <= '9') || (i == 1 && (c == 'A' || c == 'B' || c == 'a' || c == 'b')))) return 0;
    }
    return 1;
}

static void trim(const char **p, size_t *n)
{
    while (*n && (**p == ' ' || **p == '\t')) { (*p)++; (*n)--; }
    while (*n && ((*p)[*n - 1] == ' ' || (*p)[*n - 1] == '\t')) (*n)--;
}

/* A split part's line map, beside its file (pb_part.lines). */
static void lines_path(const char *part, char *out, size_t cap) { snprintf(out, cap, "%s.lines", part); }

static gf_status flush_part(gf_ctx *ctx, part_buf *pb, const char *header, size_t hlen)
{
    FILE *f = fopen(pb->path, pb->flushed ? "ab" : "wb");
    if (!f) return gf_ctx_err(ctx, GF_ERR_IO, "scratch file %s: %s", pb->path, strerror(errno));
    int bad = 0;
    if (!pb->flushed) bad |= fwrite(header, 1, hlen, f) != hlen || fputc('\n', f) == EOF;
    if (pb->rows.len) bad |= fwrite(pb->rows.p, 1, pb->rows.len, f) != pb->rows.len;
    bad |= fclose(f) != 0;
    if (bad) return gf_ctx_err(ctx, GF_ERR_IO, "scratch file %s: write error", pb->path);
    char mp[4200];
    lines_path(pb->path, mp, sizeof mp);
    if (!(f = fopen(mp, pb->flushed ? "ab" : "wb"))) return gf_ctx_err(ctx, GF_ERR_IO, "scratch file %s: %s", mp, strerror(errno));
    bad = pb->map.len && fwrite(pb->map.p, 1, pb->map.len, f) != pb->map.len;
    bad |= fclose(f) != 0;
    if (bad) return gf_ctx_err(ctx, GF_ERR_IO, "scratch file %s: write error", mp);
    gf_buf_free(&pb->map);
    pb->flushed = 1;
    /* freed, not kept for the next rows: in a file sorted by commune each
     * buffer would otherwise keep the size of its whole commune, and the
     * buffers together the whole file */
    gf_buf_free(&pb->rows);
    return GF_OK;
}

/* Reads a BAL/BAN submission: its communes, their rows, the split parts. */
static gf_status split(gf_ctx *ctx, pb_set *set, int si, gf_csv *c, const gf_csv_record *hdr0,
                       const gf_header_map *hm, const char *scratch, int keep, int *restart)
{
    *restart = 0;
    pb_sub *s = &set->subs[si];
    int ci = hm->field_col[GF_A_COMMUNE_INSEE], ck = hm->field_col[GF_A_CLE_INTEROP];
    char *header = strndup(hdr0->raw, hdr0->rawlen);
    if (!header) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    size_t hlen = hdr0->rawlen;
    part_buf *pbs = NULL;
    int np = 0, cap = 0, last = -1;
    size_t buffered = 0;
    /* Most files hold one commune and are read in place: their rows are
     * not kept. Rows are kept from the moment a second commune (or a row
     * without one) shows; the rows read before it are those of the first
     * commune, read again from the file then (restart). */

    gf_status st;
    gf_csv_record r;
    while ((st = gf_csv_next(c, ctx, &r)) == GF_OK) {
        s->rows++;
        const char *v = NULL;
        size_t vn = 0;
        char code[6] = "";
        if (ci >= 0 && ci < r.nfields) {
            v = r.field[ci];
            vn = r.len[ci];
            trim(&v, &vn);
        }
        if ((!v || !vn) && ck >= 0 && ck < r.nfields && r.len[ck] >= 5) {
            v = r.field[ck];
            vn = 5;
            const char *q = v;
            size_t qn = r.len[ck];
            trim(&q, &qn);
            v = q;
            if (qn < 5) vn = 0;
        }
        if (v && valid_code(v, vn)) {
            for (int i = 0; i < 5; i++) code[i] = (char)(v[i] == 'a' ? 'A' : v[i] == 'b' ? 'B' : v[i]);
            code[5] = 0;
        } else {
            s->rows_unplaced++;
            if (!keep) { *restart = 1; break; }
            continue;
        }
        int k = last >= 0 && !strcmp(pbs[last].code, code) ? last : -1;
        for (int i = 0; k < 0 && i < np; i++)
            if (!strcmp(pbs[i].code, code)) k = i;
        if (k < 0) {
            if (np == cap) {
                cap = cap ? 2 * cap : 8;
                part_buf *n = realloc(pbs, (size_t)cap * sizeof *n);
                if (!n) { st = gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory"); break; }
                pbs = n;
            }
            k = np++;
            memset(&pbs[k], 0, sizeof pbs[k]);
            memcpy(pbs[k].code, code, 6);
            char path[4096];
            snprintf(path, sizeof path, "%s/sub%d-%s.csv", scratch, si, code);
            if (!(pbs[k].path = strdup(path))) { st = gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory"); break; }
        }
        last = k;
        if (!keep && np > 1) { *restart = 1; break; } /* a second commune: read again, keeping the rows */
        part_buf *pb = &pbs[k];
        pb->nrows++;
        pb->transcoded += r.transcoded != 0;
        if (!keep) continue;
        if (!pb->part_line) pb->part_line = 2; /* after the header */
        uint64_t m[2] = {pb->part_line, r.line};
        if (gf_buf_append(&pb->rows, r.raw, r.rawlen) || gf_buf_append(&pb->rows, "\n", 1) ||
            gf_buf_append(&pb->map, m, sizeof m)) {
            st = gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
            break;
        }
        pb->part_line++;
        for (const char *q = r.raw, *e = r.raw + r.rawlen; (q = memchr(q, '\n', (size_t)(e - q))); q++) pb->part_line++;
        buffered += r.rawlen + 1;
        if (buffered > (64u << 20)) {
            for (int i = 0; i < np && st == GF_OK; i++)
                if (pbs[i].rows.len) st = flush_part(ctx, &pbs[i], header, hlen);
            if (st) break;
            buffered = 0;
        }
    }
    if (*restart) {
        for (int i = 0; i < np; i++) { gf_buf_free(&pbs[i].rows); gf_buf_free(&pbs[i].map); free(pbs[i].path); }
        free(pbs);
        free(header);
        s->rows = s->rows_unplaced = 0;
        return GF_OK;
    }
    if (st == GF_DONE) st = GF_OK;
    else if (st < 0 && (st == GF_ERR_PARSE || st == GF_ERR_SCHEMA || st == GF_ERR_INPUT || st == GF_ERR_IO)) {
        /* the file ends in a way the reader cannot go past (truncated gzip) */
        st = reject(ctx, s, "cannot be read to its end: %s", gf_ctx_errmsg(ctx));
        for (int i = 0; i < np; i++) { gf_buf_free(&pbs[i].rows); gf_buf_free(&pbs[i].map); free(pbs[i].path); }
        np = 0;
    }
    /* one commune and every row placed: the file is read in place */
    int in_place = np == 1 && !s->rows_unplaced && !pbs[0].flushed;
    s->first_part = set->nparts;
    for (int i = 0; i < np && st == GF_OK; i++) {
        if (!in_place) st = flush_part(ctx, &pbs[i], header, hlen);
        if (st) break;
        if (set->nparts == set->capparts) {
            int ncap = set->capparts ? 2 * set->capparts : 64;
            pb_part *n = realloc(set->parts, (size_t)ncap * sizeof *n);
            if (!n) { st = gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory"); break; }
            set->parts = n;
            set->capparts = ncap;
        }
        pb_part *p = &set->parts[set->nparts++];
        memset(p, 0, sizeof *p);
        p->sub = si;
        memcpy(p->code, pbs[i].code, 6);
        p->rows = pbs[i].nrows;
        p->transcoded = pbs[i].transcoded;
        if (!(p->input = strdup(in_place ? s->path : pbs[i].path))) st = gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
        if (!st && !in_place) {
            char mp[4200];
            lines_path(pbs[i].path, mp, sizeof mp);
            if (!(p->lines = strdup(mp))) st = gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
        }
        s->nparts++;
    }
    for (int i = 0; i < np; i++) { gf_buf_free(&pbs[i].rows); gf_buf_free(&pbs[i].map); free(pbs[i].path); }
    free(pbs);
    free(header);
    if (!st && s->status != PB_ST_REJECTED && !s->nparts)
        st = reject(ctx, s, "%s", s->rows ? "no row names its commune (commune_insee or cle_interop)" : "no data rows");
    return st;
}

/* Classifies and splits one submission. Problems of the file itself make a
 * rejected submission, not a failed run. */
static gf_status examine(gf_ctx *ctx, const gf_publish_opts *o, pb_set *set, int si, const char *scratch)
{
    pb_sub *s = &set->subs[si];
    struct stat sb;
    if (stat(s->path, &sb) != 0) return reject(ctx, s, "cannot be read: %s", strerror(errno));
    s->size = (uint64_t)sb.st_size;
    uint64_t max = o->max_size ? o->max_size : (512ull << 20);
    if (!S_ISREG(sb.st_mode)) return reject(ctx, s, "%s", "not a regular file");
    gf_status st = s->hash[0] ? GF_OK : hash_file(ctx, s, NULL);
    if (st || s->status == PB_ST_REJECTED) return st;
    if (!s->size) return reject(ctx, s, "%s", "empty file");
    if (s->size > max) {
        char m[64];
        snprintf(m, sizeof m, "%llu bytes", (unsigned long long)max);
        return reject(ctx, s, "larger than --max-size (%s)", m);
    }
    /* the first bytes, decompressed */
    gf_ctx *sub;
    if (gf_ctx_fork(ctx, &sub)) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    gf_stream *strm = NULL;
    char head[4096];
    size_t got = 0;
    if (gf_stream_open(sub, s->path, &strm) == GF_OK) {
        if (gf_stream_read(strm, sub, head, sizeof head, &got) != GF_OK) got = 0;
        gf_stream_close(strm);
        strm = NULL;
    }
    const char *what = sniff(head, got);
    if (what) {
        gf_ctx_destroy(sub);
        return reject(ctx, s, "%s", what);
    }
    gf_csv *c = NULL;
    gf_csv_opts co = {0};
    gf_csv_record hdr;
    if ((st = gf_stream_open(sub, s->path, &strm)) || (st = gf_csv_open(sub, strm, &co, &c))
        || (st = gf_csv_next(c, sub, &hdr)) != GF_OK) {
        st = reject(ctx, s, "%s", st == GF_DONE ? "no header" : gf_ctx_errmsg(sub));
        if (c) gf_csv_close(c);
        gf_ctx_destroy(sub);
        return st;
    }
    gf_header_map hm;
    if (gf_header_map_address(sub, &hdr, &hm) == GF_OK && hm.layout != GF_LAYOUT_UNKNOWN) {
        s->kind = gf_layout_is_bal(hm.layout) ? PB_KIND_BAL : PB_KIND_BAN;
        int restart;
        st = split(ctx, set, si, c, &hdr, &hm, scratch, 0, &restart);
        if (!st && restart) {
            /* several communes: read again, keeping the rows this time */
            gf_csv_close(c);
            c = NULL;
            strm = NULL;
            if ((st = gf_stream_open(sub, s->path, &strm)) || (st = gf_csv_open(sub, strm, &co, &c))
                || (st = gf_csv_next(c, sub, &hdr)) != GF_OK || (st = gf_header_map_address(sub, &hdr, &hm)))
                st = reject(ctx, s, "%s", st == GF_DONE ? "no header" : gf_ctx_errmsg(sub));
            else
                st = split(ctx, set, si, c, &hdr, &hm, scratch, 1, &restart);
        }
    } else {
        int equip = 0;
        for (int i = 0; i < hdr.nfields; i++) {
            char h[64];
            gf_header_norm(hdr.field[i], hdr.len[i], h, sizeof h);
            if (!strcmp(h, "equip_uid") || !strcmp(h, "equip_id")) equip = 1;
        }
        if (equip) {
            s->kind = PB_KIND_EQUIP; /* read, validated and stored by the run's equipment step (equip.c) */
        } else {
            char first[200];
            snprintf(first, sizeof first, "%.*s", (int)(hdr.rawlen > 120 ? 120 : hdr.rawlen), hdr.raw);
            st = reject(ctx, s, "no known schema (neither BAL, BAN nor SCDL équipements): header '%s'", first);
        }
    }
    gf_csv_close(c);
    gf_ctx_destroy(sub);
    return st;
}

/* A part for each commune published from this very file (pb_store_known_file). */
typedef struct known_ctx { gf_ctx *ctx; pb_set *set; int si; } known_ctx;
static gf_status add_known(void *u, const char *code, uint64_t rows, int kind)
{
    known_ctx *k = u;
    pb_set *set = k->set;
    pb_sub *s = &set->subs[k->si];
    if (set->nparts == set->capparts) {
        int ncap = set->capparts ? 2 * set->capparts : 64;
        pb_part *n = realloc(set->parts, (size_t)ncap * sizeof *n);
        if (!n) return gf_ctx_err(k->ctx, GF_ERR_NOMEM, "out of memory");
        set->parts = n;
        set->capparts = ncap;
    }
    if (!s->nparts) s->first_part = set->nparts;
    pb_part *p = &set->parts[set->nparts++];
    memset(p, 0, sizeof *p);
    p->sub = k->si;
    snprintf(p->code, sizeof p->code, "%s", code);
    p->rows = rows;
    p->known = 1;
    s->kind = kind; /* as it was read the first time */
    if (!(p->input = strdup(s->path))) return gf_ctx_err(k->ctx, GF_ERR_NOMEM, "out of memory");
    s->nparts++;
    s->rows += rows;
    return GF_OK;
}

gf_status pb_collect(gf_ctx *ctx, const gf_publish_opts *o, const char *at, const char *scratch, pb_store *store,
                     pb_set *set)
{
    gf_status st = GF_OK;
    for (int i = 0; i < o->nsources && !st; i++) st = walk(ctx, set, o->sources[i], 1);
    for (int i = 0; i < set->nsubs && !st; i++) {
        pb_sub *s = &set->subs[i];
        if (!(s->producer = parent_name(s->path)) || !(s->received_at = strdup(at)))
            st = gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    }
    if (!st && o->manifest) st = apply_manifest(ctx, o->manifest, set);
    for (int i = 0; i < set->nsubs && !st; i++) {
        pb_sub *s = &set->subs[i];
        /* a file published before, byte for byte: its communes are known */
        struct stat sb;
        if (stat(s->path, &sb) == 0 && S_ISREG(sb.st_mode) && (uint64_t)sb.st_size <= (o->max_size ? o->max_size : (512ull << 20))) {
            s->size = (uint64_t)sb.st_size;
            char old[33];
            int legacy = pb_store_legacy_hash(store);
            if ((st = hash_file(ctx, s, legacy ? old : NULL)) || s->status == PB_ST_REJECTED) continue;
            if (legacy && (st = pb_store_rehash(ctx, store, old, s->hash))) break;
            known_ctx k = {ctx, set, i};
            if ((st = pb_store_known_file(ctx, store, s->hash, add_known, &k))) break;
            if (s->nparts) continue;
        }
        st = examine(ctx, o, set, i, scratch);
    }
    return st;
}

void pb_set_free(pb_set *set)
{
    for (int i = 0; i < set->nsubs; i++) {
        pb_sub *s = &set->subs[i];
        free(s->path);
        free(s->producer);
        free(s->received_at);
        free(s->reason);
    }
    for (int i = 0; i < set->nparts; i++) {
        pb_part *p = &set->parts[i];
        free(p->input);
        free(p->lines);
        free(p->out);
        free(p->rejects);
        free(p->diff);
        gf_buf_free(&p->errors);
        gf_buf_free(&p->warnings);
        gf_buf_free(&p->repairs);
        gf_buf_free(&p->repair_list);
        gf_buf_free(&p->zdata);
        gf_buf_free(&p->zrejects);
        gf_buf_free(&p->zrepairs);
        gf_buf_free(&p->reasons);
    }
    free(set->subs);
    free(set->parts);
    memset(set, 0, sizeof *set);
}
