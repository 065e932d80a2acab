/* The coverage dashboard of `geoflux publish`: index.html and dashboard/
 * (web/dashboard/, embedded into the binary at build time by
 * cmake/embed.cmake), written into a SITE directory. The page reads its data
 * from the SITE's data.js (window.GF_REPORT, window.GF_COMMUNES; see
 * docs/publish.md), which the caller writes: this module writes no data. */
#ifndef GF_PUBLISH_DASHBOARD_H
#define GF_PUBLISH_DASHBOARD_H

#include <stddef.h>

#include "geoflux/ctx.h"

/* One embedded file: its name under web/dashboard/, its bytes (followed by
 * a NUL not counted in size). Static data, never freed. */
typedef struct gf_embedded_file {
    const char *name;
    const unsigned char *data;
    size_t size;
} gf_embedded_file;

/* The dashboard's files, in the generated source (build/generated/). */
extern const gf_embedded_file gf_dashboard_files[];
extern const size_t gf_dashboard_count;

/* Writes the dashboard into site_dir, an existing directory:
 * site_dir/index.html and site_dir/dashboard/<file> for every other file of
 * web/dashboard/ (site_dir/dashboard/ is created when missing). Existing
 * files of those names are replaced; nothing else in site_dir is touched.
 * Every file is written under a temporary name, and all are renamed only
 * once all are written: a failure while writing replaces none of them, and
 * no temporary is left (a dashboard/ directory created by the call may
 * stay, empty).
 * The bytes written depend on the build alone (no date, no path), so a SITE
 * rebuilt from the same store is byte-identical.
 * Returns GF_OK; GF_ERR_ARG when ctx or site_dir is NULL or site_dir is
 * empty; GF_ERR_OUTPUT when site_dir is not an existing directory,
 * site_dir/dashboard exists and is not a directory, or a file cannot be
 * written or renamed (message in ctx, naming the path; with a NULL ctx,
 * just the status). */
gf_status gf_dashboard_write(gf_ctx *ctx, const char *site_dir);

/* The embedded file named name ("index.html", "dashboard.js", ...), or NULL.
 * Borrowed, static. For tests and for `geoflux serve`-like readers. */
const gf_embedded_file *gf_dashboard_file(const char *name);

#endif
