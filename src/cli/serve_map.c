/* geoflux serve's map page: a copy of the built page (gf_web_install()) in a
 * private temporary directory, pointed at the archive being served, so that
 * `serve SITE` and `serve ARCHIVE...` show a map without --web and without
 * writing into the SITE. */
#define _XOPEN_SOURCE 700 /* nftw() */
#include "cli/serve_map.h"

#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "geoflux/web.h"

gf_status gf_cli_serve_map(gf_ctx *ctx, const char *tmpdir, const char *name, char *root, size_t rootsz)
{
    const char *tmp = tmpdir ? tmpdir : getenv("TMPDIR");
    if (!tmp || !tmp[0]) tmp = "/tmp";
    root[0] = 0;
    int k = snprintf(root, rootsz, "%s/geoflux-map-XXXXXX", tmp);
    if (k < 0 || (size_t)k >= rootsz) { root[0] = 0; return gf_ctx_err(ctx, GF_ERR_ARG, "%s: path too long", tmp); }
    if (!mkdtemp(root)) {
        root[0] = 0;
        return gf_ctx_err(ctx, GF_ERR_IO, "%s: cannot create a directory for the map page", tmp);
    }
    char dir[PATH_MAX], url[300];
    if (snprintf(dir, sizeof dir, "%s/carte", root) >= (int)sizeof dir ||
        snprintf(url, sizeof url, "../%s.pmtiles", name) >= (int)sizeof url) {
        gf_cli_serve_map_remove(root);
        root[0] = 0;
        return gf_ctx_err(ctx, GF_ERR_ARG, "%s: name too long for the map page", name);
    }
    gf_status st = gf_web_install(ctx, dir, url);
    if (st) {
        gf_cli_serve_map_remove(root);
        root[0] = 0;
    }
    return st;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb; (void)flag; (void)ftw;
    remove(path);
    return 0;
}

void gf_cli_serve_map_remove(const char *root)
{
    if (!root || !root[0]) return;
    nftw(root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}
