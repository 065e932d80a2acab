/* Hand-written SQLite b-trees (src/write/sqlbt.c), checked by SQLite itself:
 * for page sizes 512 to 65536, two tables filled at once (their pages
 * interleave), rows of every serial type, payloads that spill into overflow
 * chains, rowids with gaps and negative ones, an empty table and a one-leaf
 * table; then PRAGMA integrity_check, every row read back and compared, and
 * SQLite writing to the same tables afterwards. SQLite's pending byte is
 * moved to 64 KiB for the whole process (SQLITE_TESTCTRL_PENDING_BYTE) so
 * that the lock-byte page falls inside these small files. Invalid inputs:
 * a file that is not a database, a UTF-16 one, rowids out of order. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "gf_test.h"
#include "write/sqlbt.h"

#define PENDING 0x10000u

static uint64_t rng = 88172645463325252ull;
static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* The values of row k of table t, regenerated for the check. */
typedef struct row { int64_t rowid, i; double d; int has_d; size_t tlen, blen; char *text; uint8_t *blob; } row;

static void make_row(row *r, uint64_t seed, int64_t rowid, uint32_t pgsz)
{
    uint64_t save = rng;
    rng = seed * 2654435761u + 1;
    static const int64_t ints[] = {0, 1, -1, 127, -128, 128, 32767, -32769, 8388607, 8388608, 2147483647, -2147483649LL,
                                   140737488355327LL, 140737488355328LL, INT64_MAX, INT64_MIN};
    r->rowid = rowid;
    r->i = next_rand() % 3 ? ints[next_rand() % 16] : (int64_t)next_rand();
    r->has_d = next_rand() % 5 != 0;
    r->d = r->has_d ? ((double)(int64_t)next_rand() / 1e6) : NAN;
    /* mostly short, some longer than a page (overflow chains) */
    r->tlen = next_rand() % (pgsz > 4096 ? 300 : 10) == 0 ? next_rand() % (3 * pgsz) : next_rand() % 40;
    r->blen = next_rand() % (pgsz > 4096 ? 300 : 7) == 0 ? next_rand() % (2 * pgsz) : next_rand() % 20;
    r->text = malloc(r->tlen + 1);
    r->blob = malloc(r->blen + 1);
    for (size_t k = 0; k < r->tlen; k++) r->text[k] = (char)('a' + next_rand() % 26);
    r->text[r->tlen] = 0;
    for (size_t k = 0; k < r->blen; k++) r->blob[k] = (uint8_t)next_rand();
    rng = save;
}

static void free_row(row *r) { free(r->text); free(r->blob); }

static int exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK) fprintf(stderr, "%s: %s\n", sql, msg ? msg : "?");
    sqlite3_free(msg);
    return rc;
}

static uint32_t root_of(sqlite3 *db, const char *name)
{
    sqlite3_stmt *s = NULL;
    uint32_t root = 0;
    if (sqlite3_prepare_v2(db, "SELECT rootpage FROM sqlite_master WHERE name = ?", -1, &s, NULL) == SQLITE_OK) {
        sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
        if (sqlite3_step(s) == SQLITE_ROW) root = (uint32_t)sqlite3_column_int(s, 0);
    }
    sqlite3_finalize(s);
    return root;
}

static const char *integrity(sqlite3 *db, char *out, size_t n)
{
    sqlite3_stmt *s = NULL;
    snprintf(out, n, "(no answer)");
    if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
        snprintf(out, n, "%s", (const char *)sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    return out;
}

static int64_t rowid_of(int64_t k) { return k == 0 ? INT64_MIN + 7 : k < 5 ? k - 5 : 3 * k + k / 7 * 1000 + (k > 50000 ? (int64_t)1 << 40 : 0); }

static void one_case(const char *path, uint32_t pgsz, int nrows)
{
    char sql[256], msg[512];
    unlink(path);
    sqlite3 *db = NULL;
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    snprintf(sql, sizeof sql, "PRAGMA page_size = %u; PRAGMA journal_mode = OFF", pgsz);
    CHECK(exec(db, sql) == SQLITE_OK);
    CHECK(exec(db, "CREATE TABLE t (id INTEGER PRIMARY KEY, i INTEGER, d REAL, s TEXT, b BLOB, n);"
                   "CREATE TABLE small (id INTEGER PRIMARY KEY, v);"
                   "CREATE TABLE empty (id INTEGER PRIMARY KEY, v);"
                   "CREATE TABLE u (id INTEGER PRIMARY KEY, v)") == SQLITE_OK);
    uint32_t rt = root_of(db, "t"), rs = root_of(db, "small"), re = root_of(db, "empty"), ru = root_of(db, "u");
    sqlite3_close(db);

    gf_ctx *ctx = NULL;
    CHECK(gf_ctx_create(&ctx) == GF_OK);
    gf_sqlfile f;
    gf_sqlbt bt, bs, be, bu;
    CHECK(gf_sqlfile_open(ctx, path, NULL, PENDING, &f) == GF_OK);
    CHECK(f.pgsz == pgsz);
    CHECK(gf_sqlbt_init(ctx, &bt, &f, rt) == GF_OK);
    CHECK(gf_sqlbt_init(ctx, &bs, &f, rs) == GF_OK);
    CHECK(gf_sqlbt_init(ctx, &be, &f, re) == GF_OK);
    CHECK(gf_sqlbt_init(ctx, &bu, &f, ru) == GF_OK);
    gf_sqlrec rec;
    size_t cap = 16 * pgsz + 4096;
    uint8_t *buf = malloc(cap);
    int bad = 0;
    for (int k = 0; k < nrows; k++) {
        row r;
        make_row(&r, (uint64_t)k, rowid_of(k), pgsz);
        gf_sqlrec_reset(&rec, f.fmt4);
        gf_sqlrec_null(&rec);
        gf_sqlrec_int(&rec, r.i);
        gf_sqlrec_real(&rec, r.d);
        gf_sqlrec_text(&rec, r.text, r.tlen);
        gf_sqlrec_blob(&rec, r.blob, r.blen);
        gf_sqlrec_null(&rec);
        size_t n = gf_sqlrec_size(&rec);
        bad |= n > cap || gf_sqlrec_write(&rec, buf) != n;
        bad |= gf_sqlbt_add(ctx, &bt, r.rowid, buf, n) != GF_OK;
        /* the second table: short rows, one in three rows of t */
        if (k % 3 == 0) {
            gf_sqlrec_reset(&rec, f.fmt4);
            gf_sqlrec_null(&rec);
            gf_sqlrec_int(&rec, k);
            n = gf_sqlrec_write(&rec, buf);
            bad |= gf_sqlbt_add(ctx, &bu, k + 1, buf, n) != GF_OK;
        }
        free_row(&r);
    }
    CHECK(!bad);
    /* rowids must grow */
    CHECK(gf_sqlbt_add(ctx, &bu, 1, buf, 2) == GF_ERR_INTERNAL);
    gf_sqlrec_reset(&rec, f.fmt4);
    gf_sqlrec_null(&rec);
    gf_sqlrec_text(&rec, "one", 3);
    size_t n = gf_sqlrec_write(&rec, buf);
    CHECK(gf_sqlbt_add(ctx, &bs, 42, buf, n) == GF_OK);
    CHECK(gf_sqlbt_finish(ctx, &bt) == GF_OK);
    CHECK(gf_sqlbt_finish(ctx, &bs) == GF_OK);
    CHECK(gf_sqlbt_finish(ctx, &be) == GF_OK);
    CHECK(gf_sqlbt_finish(ctx, &bu) == GF_OK);
    gf_sqlbt_free(&bt); gf_sqlbt_free(&bs); gf_sqlbt_free(&be); gf_sqlbt_free(&bu);
    CHECK(gf_sqlfile_close(ctx, &f) == GF_OK);
    free(buf);

    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    const char *ic = integrity(db, msg, sizeof msg);
    CHECK_STR(ic, "ok");
    if (strcmp(ic, "ok")) fprintf(stderr, "page size %u, %d rows\n", pgsz, nrows);
    sqlite3_stmt *s = NULL;
    CHECK(sqlite3_prepare_v2(db, "SELECT id, i, d, s, b, n, typeof(i) FROM t ORDER BY id", -1, &s, NULL) == SQLITE_OK);
    int k = 0, mism = 0;
    while (sqlite3_step(s) == SQLITE_ROW) {
        row r;
        make_row(&r, (uint64_t)k, rowid_of(k), pgsz);
        mism += sqlite3_column_int64(s, 0) != r.rowid;
        mism += sqlite3_column_int64(s, 1) != r.i || strcmp((const char *)sqlite3_column_text(s, 6), "integer");
        if (r.has_d) mism += sqlite3_column_double(s, 2) != r.d;
        else mism += sqlite3_column_type(s, 2) != SQLITE_NULL;
        mism += (size_t)sqlite3_column_bytes(s, 3) != r.tlen || memcmp(sqlite3_column_text(s, 3), r.text, r.tlen);
        mism += sqlite3_column_type(s, 4) != SQLITE_BLOB && r.blen;
        mism += (size_t)sqlite3_column_bytes(s, 4) != r.blen || (r.blen && memcmp(sqlite3_column_blob(s, 4), r.blob, r.blen));
        mism += sqlite3_column_type(s, 5) != SQLITE_NULL;
        free_row(&r);
        k++;
    }
    sqlite3_finalize(s);
    CHECK(k == nrows);
    CHECK(mism == 0);
    CHECK(sqlite3_prepare_v2(db, "SELECT count(*), sum(v), max(id) FROM u", -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW);
    long long nu = (nrows + 2) / 3, sum = 0;
    for (int j = 0; j < nrows; j += 3) sum += j;
    CHECK(sqlite3_column_int64(s, 0) == nu);
    CHECK(sqlite3_column_int64(s, 1) == sum);
    sqlite3_finalize(s);
    CHECK(sqlite3_prepare_v2(db, "SELECT (SELECT count(*) FROM empty), (SELECT v FROM small WHERE id = 42)", -1, &s, NULL) == SQLITE_OK &&
          sqlite3_step(s) == SQLITE_ROW);
    CHECK(sqlite3_column_int(s, 0) == 0);
    CHECK_STR((const char *)sqlite3_column_text(s, 1), "one");
    sqlite3_finalize(s);
    /* SQLite goes on writing to what we built */
    CHECK(exec(db, "INSERT INTO t (i, s) SELECT i + 1, s FROM t WHERE id % 5 = 0; DELETE FROM t WHERE id % 11 = 0;"
                   "CREATE INDEX t_i ON t(i); INSERT INTO empty (v) VALUES ('x'); INSERT INTO u (v) VALUES (1)") == SQLITE_OK);
    CHECK_STR(integrity(db, msg, sizeof msg), "ok");
    sqlite3_close(db);
    gf_ctx_destroy(ctx);
    unlink(path);
}

static void invalid_inputs(const char *path)
{
    gf_ctx *ctx = NULL;
    gf_sqlfile f;
    CHECK(gf_ctx_create(&ctx) == GF_OK);
    CHECK(gf_sqlfile_open(ctx, "/nonexistent/x.db", NULL, PENDING, &f) == GF_ERR_IO);
    FILE *fp = fopen(path, "wb");
    for (int i = 0; i < 4096; i++) fputc('x', fp);
    fclose(fp);
    CHECK(gf_sqlfile_open(ctx, path, NULL, PENDING, &f) == GF_ERR_UNSUPPORTED);
    CHECK(strstr(gf_ctx_errmsg(ctx), path) != NULL);
    unlink(path);
    sqlite3 *db = NULL;
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    CHECK(exec(db, "PRAGMA encoding = 'UTF-16le'; CREATE TABLE t (id INTEGER PRIMARY KEY)") == SQLITE_OK);
    sqlite3_close(db);
    CHECK(gf_sqlfile_open(ctx, path, NULL, PENDING, &f) == GF_ERR_UNSUPPORTED);
    CHECK(strstr(gf_ctx_errmsg(ctx), "UTF-8") != NULL);
    unlink(path);
    gf_ctx_destroy(ctx);
}

int main(void)
{
    CHECK(sqlite3_test_control(SQLITE_TESTCTRL_PENDING_BYTE, PENDING) == 0x40000000);
    char path[64];
    snprintf(path, sizeof path, "test_sqlbt_%d.db", (int)getpid());
    /* varints against SQLite's limits */
    uint8_t v[9];
    CHECK(gf_put_varint(v, 127) == 1 && v[0] == 127);
    CHECK(gf_put_varint(v, 128) == 2 && v[0] == 0x81 && v[1] == 0);
    CHECK(gf_put_varint(v, UINT64_MAX) == 9 && v[8] == 0xff);
    CHECK(gf_varint_len((1ull << 56) - 1) == 8);
    static const uint32_t sizes[] = {512, 1024, 4096, 65536};
    for (int i = 0; i < 4; i++) {
        one_case(path, sizes[i], 1);
        one_case(path, sizes[i], sizes[i] <= 1024 ? 20000 : 5000);
    }
    one_case(path, 65536, 60000);
    invalid_inputs(path);
    GF_TEST_END();
}
