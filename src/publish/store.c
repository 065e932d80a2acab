/* The revision store: one SQLite database (WAL) holding, per commune, every
 * revision a run stored (its producer, received_at, file and row hashes,
 * counts, status, reasons, codes, and its harmonised rows and diff,
 * zlib-compressed), which revision is published, and the report of each run
 * that published. A run is one transaction (BEGIN IMMEDIATE ... COMMIT): a
 * run killed at any point leaves the store as it was, and a second run on
 * the same store is refused while the first holds it. */
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <string.h>

#include <sqlite3.h>
#include <libdeflate.h>
#include <zlib.h>

#include "geoflux/bal.h"
#include "publish/pub_int.h"

struct pb_store {
    sqlite3 *db;
    char *path;
    int in_tx;
    int legacy_hash; /* keyed by the FNV-1a pair: pb_store_legacy_hash() */
};

static gf_status sqlerr(gf_ctx *ctx, pb_store *s, const char *what)
{
    return gf_ctx_err(ctx, GF_ERR_SQL, "store %s: %s: %s", s->path, what, sqlite3_errmsg(s->db));
}

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS revisions ("
    " commune TEXT NOT NULL, revision INTEGER NOT NULL, run INTEGER NOT NULL,"
    " producer TEXT NOT NULL, received_at TEXT NOT NULL, file TEXT NOT NULL,"
    " file_hash TEXT NOT NULL, row_hash TEXT NOT NULL, status TEXT NOT NULL,"
    " rows INTEGER NOT NULL, valid_rows INTEGER NOT NULL, certified INTEGER NOT NULL,"
    " reasons TEXT NOT NULL, errors TEXT NOT NULL, warnings TEXT NOT NULL, repairs TEXT NOT NULL,"
    " added INTEGER, removed INTEGER, modified INTEGER, moved INTEGER,"
    " data BLOB, rejects BLOB, diff BLOB, repairs_list BLOB, kind INTEGER NOT NULL,"
    " PRIMARY KEY (commune, revision));"
    "CREATE TABLE IF NOT EXISTS published (commune TEXT PRIMARY KEY, revision INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS runs (run INTEGER PRIMARY KEY, at TEXT NOT NULL, report TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "INSERT OR IGNORE INTO meta VALUES ('geoflux_store', '1');";

static void text_col(sqlite3_stmt *q, int i, char *out, size_t n)
{
    const unsigned char *t = sqlite3_column_text(q, i);
    snprintf(out, n, "%s", t ? (const char *)t : "");
}

/* The tables that name a file by its hash (equip.c makes the equip_ ones). */
static const char *const hashed_tables[] = {"revisions", "equip_submissions", "equip_rows", "equip_rejects",
                                            "equip_codes", "equipments"};

static int has_rows(sqlite3 *db, const char *table)
{
    char sql[128];
    sqlite3_stmt *q;
    snprintf(sql, sizeof sql, "SELECT 1 FROM %s LIMIT 1", table);
    if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK) return 0; /* no such table */
    int r = sqlite3_step(q) == SQLITE_ROW;
    sqlite3_finalize(q);
    return r;
}

/* meta.file_hash names the hash of the files' keys. A store without it
 * was written before XXH3-128: if it holds any file, this run re-keys
 * those it meets (pb_store_rehash) and the key is recorded with the run's
 * transaction, so a failed run leaves the store as it was. */
static gf_status hash_format(gf_ctx *ctx, pb_store *s)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db, "SELECT value FROM meta WHERE key = 'file_hash'", -1, &q, NULL) != SQLITE_OK)
        return sqlerr(ctx, s, "reading its format");
    int rc = sqlite3_step(q);
    char v[32] = "";
    if (rc == SQLITE_ROW) text_col(q, 0, v, sizeof v);
    sqlite3_finalize(q);
    if (rc == SQLITE_ROW) {
        if (strcmp(v, "xxh3-128"))
            return gf_ctx_err(ctx, GF_ERR_OUTPUT, "store %s: files keyed by '%s', a hash this geoflux does not know (a newer version's store?)",
                              s->path, v);
        return GF_OK;
    }
    if (rc != SQLITE_DONE) return sqlerr(ctx, s, "reading its format");
    for (size_t i = 0; i < sizeof hashed_tables / sizeof *hashed_tables && !s->legacy_hash; i++)
        s->legacy_hash = has_rows(s->db, hashed_tables[i]);
    if (sqlite3_exec(s->db, "INSERT INTO meta VALUES ('file_hash', 'xxh3-128')", NULL, NULL, NULL) != SQLITE_OK)
        return sqlerr(ctx, s, "recording its format");
    return GF_OK;
}

int pb_store_legacy_hash(const pb_store *s) { return s->legacy_hash; }

gf_status pb_store_rehash(gf_ctx *ctx, pb_store *s, const char *old_hash, const char *new_hash)
{
    for (size_t i = 0; i < sizeof hashed_tables / sizeof *hashed_tables; i++) {
        char sql[160];
        sqlite3_stmt *q;
        snprintf(sql, sizeof sql, "UPDATE OR IGNORE %s SET file_hash = ?1 WHERE file_hash = ?2", hashed_tables[i]);
        if (sqlite3_prepare_v2(s->db, sql, -1, &q, NULL) != SQLITE_OK) {
            if (strstr(sqlite3_errmsg(s->db), "no such table")) continue; /* no equipment yet */
            return sqlerr(ctx, s, "re-keying a file");
        }
        sqlite3_bind_text(q, 1, new_hash, -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 2, old_hash, -1, SQLITE_STATIC);
        int rc = sqlite3_step(q);
        sqlite3_finalize(q);
        if (rc != SQLITE_DONE) return sqlerr(ctx, s, "re-keying a file");
    }
    return GF_OK;
}

gf_status pb_store_open(gf_ctx *ctx, const char *path, pb_store **out)
{
    pb_store *s = calloc(1, sizeof *s);
    if (!s || !(s->path = strdup(path))) {
        free(s);
        return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    }
    gf_status st = GF_OK;
    if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL)
        != SQLITE_OK) {
        st = gf_ctx_err(ctx, GF_ERR_OUTPUT, "store %s: cannot be opened: %s", path,
                        s->db ? sqlite3_errmsg(s->db) : "out of memory");
        goto fail;
    }
    /* WAL: readers (a serve of the SITE's tools) never block the run. */
    char *err = NULL;
    if (sqlite3_exec(s->db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL", NULL, NULL, &err) != SQLITE_OK) {
        int busy = sqlite3_errcode(s->db) == SQLITE_BUSY;
        st = gf_ctx_err(ctx, GF_ERR_OUTPUT, "store %s: %s", path,
                        busy ? "in use by another geoflux publish run (try again when it has finished)"
                             : err ? err : "not a geoflux store");
        sqlite3_free(err);
        goto fail;
    }
    int rc = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
        st = gf_ctx_err(ctx, GF_ERR_OUTPUT,
                        "store %s: in use by another geoflux publish run (try again when it has finished)", path);
        goto fail;
    }
    if (rc != SQLITE_OK) {
        st = gf_ctx_err(ctx, GF_ERR_OUTPUT, "store %s: not a geoflux store (%s)", path, sqlite3_errmsg(s->db));
        goto fail;
    }
    s->in_tx = 1;
    if (sqlite3_exec(s->db, schema, NULL, NULL, &err) != SQLITE_OK) {
        st = gf_ctx_err(ctx, GF_ERR_OUTPUT, "store %s: not a geoflux store (%s)", path, err ? err : "");
        sqlite3_free(err);
        goto fail;
    }
    if ((st = hash_format(ctx, s))) goto fail;
    *out = s;
    return GF_OK;
fail:
    pb_store_close(s);
    return st;
}

sqlite3 *pb_store_db(pb_store *s) { return s->db; }
const char *pb_store_path(const pb_store *s) { return s->path; }

gf_status pb_store_published(gf_ctx *ctx, pb_store *s, const char *code, pb_published *out)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT r.revision, r.file_hash, r.row_hash, r.producer FROM published p "
                           "JOIN revisions r ON r.commune = p.commune AND r.revision = p.revision WHERE p.commune = ?",
                           -1, &q, NULL) != SQLITE_OK)
        return sqlerr(ctx, s, "reading the published revisions");
    sqlite3_bind_text(q, 1, code, -1, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        out->revision = sqlite3_column_int64(q, 0);
        text_col(q, 1, out->file_hash, sizeof out->file_hash);
        text_col(q, 2, out->row_hash, sizeof out->row_hash);
        text_col(q, 3, out->producer, sizeof out->producer);
    }
    sqlite3_finalize(q);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? GF_OK : sqlerr(ctx, s, "reading the published revisions");
}

double pb_share(uint64_t a, uint64_t b) { return b ? round((double)a / (double)b * 10000.0) / 10000.0 : 0.0; }

gf_status pb_deflate(gf_ctx *ctx, const void *p, size_t n, int gzip, gf_buf *out)
{
    out->len = 0;
    /* level 1: every published row goes through it. libdeflate, whose one
     * call compresses one buffer, which is what a blob is: on the 1M-row
     * bench's adresses.csv (205 MB) zlib's level 1 took 2.59 s for 52.2 MB,
     * its level 3 3.49 s for 50.3 MB; libdeflate's level 1 is faster than
     * zlib's and smaller. One compressor per call: its state is ~0.5 MB,
     * nothing next to a commune's rows. */
    struct libdeflate_compressor *c = libdeflate_alloc_compressor(1);
    if (!c) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    size_t bound = gzip ? libdeflate_gzip_compress_bound(c, n) : libdeflate_zlib_compress_bound(c, n);
    if (gf_buf_reserve(out, bound)) {
        libdeflate_free_compressor(c);
        return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    }
    out->len = gzip ? libdeflate_gzip_compress(c, p, n, out->p, bound) : libdeflate_zlib_compress(c, p, n, out->p, bound);
    libdeflate_free_compressor(c);
    if (!out->len) return gf_ctx_err(ctx, GF_ERR_INTERNAL, "libdeflate: compression failed");
    /* the blobs of every part of a run are held until they are stored: the
     * buffer keeps their compressed size, not the bound (the rows' size) */
    if (out->cap > out->len + out->len / 4 + 4096) {
        char *np = realloc(out->p, out->len + 1);
        if (np) {
            out->p = np;
            out->cap = out->len + 1;
        }
    }
    return GF_OK;
}

/* Inflates a stored blob (zlib or gzip) in 256 KB chunks, each handed to
 * put(u, chunk, len); the one inflate loop of pb_inflate() and
 * pb_inflate_to(). A damaged or truncated blob: GF_ERR_SQL. */
typedef gf_status (*chunk_fn)(gf_ctx *ctx, void *u, const unsigned char *b, size_t len);
static gf_status inflate_chunks(gf_ctx *ctx, const void *p, size_t n, chunk_fn put, void *u)
{
    if (!n) return GF_OK;
    if (n > (size_t)UINT32_MAX) return gf_ctx_err(ctx, GF_ERR_SQL, "store: a stored revision is damaged (too large)");
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, 15 + 32) != Z_OK) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    enum { CHUNK = 256 * 1024 };
    unsigned char *buf = malloc(CHUNK);
    if (!buf) { inflateEnd(&z); return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory"); }
    z.next_in = (Bytef *)p;
    z.avail_in = (uInt)n;
    int rc = Z_OK;
    gf_status st = GF_OK;
    while (rc == Z_OK && !st) {
        z.next_out = buf;
        z.avail_out = CHUNK;
        rc = inflate(&z, Z_NO_FLUSH);
        size_t got = CHUNK - z.avail_out;
        if (rc == Z_OK && !got && !z.avail_in) break; /* truncated: no progress, no input */
        if (got) st = put(ctx, u, buf, got);
    }
    inflateEnd(&z);
    free(buf);
    if (!st && rc != Z_STREAM_END) st = gf_ctx_err(ctx, GF_ERR_SQL, "store: a stored revision is damaged (zlib %d)", rc);
    return st;
}

static gf_status put_buf(gf_ctx *ctx, void *u, const unsigned char *b, size_t len)
{
    return gf_buf_append(u, b, len) ? gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory") : GF_OK;
}

gf_status pb_inflate(gf_ctx *ctx, const void *p, size_t n, gf_buf *out)
{
    out->len = 0;
    return inflate_chunks(ctx, p, n, put_buf, out);
}

typedef struct file_sink { FILE *f; const char *path; uint64_t *lines; } file_sink;

static gf_status put_file(gf_ctx *ctx, void *u, const unsigned char *b, size_t len)
{
    file_sink *s = u;
    if (s->lines)
        for (const unsigned char *q = b, *e = b + len; (q = memchr(q, '\n', (size_t)(e - q))); q++) ++*s->lines;
    return fwrite(b, 1, len, s->f) == len ? GF_OK : gf_ctx_err(ctx, GF_ERR_OUTPUT, "%s: write error", s->path);
}

gf_status pb_inflate_to(gf_ctx *ctx, const void *p, size_t n, FILE *f, const char *path, uint64_t *lines)
{
    file_sink s = {f, path, lines};
    return inflate_chunks(ctx, p, n, put_file, &s);
}

gf_status pb_store_write_data(gf_ctx *ctx, pb_store *s, const char *code, int64_t rev, const char *path)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db, "SELECT data FROM revisions WHERE commune = ? AND revision = ?", -1, &q, NULL)
        != SQLITE_OK)
        return sqlerr(ctx, s, "reading a revision");
    sqlite3_bind_text(q, 1, code, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, rev);
    gf_status st;
    if (sqlite3_step(q) != SQLITE_ROW) {
        st = sqlerr(ctx, s, "reading a revision");
    } else {
        gf_buf b = {0}, f = {0};
        st = pb_inflate(ctx, sqlite3_column_blob(q, 0), (size_t)sqlite3_column_bytes(q, 0), &b);
        if (!st && (gf_buf_append(&f, gf_bal14_header, strlen(gf_bal14_header)) || gf_buf_append(&f, b.p, b.len)))
            st = gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
        if (!st) st = pb_write_file(ctx, path, f.p, f.len);
        gf_buf_free(&b);
        gf_buf_free(&f);
    }
    sqlite3_finalize(q);
    return st;
}

/* Binds p[0..n) zlib-compressed. */
static gf_status bind_mem(gf_ctx *ctx, sqlite3_stmt *q, int i, const char *p, size_t n)
{
    uLongf zn = compressBound(n);
    unsigned char *z = malloc(zn ? zn : 1);
    if (!z) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    if (compress2(z, &zn, (const Bytef *)p, n, 6) != Z_OK) {
        free(z);
        return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    }
    sqlite3_bind_blob64(q, i, z, zn, free);
    return GF_OK;
}

/* Binds the zlib-compressed content of a scratch file (NULL or missing:
 * SQL NULL). */
static gf_status bind_file(gf_ctx *ctx, sqlite3_stmt *q, int i, const char *path)
{
    struct stat sb;
    if (!path || stat(path, &sb) != 0)
        return sqlite3_bind_null(q, i) == SQLITE_OK ? GF_OK : gf_ctx_err(ctx, GF_ERR_SQL, "store: bind");
    gf_buf b = {0};
    gf_status st = pb_read_file(ctx, path, &b);
    if (st) {
        gf_buf_free(&b);
        return st == GF_ERR_INPUT ? GF_ERR_IO : st;
    }
    st = bind_mem(ctx, q, i, b.p, b.len);
    gf_buf_free(&b);
    return st;
}

gf_status pb_codes_json(const gf_buf *in, gf_buf *out)
{
    gf_status st = gf_buf_append(out, "{", 1);
    const char *p = in->p, *end = in->p + in->len;
    int first = 1;
    while (!st && p && p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *tab = memchr(p, '\t', (size_t)((nl ? nl : end) - p));
        if (!nl || !tab) break;
        if (!first) st = gf_buf_append(out, ",", 1);
        first = 0;
        if (!st) st = gf_buf_json_str(out, p, (size_t)(tab - p));
        if (!st) st = gf_buf_printf(out, ":%.*s", (int)(nl - tab - 1), tab + 1);
        p = nl + 1;
    }
    if (!st) st = gf_buf_append(out, "}", 1);
    return st;
}

gf_status pb_store_add(gf_ctx *ctx, pb_store *s, const pb_set *set, pb_part *p, int publish)
{
    const pb_sub *sub = &set->subs[p->sub];
    sqlite3_stmt *q = NULL;
    gf_status st = GF_OK;
    int64_t rev = 1;
    if (sqlite3_prepare_v2(s->db, "SELECT coalesce(max(revision), 0) + 1 FROM revisions WHERE commune = ?", -1, &q,
                           NULL) != SQLITE_OK)
        return sqlerr(ctx, s, "numbering a revision");
    sqlite3_bind_text(q, 1, p->code, -1, SQLITE_STATIC);
    if (sqlite3_step(q) == SQLITE_ROW) rev = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    gf_buf reasons = {0}, errors = {0}, warnings = {0}, repairs = {0};
    st = gf_buf_printf(&reasons, "[%.*s]", (int)p->reasons.len, p->reasons.p ? p->reasons.p : "");
    if (!st) st = pb_codes_json(&p->errors, &errors);
    if (!st) st = pb_codes_json(&p->warnings, &warnings);
    if (!st) st = pb_codes_json(&p->repairs, &repairs);
    if (st) {
        st = gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
        goto done;
    }
    if (sqlite3_prepare_v2(s->db,
                           "INSERT INTO revisions VALUES (?1, ?2, (SELECT coalesce(max(run), 0) + 1 FROM runs), ?3, ?4,"
                           " ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24)",
                           -1, &q, NULL) != SQLITE_OK) {
        st = sqlerr(ctx, s, "storing a revision");
        goto done;
    }
    char rh[17];
    snprintf(rh, sizeof rh, "%016llx", (unsigned long long)p->row_hash);
    sqlite3_bind_text(q, 1, p->code, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, rev);
    sqlite3_bind_text(q, 3, sub->producer, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 4, sub->received_at, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 5, sub->path, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 6, sub->hash, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 7, rh, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(q, 8, pb_status_name(p->status), -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 9, (sqlite3_int64)p->rows);
    sqlite3_bind_int64(q, 10, (sqlite3_int64)p->valid);
    sqlite3_bind_int64(q, 11, (sqlite3_int64)p->certified);
    sqlite3_bind_text(q, 12, reasons.p, (int)reasons.len, SQLITE_STATIC);
    sqlite3_bind_text(q, 13, errors.p, (int)errors.len, SQLITE_STATIC);
    sqlite3_bind_text(q, 14, warnings.p, (int)warnings.len, SQLITE_STATIC);
    sqlite3_bind_text(q, 15, repairs.p, (int)repairs.len, SQLITE_STATIC);
    sqlite3_bind_int(q, 24, sub->kind);
    if (p->has_diff) {
        sqlite3_bind_int64(q, 16, (sqlite3_int64)p->added);
        sqlite3_bind_int64(q, 17, (sqlite3_int64)p->removed);
        sqlite3_bind_int64(q, 18, (sqlite3_int64)p->modified);
        sqlite3_bind_int64(q, 19, (sqlite3_int64)p->moved);
    }
    /* the blobs compressed by the run's workers (pb_deflate) */
    const gf_buf *blob[3] = {&p->zdata, &p->zrejects, &p->zrepairs};
    static const int col[3] = {20, 21, 23};
    static const char *const what[3] = {"rows", "rejected rows", "repairs"};
    for (int k = 0; k < 3; k++) {
        /* SQLite's limit on one value (1 GB by default): say whose blob */
        if (blob[k]->len > (size_t)sqlite3_limit(s->db, SQLITE_LIMIT_LENGTH, -1)) {
            st = gf_ctx_err(ctx, GF_ERR_SQL, "store %s: commune %s: its %s compress to %zu bytes, more than one SQLite value holds (%d)",
                            s->path, p->code, what[k], blob[k]->len, sqlite3_limit(s->db, SQLITE_LIMIT_LENGTH, -1));
            goto done;
        }
        if ((blob[k]->len ? sqlite3_bind_blob64(q, col[k], blob[k]->p, blob[k]->len, SQLITE_STATIC)
                          : sqlite3_bind_null(q, col[k])) != SQLITE_OK) {
            st = sqlerr(ctx, s, "storing a revision");
            goto done;
        }
    }
    if ((st = bind_file(ctx, q, 22, p->has_diff ? p->diff : NULL))) goto done;
    if (sqlite3_step(q) != SQLITE_DONE) {
        st = sqlerr(ctx, s, "storing a revision");
        goto done;
    }
    sqlite3_finalize(q);
    q = NULL;
    p->revision = rev;
    if (publish) {
        if (sqlite3_prepare_v2(s->db, "INSERT OR REPLACE INTO published VALUES (?, ?)", -1, &q, NULL) != SQLITE_OK) {
            st = sqlerr(ctx, s, "publishing a revision");
            goto done;
        }
        sqlite3_bind_text(q, 1, p->code, -1, SQLITE_STATIC);
        sqlite3_bind_int64(q, 2, rev);
        if (sqlite3_step(q) != SQLITE_DONE) st = sqlerr(ctx, s, "publishing a revision");
    }
done:
    sqlite3_finalize(q);
    gf_buf_free(&reasons);
    gf_buf_free(&errors);
    gf_buf_free(&warnings);
    gf_buf_free(&repairs);
    return st;
}

gf_status pb_store_entry_json(gf_ctx *ctx, pb_store *s, const char *code, int64_t rev, gf_buf *out)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT producer, received_at, file, rows, valid_rows, certified, repairs, errors, warnings"
                           " FROM revisions WHERE commune = ? AND revision = ?",
                           -1, &q, NULL) != SQLITE_OK)
        return sqlerr(ctx, s, "reading a revision");
    sqlite3_bind_text(q, 1, code, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, rev);
    gf_status st = GF_OK;
    if (sqlite3_step(q) != SQLITE_ROW) {
        st = sqlerr(ctx, s, "reading a revision");
    } else {
        static const char *const k[] = {"producer", "received_at", "file"};
        for (int i = 0; i < 3 && !st; i++) {
            const char *t = (const char *)sqlite3_column_text(q, i);
            st = gf_buf_printf(out, ",\"%s\":", k[i]);
            if (!st) st = gf_buf_json_str(out, t ? t : "", t ? strlen(t) : 0);
            if (!st && i == 0) st = gf_buf_printf(out, ",\"revision\":%lld", (long long)rev);
        }
        sqlite3_int64 rows = sqlite3_column_int64(q, 3), valid = sqlite3_column_int64(q, 4),
                      cert = sqlite3_column_int64(q, 5);
        double sh = pb_share((uint64_t)cert, (uint64_t)valid);
        if (!st)
            st = gf_buf_printf(out, ",\"rows\":%lld,\"valid_rows\":%lld,\"certified_share\":%.4f,\"repairs\":%s,"
                                    "\"errors\":%s,\"warnings\":%s",
                               (long long)rows, (long long)valid, sh, (const char *)sqlite3_column_text(q, 6),
                               (const char *)sqlite3_column_text(q, 7), (const char *)sqlite3_column_text(q, 8));
        if (st) st = gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    }
    sqlite3_finalize(q);
    return st;
}

gf_status pb_store_find(gf_ctx *ctx, pb_store *s, const char *code, const char *file_hash, const char *row_hash,
                        const char *status, int64_t *rev)
{
    *rev = 0;
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT revision FROM revisions WHERE commune = ?1 AND status = ?4"
                           " AND (file_hash = ?2 OR row_hash = ?3) ORDER BY revision DESC LIMIT 1",
                           -1, &q, NULL) != SQLITE_OK)
        return sqlerr(ctx, s, "reading the revisions");
    sqlite3_bind_text(q, 1, code, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, file_hash, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 3, row_hash, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 4, status, -1, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) *rev = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? GF_OK : sqlerr(ctx, s, "reading the revisions");
}

gf_status pb_store_known_file(gf_ctx *ctx, pb_store *s, const char *file_hash,
                              gf_status (*fn)(void *u, const char *code, uint64_t rows, int kind), void *u)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT r.commune, r.rows, r.kind FROM published p JOIN revisions r ON r.commune = p.commune"
                           " AND r.revision = p.revision WHERE r.file_hash = ? ORDER BY r.commune",
                           -1, &q, NULL) != SQLITE_OK)
        return sqlerr(ctx, s, "reading the revisions");
    sqlite3_bind_text(q, 1, file_hash, -1, SQLITE_STATIC);
    gf_status st = GF_OK;
    int rc;
    while (!st && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        char code[6];
        text_col(q, 0, code, sizeof code);
        st = fn(u, code, (uint64_t)sqlite3_column_int64(q, 1), sqlite3_column_int(q, 2));
    }
    if (!st && rc != SQLITE_DONE) st = sqlerr(ctx, s, "reading the revisions");
    sqlite3_finalize(q);
    return st;
}

gf_status pb_store_add_run(gf_ctx *ctx, pb_store *s, const char *at, const char *report, int64_t *run)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db, "INSERT INTO runs VALUES ((SELECT coalesce(max(run), 0) + 1 FROM runs), ?, ?)", -1,
                           &q, NULL) != SQLITE_OK)
        return sqlerr(ctx, s, "recording the run");
    sqlite3_bind_text(q, 1, at, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, report, -1, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    sqlite3_finalize(q);
    if (rc != SQLITE_DONE) return sqlerr(ctx, s, "recording the run");
    *run = sqlite3_last_insert_rowid(s->db);
    return GF_OK;
}

gf_status pb_store_last_run(gf_ctx *ctx, pb_store *s, int64_t *run, char **report)
{
    *run = 0;
    *report = NULL;
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db, "SELECT run, report FROM runs ORDER BY run DESC LIMIT 1", -1, &q, NULL) != SQLITE_OK)
        return sqlerr(ctx, s, "reading the runs");
    gf_status st = GF_OK;
    if (sqlite3_step(q) == SQLITE_ROW) {
        *run = sqlite3_column_int64(q, 0);
        const unsigned char *t = sqlite3_column_text(q, 1);
        if (!(*report = strdup(t ? (const char *)t : ""))) st = gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    }
    sqlite3_finalize(q);
    return st;
}

gf_status pb_store_each_published(gf_ctx *ctx, pb_store *s, gf_status (*fn)(void *u, gf_ctx *ctx, const pb_pubrow *r),
                                  void *u)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT p.commune, p.revision, r.data, r.diff, r.run, r.rejects, r.repairs_list FROM published p JOIN revisions r"
                           " ON r.commune = p.commune AND r.revision = p.revision ORDER BY p.commune",
                           -1, &q, NULL) != SQLITE_OK)
        return sqlerr(ctx, s, "reading the publication");
    gf_status st = GF_OK;
    int rc;
    while (!st && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        pb_pubrow r;
        memset(&r, 0, sizeof r);
        text_col(q, 0, r.code, sizeof r.code);
        r.revision = sqlite3_column_int64(q, 1);
        r.data = sqlite3_column_blob(q, 2);
        r.ndata = (size_t)sqlite3_column_bytes(q, 2);
        r.diff = sqlite3_column_blob(q, 3);
        r.ndiff = (size_t)sqlite3_column_bytes(q, 3);
        r.run = sqlite3_column_int64(q, 4);
        r.rejects = sqlite3_column_blob(q, 5);
        r.nrejects = (size_t)sqlite3_column_bytes(q, 5);
        r.repairs = sqlite3_column_blob(q, 6);
        r.nrepairs = (size_t)sqlite3_column_bytes(q, 6);
        st = fn(u, ctx, &r);
    }
    if (!st && rc != SQLITE_DONE) st = sqlerr(ctx, s, "reading the publication");
    sqlite3_finalize(q);
    return st;
}

gf_status pb_store_commit(gf_ctx *ctx, pb_store *s)
{
    if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) return sqlerr(ctx, s, "commit");
    s->in_tx = 0;
    /* the run's pages into the database file now, before the SITE and
     * its map files are written: the checkpoint's sync then waits for
     * little else (at close, after them, it took 0.17 s on the publish
     * bench's re-run); a checkpoint that cannot run now runs at close */
    sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    return GF_OK;
}

void pb_store_close(pb_store *s)
{
    if (!s) return;
    if (s->db) {
        if (s->in_tx) sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        sqlite3_close_v2(s->db);
    }
    free(s->path);
    free(s);
}
