/* gf_web_install(): the page written is the asset directory's, byte for
 * byte, but for the archive's URL in index.html's <meta> (HTML-escaped);
 * the libraries and glyphs come along; invalid arguments and missing
 * assets are refused with the documented status and a message saying what
 * to do. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "geoflux/ctx.h"
#include "geoflux/web.h"
#include "gf_test.h"

static char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, len = 0, r;
    char *p = malloc(cap + 1);
    while (p && (r = fread(p + len, 1, cap - len, f)) > 0) {
        len += r;
        if (len == cap) { char *q = realloc(p, 2 * cap + 1); if (!q) { free(p); p = NULL; } else { p = q; cap *= 2; } }
    }
    fclose(f);
    if (p) { p[len] = 0; *n = len; }
    return p;
}

static int same(const char *a, const char *b)
{
    size_t na = 0, nb = 0;
    char *pa = slurp(a, &na), *pb = slurp(b, &nb);
    int eq = pa && pb && na == nb && !memcmp(pa, pb, na);
    free(pa);
    free(pb);
    return eq;
}

int main(void)
{
    gf_ctx *ctx = NULL;
    CHECK(gf_ctx_create(&ctx) == GF_OK);
    char assets[4096];
    gf_status st = gf_web_assets(ctx, assets, sizeof assets);
    if (st) {
        /* the build makes them (cmake/web_assets.cmake): missing means a build without the npm packages or FreeType */
        printf("SKIPPED: %s\n", gf_ctx_errmsg(ctx));
        gf_ctx_destroy(ctx);
        return 77;
    }
    char tmpl[] = "/tmp/gf-test-web-XXXXXX";
    CHECK(mkdtemp(tmpl) != NULL);
    char dir[4200], p[4300], q[4300];
    snprintf(dir, sizeof dir, "%s/carte", tmpl);

    CHECK(gf_web_install(ctx, dir, "../adresses.pmtiles?v=\"1\"&x=<2>") == GF_OK);
    size_t n = 0;
    snprintf(p, sizeof p, "%s/index.html", dir);
    char *page = slurp(p, &n);
    CHECK(page && strstr(page, "<meta name=\"geoflux-pmtiles\" content=\"../adresses.pmtiles?v=&quot;1&quot;&amp;x=&lt;2&gt;\">"));
    CHECK(page && !strstr(page, "content=\"adresses.pmtiles\""));
    free(page);
    const char *copied[] = {"style.js", "map.js", "vendor/maplibre-gl.js", "vendor/maplibre-gl.css", "vendor/pmtiles.js",
                            "glyphs/dejavu-sans-bold/0-255.pbf", "glyphs/dejavu-sans-bold/256-511.pbf",
                            "glyphs/dejavu-sans-bold/8192-8447.pbf"};
    for (size_t i = 0; i < sizeof copied / sizeof copied[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, copied[i]);
        snprintf(q, sizeof q, "%s/%s", assets, copied[i]);
        CHECK(same(p, q));
    }
    /* again over itself: replaced, same bytes */
    CHECK(gf_web_install(ctx, dir, "../adresses.pmtiles?v=\"1\"&x=<2>") == GF_OK);
    snprintf(p, sizeof p, "%s/map.js", dir);
    snprintf(q, sizeof q, "%s/map.js", assets);
    CHECK(same(p, q));

    /* invalid arguments */
    CHECK(gf_web_install(ctx, dir, "") == GF_ERR_ARG);
    CHECK(gf_web_install(ctx, dir, NULL) == GF_ERR_ARG);
    CHECK(gf_web_install(ctx, dir, "a\nb.pmtiles") == GF_ERR_ARG);
    CHECK(gf_web_install(ctx, "", "x.pmtiles") == GF_ERR_ARG);
    snprintf(p, sizeof p, "%s/no/such/dir", tmpl);
    CHECK(gf_web_install(ctx, p, "x.pmtiles") == GF_ERR_IO);
    CHECK(strstr(gf_ctx_errmsg(ctx), p) != NULL);
    char small[4];
    CHECK(gf_web_assets(ctx, small, sizeof small) == GF_ERR_ARG);

    /* assets missing: the message says where it looked and what to run */
    setenv("GEOFLUX_WEB", tmpl, 1); /* a directory without the page's libraries */
    snprintf(p, sizeof p, "%s/other", tmpl);
    CHECK(gf_web_install(ctx, p, "x.pmtiles") == GF_ERR_INPUT);
    CHECK(strstr(gf_ctx_errmsg(ctx), tmpl) && strstr(gf_ctx_errmsg(ctx), "tools/setup.sh"));
    struct stat sb;
    CHECK(stat(p, &sb) != 0 && errno == ENOENT); /* nothing written */
    unsetenv("GEOFLUX_WEB");

    char cmd[4400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpl);
    CHECK(system(cmd) == 0);
    gf_ctx_destroy(ctx);
    GF_TEST_END();
}
