/* Tile math: projection to 32-bit world coordinates, PMTiles tile ids
 * (Hilbert keys from core/hilbert.c), varints. */
#include <math.h>

#include "tiles/tilemath.h"

void gf_tile_world(double lon, double lat, uint32_t *x, uint32_t *y)
{
    if (lat > 85.0511287798) lat = 85.0511287798;
    if (lat < -85.0511287798) lat = -85.0511287798;
    if (lon < -180) lon = -180;
    if (lon > 180) lon = 180;
    double fx = (lon + 180.0) / 360.0;
    double s = sin(lat * M_PI / 180.0);
    double fy = 0.5 - log((1 + s) / (1 - s)) / (4 * M_PI);
    double wx = floor(fx * 4294967296.0), wy = floor(fy * 4294967296.0);
    if (wx < 0) wx = 0;
    if (wy < 0) wy = 0;
    if (wx > 4294967295.0) wx = 4294967295.0;
    if (wy > 4294967295.0) wy = 4294967295.0;
    *x = (uint32_t)wx;
    *y = (uint32_t)wy;
}

void gf_tile_lonlat(double wx, double wy, double *lon, double *lat)
{
    *lon = wx / 4294967296.0 * 360.0 - 180.0;
    double n = M_PI - 2.0 * M_PI * wy / 4294967296.0;
    *lat = 180.0 / M_PI * atan(0.5 * (exp(n) - exp(-n)));
}

uint64_t gf_pmtiles_zoom_base(int z)
{
    uint64_t acc = 0;
    for (int t = 0; t < z; t++) acc += 1ull << (2 * t);
    return acc;
}

uint64_t gf_pmtiles_zxy_to_id(int z, uint32_t x, uint32_t y)
{
    return gf_pmtiles_zoom_base(z) + (z ? gf_hilbert_xy2d(z, x, y) : 0);
}

int gf_pmtiles_id_to_zxy(uint64_t id, int *z, uint32_t *x, uint32_t *y)
{
    for (int k = 0; k <= 30; k++) {
        uint64_t base = gf_pmtiles_zoom_base(k), n = 1ull << (2 * k);
        if (id - base < n) {
            *z = k;
            if (k == 0) *x = *y = 0;
            else gf_hilbert_d2xy(k, id - base, x, y);
            return 0;
        }
    }
    return -1;
}

size_t gf_varint_get(const uint8_t *p, size_t avail, uint64_t *v)
{
    uint64_t r = 0;
    for (size_t i = 0; i < avail && i < 10; i++) {
        r |= (uint64_t)(p[i] & 0x7f) << (7 * i);
        if (!(p[i] & 0x80)) { *v = r; return i + 1; }
    }
    return 0;
}
