/* Byte streams: a file, standard input, or either gzip-compressed.
 * zlib's gzread() passes non-gzip input through unchanged, so one code path
 * serves plain and compressed input; the magic bytes decide, not the name.
 * It reads every member of a multi-member gzip file (gzip's own concatenation
 * rule). A gzip file cut short is not a quiet end of data: gzread() then
 * returns what it could inflate and records Z_BUF_ERROR, which is turned
 * into an error here, so no command mistakes a truncated file for a short one. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "geoflux/ingest.h"

struct gf_stream {
    gzFile gz;
    uint64_t size;
    char *path; /* as given, "<stdin>" for "-" */
};

gf_status gf_stream_open(gf_ctx *ctx, const char *path, gf_stream **out)
{
    int fd = strcmp(path, "-") == 0 ? dup(STDIN_FILENO) : open(path, O_RDONLY);
    if (fd < 0) return gf_ctx_err(ctx, GF_ERR_INPUT, "%s: %s", path, strerror(errno));
    gf_stream *s = calloc(1, sizeof *s);
    if (!s) {
        close(fd);
        return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    }
    struct stat sb;
    if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode)) s->size = (uint64_t)sb.st_size;
    s->gz = gzdopen(fd, "rb");
    if (!s->gz) {
        close(fd);
        free(s);
        return gf_ctx_err(ctx, GF_ERR_INPUT, "%s: cannot open stream", path);
    }
    gzbuffer(s->gz, 256 * 1024);
    s->path = strdup(strcmp(path, "-") == 0 ? "<stdin>" : path);
    if (!s->path) {
        gf_stream_close(s);
        return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    }
    *out = s;
    return GF_OK;
}

gf_status gf_stream_read(gf_stream *s, gf_ctx *ctx, void *buf, size_t n, size_t *got)
{
    if (n > (size_t)1 << 30) n = (size_t)1 << 30;
    int r = gzread(s->gz, buf, (unsigned)n);
    if (r < 0) {
        int zerr;
        const char *m = gzerror(s->gz, &zerr);
        return gf_ctx_err(ctx, GF_ERR_INPUT, "%s: %s", s->path,
                          zerr == Z_ERRNO ? strerror(errno) : m);
    }
    if (r == 0) {
        int zerr;
        gzerror(s->gz, &zerr);
        if (zerr == Z_BUF_ERROR)
            return gf_ctx_err(ctx, GF_ERR_INPUT,
                              "%s: truncated gzip data: the compressed stream ends at byte %llu before its end "
                              "(the file is incomplete; the rows after the cut are missing)",
                              s->path, (unsigned long long)gf_stream_offset(s));
    }
    *got = (size_t)r;
    return GF_OK;
}

uint64_t gf_stream_offset(gf_stream *s)
{
    z_off_t o = gzoffset(s->gz); /* compressed position for gzip, file position otherwise */
    return o > 0 ? (uint64_t)o : 0;
}

uint64_t gf_stream_size(const gf_stream *s) { return s->size; }

const char *gf_stream_path(const gf_stream *s) { return s->path; }

void gf_stream_close(gf_stream *s)
{
    if (!s) return;
    gzclose(s->gz);
    free(s->path);
    free(s);
}
