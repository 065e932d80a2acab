/* Fuzz target: what `geoflux serve` reads from clients and from archives,
 * without a socket, through the functions the server calls.
 *
 * An input starting with "PMTiles" is an archive: written to a .pmtiles
 * file, opened, asked for tiles at every zoom and for its TileJSON (the
 * directory decoder must stay inside the file and terminate). Any other
 * input is a request: line 1 the decoded path (routing, traversal checks),
 * line 2 a query string split on '&' and '=' as libmicrohttpd splits it
 * (the /search, /reverse and /completion parameter checks, then the error
 * body), line 3 a Range header against resources of several sizes. Must
 * never crash, hang or read out of bounds, and the answers must keep their
 * promises (a route's borrowed pointers inside the path, a range inside the
 * resource). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "geoflux/serve.h"

static void check_route(const char *p, size_t n)
{
    gf_serve_route r;
    gf_serve_route_path(p, n, &r);
    if (r.kind == GF_ROUTE_STATIC && (r.path < p || r.path + r.pathlen > p + n)) abort();
    if ((r.kind == GF_ROUTE_TILE || r.kind == GF_ROUTE_TILEJSON) && (r.name < p || r.name + r.namelen > p + n)) abort();
    if (r.kind == GF_ROUTE_TILE && (r.z > 30 || r.x >= (1ull << r.z) || r.y >= (1ull << r.z))) abort();
    /* a served path never climbs */
    if (r.kind == GF_ROUTE_STATIC)
        for (size_t i = 0; i + 1 < r.pathlen; i++)
            if (r.path[i] == '.' && r.path[i + 1] == '.' && (i == 0 || r.path[i - 1] == '/')) abort();
}

static void check_params(char *q, size_t n)
{
    gf_serve_kv kv[64];
    size_t nkv = 0;
    for (size_t i = 0; i <= n && nkv < 64;) {
        size_t j = i;
        while (j < n && q[j] != '&') j++;
        q[j] = 0; /* n < buffer size: room for this NUL */
        char *k = q + i, *eq = memchr(k, '=', j - i);
        if (eq) {
            *eq = 0;
            kv[nkv++] = (gf_serve_kv){k, eq + 1, (size_t)(q + j - (eq + 1))};
        } else kv[nkv++] = (gf_serve_kv){k, NULL, 0};
        i = j + 1;
    }
    static const gf_serve_route_kind kinds[] = {GF_ROUTE_SEARCH, GF_ROUTE_REVERSE, GF_ROUTE_COMPLETION};
    for (int k = 0; k < 3; k++) {
        gf_serve_params p;
        gf_status st = gf_serve_parse_params(kinds[k], kv, nkv, &p);
        if ((st == GF_OK) != (p.ndetail == 0) || p.ndetail > GF_SERVE_MAX_DETAIL) abort();
        if (p.limit < 1 || p.limit > 20) abort();
        if (p.query.qlen && (p.query.qlen < 3 || p.query.qlen > 800)) abort();
        gf_buf b = {0};
        if (gf_serve_json_error(&b, 400, "Failed parsing query", &p) != GF_OK) abort();
        gf_buf_free(&b);
    }
}

static void check_range(const char *h)
{
    static const uint64_t sizes[] = {0, 1, 127, 16384, UINT64_MAX / 2};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        uint64_t a = 0, l = 0;
        int r = gf_serve_parse_range(h, sizes[i], &a, &l);
        if (r == 1 && (l == 0 || a >= sizes[i] || l > sizes[i] - a)) abort();
    }
}

static void check_archive(const uint8_t *data, size_t size)
{
    static char path[64];
    static int fd = -1;
    if (fd < 0) {
        snprintf(path, sizeof path, "/tmp/gf_fuzz_http_XXXXXX.pmtiles");
        fd = mkstemps(path, 8);
        if (fd < 0) return;
    }
    if (ftruncate(fd, 0) || lseek(fd, 0, SEEK_SET)) return;
    for (size_t off = 0; off < size;) {
        ssize_t w = write(fd, data + off, size - off);
        if (w <= 0) return;
        off += (size_t)w;
    }
    gf_ctx *ctx;
    if (gf_ctx_create(&ctx)) return;
    gf_serve_archive *a = NULL;
    if (gf_serve_archive_open(ctx, path, &a) == GF_OK) {
        gf_buf b = {0};
        int gz;
        for (int z = 0; z <= 14; z++) {
            uint32_t m = (uint32_t)((1u << z) - 1);
            gf_serve_archive_tile(a, ctx, z, 0, 0, &b, &gz);
            gf_serve_archive_tile(a, ctx, z, m / 2, m / 3, &b, &gz);
            gf_serve_archive_tile(a, ctx, z, m, m, &b, &gz);
        }
        b.len = 0;
        gf_serve_archive_tilejson(a, "http://x", &b);
        gf_buf_free(&b);
        gf_serve_archive_destroy(a);
    }
    gf_ctx_destroy(ctx);
    unlink(path);
    close(fd);
    fd = -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size >= 7 && !memcmp(data, "PMTiles", 7)) {
        check_archive(data, size);
        return 0;
    }
    if (size > 65536) return 0;
    char *buf = malloc(size + 1);
    if (!buf) return 0;
    memcpy(buf, data, size);
    buf[size] = 0;
    char *line[3] = {buf, NULL, NULL};
    size_t len[3] = {size, 0, 0};
    for (int k = 0; k < 2 && line[k]; k++) {
        char *nl = memchr(line[k], '\n', len[k]);
        if (!nl) break;
        line[k + 1] = nl + 1;
        len[k + 1] = len[k] - (size_t)(nl + 1 - line[k]);
        len[k] = (size_t)(nl - line[k]);
        *nl = 0;
    }
    /* exact-size copies, so that ASan sees a read past the path */
    char *path = malloc(len[0] ? len[0] : 1);
    if (path) {
        memcpy(path, line[0], len[0]);
        check_route(path, len[0]);
        free(path);
    }
    if (line[1]) check_params(line[1], len[1]);
    if (line[2]) check_range(line[2]);
    free(buf);
    return 0;
}
