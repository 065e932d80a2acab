/* The map page's assets: finding the directory the build filled
 * (cmake/web_assets.cmake) and copying it into a publication, pointed at
 * its archive. The page is configured by one <meta> of its index.html, so a
 * copy is the asset directory's bytes but for that attribute. */
#include "geoflux/web.h"

#include "geoflux/write.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef GF_WEB_BUILD_DIR
#define GF_WEB_BUILD_DIR ""
#endif
#ifndef GF_WEB_INSTALL_DIR
#define GF_WEB_INSTALL_DIR ""
#endif
#ifndef GF_WEB_GLYPH_PROBE
#define GF_WEB_GLYPH_PROBE "glyphs/dejavu-sans-bold/0-255.pbf"
#endif

/* what a complete asset directory holds (the glyphs: their first range) */
static const char *const required[] = {"index.html", "style.js", "map.js", "vendor/maplibre-gl.js", "vendor/maplibre-gl.css",
                                       "vendor/pmtiles.js", GF_WEB_GLYPH_PROBE};
enum { NREQUIRED = sizeof required / sizeof required[0] };

/* the attribute gf_web_install() rewrites, as web/index.html has it */
static const char META[] = "<meta name=\"geoflux-pmtiles\" content=\"adresses.pmtiles\">";

/* The first required file missing from dir, or NULL when it is complete. */
static const char *missing(const char *dir)
{
    for (int i = 0; i < NREQUIRED; i++) {
        char p[PATH_MAX];
        struct stat sb;
        if (snprintf(p, sizeof p, "%s/%s", dir, required[i]) >= (int)sizeof p || stat(p, &sb) || !S_ISREG(sb.st_mode))
            return required[i];
    }
    return NULL;
}

gf_status gf_web_assets(gf_ctx *ctx, char *out, size_t outsz)
{
    char cand[4][PATH_MAX];
    int n = 0;
    const char *env = getenv("GEOFLUX_WEB");
    if (env && env[0]) {
        snprintf(cand[n++], PATH_MAX, "%s", env);
    } else {
        char exe[PATH_MAX];
        ssize_t l = readlink("/proc/self/exe", exe, sizeof exe - 1);
        if (l > 0) {
            exe[l] = 0;
            char *slash = strrchr(exe, '/');
            if (slash) {
                *slash = 0;
                if (snprintf(cand[n], PATH_MAX, "%s/../share/geoflux/web", exe) < PATH_MAX) n++;
            }
        }
        if (GF_WEB_INSTALL_DIR[0]) snprintf(cand[n++], PATH_MAX, "%s", GF_WEB_INSTALL_DIR);
        if (GF_WEB_BUILD_DIR[0]) snprintf(cand[n++], PATH_MAX, "%s", GF_WEB_BUILD_DIR);
    }
    const char *first_missing = NULL;
    for (int i = 0; i < n; i++) {
        const char *m = missing(cand[i]);
        if (!m) {
            if (strlen(cand[i]) >= outsz) return gf_ctx_err(ctx, GF_ERR_ARG, "%s: path too long", cand[i]);
            memcpy(out, cand[i], strlen(cand[i]) + 1);
            return GF_OK;
        }
        if (!first_missing) first_missing = m;
    }
    char where[4 * PATH_MAX + 16] = "";
    for (int i = 0; i < n; i++) {
        size_t l = strlen(where);
        snprintf(where + l, sizeof where - l, "%s%s", i ? ", " : "", cand[i]);
    }
    return gf_ctx_err(ctx, GF_ERR_INPUT,
                      "the map page's files are missing (looked in %s%s; %s missing): build geoflux after "
                      "`tools/setup.sh demo` (MapLibre GL and pmtiles in web/node_modules) and with libfreetype-dev "
                      "and fonts-dejavu-core installed (`tools/setup.sh build`, the label glyphs), or point "
                      "GEOFLUX_WEB at a built share/geoflux/web",
                      n ? where : "nowhere", env && env[0] ? " ($GEOFLUX_WEB)" : "", first_missing ? first_missing : "all");
}

/* Writes len bytes to path through a temporary renamed into place. */
static gf_status write_atomic(gf_ctx *ctx, const char *path, int src_fd, const char *bytes, size_t len)
{
    gf_atomic a = {0};
    gf_status st = gf_atomic_create(ctx, path, 0, &a);
    if (st) return st;
    char buf[65536];
    for (;;) {
        const char *p = bytes;
        size_t n = len;
        if (src_fd >= 0) {
            ssize_t r = read(src_fd, buf, sizeof buf);
            if (r < 0 && errno == EINTR) continue;
            if (r < 0) { st = gf_ctx_err(ctx, GF_ERR_IO, "%s: cannot read the map page's file: %s", path, strerror(errno)); break; }
            if (r == 0) break;
            p = buf;
            n = (size_t)r;
        }
        while (n) {
            ssize_t w = write(a.fd, p, n);
            if (w < 0 && errno == EINTR) continue;
            if (w <= 0) { st = gf_ctx_err(ctx, GF_ERR_IO, "%s: cannot write: %s", path, strerror(errno)); break; }
            p += w;
            n -= (size_t)w;
        }
        if (st || src_fd < 0) break;
    }
    if (!st) st = gf_atomic_close(ctx, &a);
    if (!st) st = gf_atomic_publish(ctx, &a);
    gf_atomic_free(&a);
    return st;
}

/* index.html with the archive's URL in its <meta>, escaped for an HTML
 * attribute. */
static gf_status write_index(gf_ctx *ctx, const char *src, const char *dst, const char *url)
{
    int fd = open(src, O_RDONLY | O_CLOEXEC);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) || sb.st_size > (1 << 20)) {
        if (fd >= 0) close(fd);
        return gf_ctx_err(ctx, GF_ERR_INPUT, "%s: cannot read the map page (or over 1 MB)", src);
    }
    size_t len = (size_t)sb.st_size, ul = strlen(url);
    /* each URL byte escapes to at most 6 ("&quot;") */
    size_t cap = len + 6 * ul + sizeof META;
    char *page = malloc(len + 1), *out = malloc(cap);
    gf_status st = GF_OK;
    if (!page || !out) { st = gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory"); goto done; }
    size_t got = 0;
    while (got < len) {
        ssize_t r = read(fd, page + got, len - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) { st = gf_ctx_err(ctx, GF_ERR_INPUT, "%s: cannot read the map page", src); goto done; }
        got += (size_t)r;
    }
    page[len] = 0;
    const char *m = strstr(page, META);
    if (!m) { st = gf_ctx_err(ctx, GF_ERR_INPUT, "%s: not geoflux's map page (no %s)", src, META); goto done; }
    const char *attr = strstr(m, "adresses.pmtiles"); /* the value within META */
    size_t o = (size_t)(attr - page);
    memcpy(out, page, o);
    for (const char *u = url; *u; u++) {
        const char *e = *u == '&' ? "&amp;" : *u == '"' ? "&quot;" : *u == '<' ? "&lt;" : *u == '>' ? "&gt;" : NULL;
        if (e) { memcpy(out + o, e, strlen(e)); o += strlen(e); }
        else out[o++] = *u;
    }
    size_t rest = len - (size_t)(attr - page) - strlen("adresses.pmtiles");
    memcpy(out + o, attr + strlen("adresses.pmtiles"), rest);
    o += rest;
    st = write_atomic(ctx, dst, -1, out, o);
done:
    close(fd);
    free(page);
    free(out);
    return st;
}

/* Copies the asset directory src into dst, depth-first, index.html of the
 * top level excepted (written by write_index). Hidden names are skipped. */
static gf_status copy_tree(gf_ctx *ctx, const char *src, const char *dst, int depth)
{
    if (depth > 4) return gf_ctx_err(ctx, GF_ERR_INPUT, "%s: the map page's assets nest too deep", src);
    if (mkdir(dst, 0755) && errno != EEXIST) return gf_ctx_err(ctx, GF_ERR_IO, "%s: cannot create: %s", dst, strerror(errno));
    DIR *d = opendir(src);
    if (!d) return gf_ctx_err(ctx, GF_ERR_INPUT, "%s: cannot read: %s", src, strerror(errno));
    gf_status st = GF_OK;
    for (struct dirent *e; !st && (e = readdir(d));) {
        if (e->d_name[0] == '.' || (depth == 0 && !strcmp(e->d_name, "index.html"))) continue;
        char s[PATH_MAX], t[PATH_MAX];
        if (snprintf(s, sizeof s, "%s/%s", src, e->d_name) >= (int)sizeof s ||
            snprintf(t, sizeof t, "%s/%s", dst, e->d_name) >= (int)sizeof t) {
            st = gf_ctx_err(ctx, GF_ERR_ARG, "%s/%s: path too long", dst, e->d_name);
            break;
        }
        struct stat sb;
        if (stat(s, &sb)) { st = gf_ctx_err(ctx, GF_ERR_INPUT, "%s: %s", s, strerror(errno)); break; }
        if (S_ISDIR(sb.st_mode)) {
            st = copy_tree(ctx, s, t, depth + 1);
        } else if (S_ISREG(sb.st_mode)) {
            int fd = open(s, O_RDONLY | O_CLOEXEC);
            if (fd < 0) { st = gf_ctx_err(ctx, GF_ERR_INPUT, "%s: %s", s, strerror(errno)); break; }
            st = write_atomic(ctx, t, fd, NULL, 0);
            close(fd);
        }
    }
    closedir(d);
    return st;
}

gf_status gf_web_install(gf_ctx *ctx, const char *dir, const char *pmtiles_url)
{
    if (!dir || !dir[0]) return gf_ctx_err(ctx, GF_ERR_ARG, "the map page's directory is empty");
    if (!pmtiles_url || !pmtiles_url[0])
        return gf_ctx_err(ctx, GF_ERR_ARG, "%s: the map page needs its archive's URL", dir);
    for (const unsigned char *u = (const unsigned char *)pmtiles_url; *u; u++)
        if (*u < 0x20 || *u == 0x7f)
            return gf_ctx_err(ctx, GF_ERR_ARG, "%s: the archive's URL has a control character", dir);
    char assets[PATH_MAX];
    gf_status st = gf_web_assets(ctx, assets, sizeof assets);
    if (st) return st;
    if ((st = copy_tree(ctx, assets, dir, 0))) return st;
    char s[PATH_MAX], t[PATH_MAX];
    if (snprintf(s, sizeof s, "%s/index.html", assets) >= (int)sizeof s ||
        snprintf(t, sizeof t, "%s/index.html", dir) >= (int)sizeof t)
        return gf_ctx_err(ctx, GF_ERR_ARG, "%s: path too long", dir);
    return write_index(ctx, s, t, pmtiles_url);
}
