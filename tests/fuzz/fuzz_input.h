/* Shared by the fuzz targets: the library reads paths, so each input is
 * written to one private temporary file (mkstemp, created once per process,
 * rewritten for every input, removed at exit). */
#ifndef GF_FUZZ_INPUT_H
#define GF_FUZZ_INPUT_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char gf_fuzz_path[64];

static void gf_fuzz_cleanup(void) { unlink(gf_fuzz_path); }

/* Returns the path holding exactly data[0..size), or NULL. */
static const char *gf_fuzz_input(const uint8_t *data, size_t size)
{
    static int fd = -1;
    if (fd < 0) {
        snprintf(gf_fuzz_path, sizeof gf_fuzz_path, "/tmp/gf_fuzz_XXXXXX");
        fd = mkstemp(gf_fuzz_path);
        if (fd < 0) return NULL;
        atexit(gf_fuzz_cleanup);
    }
    if (ftruncate(fd, 0) != 0 || lseek(fd, 0, SEEK_SET) != 0) return NULL;
    for (size_t off = 0; off < size;) {
        ssize_t w = write(fd, data + off, size - off);
        if (w <= 0) return NULL;
        off += (size_t)w;
    }
    return gf_fuzz_path;
}

#endif
