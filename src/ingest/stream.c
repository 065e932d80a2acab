/* Byte streams: a file, standard input, or either gzip-compressed.
 * zlib's gzread() passes non-gzip input through unchanged, so one code path
 * serves plain and compressed input; the magic bytes decide, not the name.
 * It reads every member of a multi-member gzip file (gzip's own concatenation
 * rule). A gzip file cut short is not a quiet end of data: gzread() then
 * returns what it could inflate and records Z_BUF_ERROR, which is turned
 * into an error here, so no command mistakes a truncated file for a short one.
 *
 * A gzip stream read past its first few MB is inflated ahead by a thread of
 * its own (zlib is written by hand nowhere here: the thread only calls
 * gzread() into a ring of chunks): inflating is a third of the CPU of
 * reading a .csv.gz, and done by the reader under the pipeline's source
 * lock it kept the other workers waiting (convert of a 1M-row .csv.gz to
 * GPKG + PMTiles: 4.6 s, against 3.8 s for the same rows uncompressed).
 * Small files and sniffed heads stay synchronous. The bytes, their order
 * and the errors (at their place in the stream) are the same either way. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "geoflux/ingest.h"

#define RA_CHUNK ((size_t)1 << 20)
#define RA_NCHUNK 4
#define RA_AFTER ((uint64_t)4 << 20) /* synchronous reads up to here */

struct gf_stream {
    gzFile gz;
    uint64_t size;
    char *path; /* as given, "<stdin>" for "-" */
    uint64_t consumed;         /* bytes read synchronously */
    /* read-ahead: the thread fills chunk[(head + count) % N], the reader
     * empties chunk[head]; done once the thread met the end or an error */
    int ra;
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    char *chunk[RA_NCHUNK];
    size_t len[RA_NCHUNK], pos;
    uint64_t off[RA_NCHUNK];   /* compressed offset after each chunk */
    int head, count, done, stop;
    gf_status err;
    char errmsg[600];
    _Atomic uint64_t offset;   /* compressed offset of the bytes handed out */
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

/* One gzread(): GF_OK with *got (0 at the end), or the failure with its
 * message in msg (no ctx: the read-ahead thread calls it too). */
static gf_status zread(gf_stream *s, void *buf, size_t n, size_t *got, char *msg, size_t msgsz)
{
    if (n > (size_t)1 << 30) n = (size_t)1 << 30;
    int r = gzread(s->gz, buf, (unsigned)n);
    *got = 0;
    if (r < 0) {
        int zerr;
        const char *m = gzerror(s->gz, &zerr);
        snprintf(msg, msgsz, "%s: %s", s->path, zerr == Z_ERRNO ? strerror(errno) : m);
        return GF_ERR_INPUT;
    }
    if (r == 0) {
        int zerr;
        gzerror(s->gz, &zerr);
        if (zerr == Z_BUF_ERROR) {
            z_off_t o = gzoffset(s->gz);
            snprintf(msg, msgsz,
                     "%s: truncated gzip data: the compressed stream ends at byte %llu before its end "
                     "(the file is incomplete; the rows after the cut are missing)",
                     s->path, (unsigned long long)(o > 0 ? o : 0));
            return GF_ERR_INPUT;
        }
    }
    *got = (size_t)r;
    return GF_OK;
}

static void *ra_main(void *arg)
{
    gf_stream *s = arg;
    char msg[600];
    for (;;) {
        pthread_mutex_lock(&s->mu);
        while (s->count == RA_NCHUNK && !s->stop) pthread_cond_wait(&s->cv, &s->mu);
        int stop = s->stop, slot = (s->head + s->count) % RA_NCHUNK;
        pthread_mutex_unlock(&s->mu);
        if (stop) break;
        size_t got = 0;
        gf_status st = zread(s, s->chunk[slot], RA_CHUNK, &got, msg, sizeof msg);
        z_off_t o = gzoffset(s->gz);
        pthread_mutex_lock(&s->mu);
        if (st || got == 0) {
            s->err = st;
            if (st) snprintf(s->errmsg, sizeof s->errmsg, "%s", msg);
            s->done = 1;
        } else {
            s->len[slot] = got;
            s->off[slot] = o > 0 ? (uint64_t)o : 0;
            s->count++;
        }
        pthread_cond_broadcast(&s->cv);
        int end = s->done;
        pthread_mutex_unlock(&s->mu);
        if (end) break;
    }
    return NULL;
}

/* Starts the read-ahead; without memory or a thread the stream simply
 * stays synchronous. */
static void ra_start(gf_stream *s)
{
    for (int i = 0; i < RA_NCHUNK; i++)
        if (!(s->chunk[i] = malloc(RA_CHUNK))) goto undo;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    z_off_t o = gzoffset(s->gz);
    atomic_store(&s->offset, o > 0 ? (uint64_t)o : 0);
    if (pthread_create(&s->th, NULL, ra_main, s) == 0) {
        s->ra = 1;
        return;
    }
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
undo:
    for (int i = 0; i < RA_NCHUNK; i++) {
        free(s->chunk[i]);
        s->chunk[i] = NULL;
    }
}

gf_status gf_stream_read(gf_stream *s, gf_ctx *ctx, void *buf, size_t n, size_t *got)
{
    *got = 0;
    if (!s->ra) {
        char msg[600];
        gf_status st = zread(s, buf, n, got, msg, sizeof msg);
        if (st) return gf_ctx_err(ctx, st, "%s", msg);
        s->consumed += *got;
        if (*got && s->consumed >= RA_AFTER && !gzdirect(s->gz)) ra_start(s);
        return GF_OK;
    }
    pthread_mutex_lock(&s->mu);
    while (s->count == 0 && !s->done) pthread_cond_wait(&s->cv, &s->mu);
    if (s->count == 0) { /* the end, or the error where it was met */
        gf_status st = s->err;
        pthread_mutex_unlock(&s->mu);
        return st ? gf_ctx_err(ctx, st, "%s", s->errmsg) : GF_OK;
    }
    int slot = s->head;
    pthread_mutex_unlock(&s->mu);
    /* chunk[head] is the reader's until handed back */
    size_t k = s->len[slot] - s->pos;
    if (k > n) k = n;
    memcpy(buf, s->chunk[slot] + s->pos, k);
    s->pos += k;
    *got = k;
    if (s->pos == s->len[slot]) {
        pthread_mutex_lock(&s->mu);
        s->head = (s->head + 1) % RA_NCHUNK;
        s->count--;
        s->pos = 0;
        atomic_store(&s->offset, s->off[slot]);
        pthread_cond_broadcast(&s->cv);
        pthread_mutex_unlock(&s->mu);
    }
    return GF_OK;
}

uint64_t gf_stream_offset(gf_stream *s)
{
    if (s->ra) return atomic_load(&s->offset);
    z_off_t o = gzoffset(s->gz); /* compressed position for gzip, file position otherwise */
    return o > 0 ? (uint64_t)o : 0;
}

uint64_t gf_stream_size(const gf_stream *s) { return s->size; }

const char *gf_stream_path(const gf_stream *s) { return s->path; }

void gf_stream_close(gf_stream *s)
{
    if (!s) return;
    if (s->ra) {
        pthread_mutex_lock(&s->mu);
        s->stop = 1;
        pthread_cond_broadcast(&s->cv);
        pthread_mutex_unlock(&s->mu);
        pthread_join(s->th, NULL);
        pthread_mutex_destroy(&s->mu);
        pthread_cond_destroy(&s->cv);
        for (int i = 0; i < RA_NCHUNK; i++) free(s->chunk[i]);
    }
    gzclose(s->gz);
    free(s->path);
    free(s);
}
