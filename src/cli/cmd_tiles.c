/* geoflux tiles: `convert` with a tile archive as its output, under the
 * name tippecanoe users look for: the convert job itself (one pipeline, one
 * set of options), which refuses an output that is not a PMTiles or MBTiles
 * archive. */
#include <stdio.h>

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
        "exit codes: 0 ok, 2 usage error or unreadable input, 3 run failed (see geoflux --help)\n");
}

int gf_cmd_tiles(int argc, char **argv) { return gf_cli_convert(argc, argv, help, 1); }
