/* geoflux tiles: `convert` with a tile archive as its output, under the
 * name tippecanoe users look for. It checks that the output is a PMTiles or
 * MBTiles archive, then runs convert with the same arguments: one pipeline,
 * one set of options. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cli/commands.h"

static void help(FILE *f)
{
    fprintf(f,
        "usage: geoflux tiles INPUT... -o OUTPUT.pmtiles|OUTPUT.mbtiles [OPTIONS]\n"
        "\n"
        "Vector tiles (MVT) of the addresses, in one streaming pass: the same job as\n"
        "`geoflux convert` with a tile archive as OUTPUT, and every convert option:\n"
        "  --minzoom Z --maxzoom Z (default 0-14), --layer NAME, --attributes a,b,\n"
        "  --max-memory SIZE, --tmpdir DIR, --communes FILE (adds the commune polygons\n"
        "  with their statistics as a second layer), -j N, ...\n"
        "See `geoflux convert --help`.\n"
        "\n"
        "exit codes: 0 ok, 2 usage error or unreadable input, 3 run failed\n");
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && !strcasecmp(s + n - k, suffix);
}

/* Value of option short/long in argv (last one wins), or NULL. */
static const char *opt_value(int argc, char **argv, char s, const char *l)
{
    const char *v = NULL;
    size_t ll = strlen(l);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--")) break;
        if (a[0] == '-' && a[1] == s && a[2]) v = a + 2;
        else if (a[0] == '-' && a[1] == s && !a[2] && i + 1 < argc) v = argv[++i];
        else if (!strncmp(a, "--", 2) && !strncmp(a + 2, l, ll) && a[2 + ll] == '=') v = a + 3 + ll;
        else if (!strncmp(a, "--", 2) && !strcmp(a + 2, l) && i + 1 < argc) v = argv[++i];
    }
    return v;
}

int gf_cmd_tiles(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) { help(stdout); return GF_EXIT_OK; }
    const char *out = opt_value(argc, argv, 'o', "output"), *fmt = opt_value(argc, argv, 'f', "format");
    int ok = fmt ? !strcasecmp(fmt, "pmtiles") || !strcasecmp(fmt, "mbtiles")
                 : out && (ends_with(out, ".pmtiles") || ends_with(out, ".mbtiles"));
    if (!ok) {
        fprintf(stderr, "geoflux tiles: the output must be a .pmtiles or .mbtiles archive (-o FILE, or -f pmtiles|mbtiles)\n");
        help(stderr);
        return GF_EXIT_USAGE;
    }
    return gf_cmd_convert(argc, argv);
}
