/* gf_dashboard_write(): the files written are the embedded ones, byte for
 * byte equal to web/dashboard/ (the build embeds what is in the tree),
 * index.html at the root and the rest under dashboard/; invalid inputs are
 * refused with the documented status and leave nothing behind. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "geoflux/ctx.h"
#include "gf_test.h"
#include "publish/dashboard.h"

/* The file's bytes (NUL-terminated, *n their count), or NULL. */
static char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, len = 0;
    char *p = malloc(cap + 1);
    size_t r;
    while (p && (r = fread(p + len, 1, cap - len, f)) > 0) {
        len += r;
        if (len == cap) { char *q = realloc(p, 2 * cap + 1); if (!q) { free(p); p = NULL; } else { p = q; cap *= 2; } }
    }
    fclose(f);
    if (p) { p[len] = 0; *n = len; }
    return p;
}

static int same_file(const char *path, const unsigned char *data, size_t size)
{
    size_t n = 0;
    char *p = slurp(path, &n);
    int same = p && n == size && !memcmp(p, data, size);
    free(p);
    return same;
}

/* Entries of dir other than . and .. (temporaries included). */
static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
    closedir(d);
    return n;
}

int main(int argc, char **argv)
{
    const char *src = argc > 1 ? argv[1] : "..";
    gf_ctx *ctx = NULL;
    CHECK(gf_ctx_create(&ctx) == GF_OK);
    char path[4096];

    /* the embedded files: index.html, the script and the style, each equal
     * to its source */
    CHECK(gf_dashboard_count >= 3);
    CHECK(gf_dashboard_file("index.html") != NULL);
    CHECK(gf_dashboard_file("dashboard.js") != NULL);
    CHECK(gf_dashboard_file("dashboard.css") != NULL);
    CHECK(gf_dashboard_file("nope.html") == NULL);
    CHECK(gf_dashboard_file(NULL) == NULL);
    for (size_t i = 0; i < gf_dashboard_count; i++) {
        const gf_embedded_file *f = &gf_dashboard_files[i];
        snprintf(path, sizeof path, "%s/web/dashboard/%s", src, f->name);
        CHECK(same_file(path, f->data, f->size));
        CHECK(f->data[f->size] == 0);
    }
    /* the page loads data.js and its files with relative paths, nothing else */
    const char *html = (const char *)gf_dashboard_file("index.html")->data;
    CHECK(strstr(html, "src=\"data.js\"") != NULL);
    CHECK(strstr(html, "src=\"dashboard/dashboard.js\"") != NULL);
    CHECK(strstr(html, "href=\"dashboard/dashboard.css\"") != NULL);
    CHECK(strstr(html, "http://") == NULL && strstr(html, "https://") == NULL);

    char tmpl[] = "/tmp/gf-test-dashboard-XXXXXX";
    char *dir = mkdtemp(tmpl);
    CHECK(dir != NULL);
    if (!dir) GF_TEST_END();

    /* writes into an existing directory: index.html + dashboard/, nothing else */
    CHECK(gf_dashboard_write(ctx, dir) == GF_OK);
    for (size_t i = 0; i < gf_dashboard_count; i++) {
        const gf_embedded_file *f = &gf_dashboard_files[i];
        snprintf(path, sizeof path, strcmp(f->name, "index.html") ? "%s/dashboard/%s" : "%s/%s", dir, f->name);
        CHECK(same_file(path, f->data, f->size));
    }
    CHECK(count_entries(dir) == 2);
    snprintf(path, sizeof path, "%s/dashboard", dir);
    CHECK(count_entries(path) == (int)gf_dashboard_count - 1);
    /* again over the same files (a SITE rebuilt): replaced, still no temporaries */
    CHECK(gf_dashboard_write(ctx, dir) == GF_OK);
    CHECK(count_entries(dir) == 2);
    CHECK(count_entries(path) == (int)gf_dashboard_count - 1);

    /* invalid inputs */
    CHECK(gf_dashboard_write(ctx, NULL) == GF_ERR_ARG);
    CHECK(gf_dashboard_write(ctx, "") == GF_ERR_ARG);
    CHECK(gf_dashboard_write(NULL, NULL) == GF_ERR_ARG);
    snprintf(path, sizeof path, "%s/missing", dir);
    CHECK(gf_dashboard_write(ctx, path) == GF_ERR_OUTPUT);
    CHECK(strstr(gf_ctx_errmsg(ctx), "missing") != NULL);
    snprintf(path, sizeof path, "%s/index.html", dir);  /* a file, not a directory */
    CHECK(gf_dashboard_write(ctx, path) == GF_ERR_OUTPUT);
    /* dashboard/ taken by a file: refused, nothing written beside it */
    char dir2[256];
    snprintf(dir2, sizeof dir2, "%s/site2", dir);
    CHECK(mkdir(dir2, 0755) == 0);
    snprintf(path, sizeof path, "%s/dashboard", dir2);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (f) fclose(f);
    CHECK(gf_dashboard_write(ctx, dir2) == GF_ERR_OUTPUT);
    CHECK(strstr(gf_ctx_errmsg(ctx), "not a directory") != NULL);
    CHECK(count_entries(dir2) == 1);
    /* index.html taken by a directory: refused, no temporary left, the
     * files of dashboard/ not replaced (all or none) */
    unlink(path);
    snprintf(path, sizeof path, "%s/index.html", dir2);
    CHECK(mkdir(path, 0755) == 0);
    CHECK(gf_dashboard_write(ctx, dir2) != GF_OK);
    CHECK(count_entries(dir2) == 2);  /* index.html (the directory) and dashboard/ */
    snprintf(path, sizeof path, "%s/dashboard", dir2);
    CHECK(count_entries(path) == 0);
    rmdir(path);
    snprintf(path, sizeof path, "%s/index.html", dir2);
    rmdir(path);
    rmdir(dir2);

    /* clean up */
    for (size_t i = 0; i < gf_dashboard_count; i++) {
        const gf_embedded_file *fe = &gf_dashboard_files[i];
        snprintf(path, sizeof path, strcmp(fe->name, "index.html") ? "%s/dashboard/%s" : "%s/%s", dir, fe->name);
        unlink(path);
    }
    snprintf(path, sizeof path, "%s/dashboard", dir);
    rmdir(path);
    CHECK(rmdir(dir) == 0);
    gf_ctx_destroy(ctx);
    GF_TEST_END();
}
