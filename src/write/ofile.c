/* Output files written by a writer thread (see ofile.h for why). */
#define _GNU_SOURCE /* O_DIRECT */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "write/ofile.h"

#define NBUF 4

struct gf_awriter {
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int fd, fd_direct;       /* fd borrowed; fd_direct ours, -1 when not used */
    size_t cap;
    uint8_t *buf[NBUF];
    uint64_t off[NBUF];
    size_t len[NBUF];
    int busy[NBUF];          /* queued or being written */
    int q[NBUF], qhead, qlen;
    int cur;                 /* buffer being filled, -1: none */
    int err, stop;
};

int gf_pio(int fd, int wr, void *p, size_t n, uint64_t off)
{
    char *c = p;
    while (n) {
        ssize_t k = wr ? pwrite(fd, c, n, (off_t)off) : pread(fd, c, n, (off_t)off);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return k < 0 ? errno : EIO;
        c += k;
        n -= (size_t)k;
        off += (uint64_t)k;
    }
    return 0;
}

static void *writer_main(void *arg)
{
    gf_awriter *w = arg;
    for (;;) {
        pthread_mutex_lock(&w->mu);
        while (!w->qlen && !w->stop) pthread_cond_wait(&w->cv, &w->mu);
        if (!w->qlen) { pthread_mutex_unlock(&w->mu); break; }
        int i = w->q[w->qhead];
        pthread_mutex_unlock(&w->mu);
        int e = -1;
        if (w->fd_direct >= 0 && w->off[i] % 4096 == 0 && w->len[i] % 4096 == 0) {
            e = gf_pio(w->fd_direct, 1, w->buf[i], w->len[i], w->off[i]);
            if (e == EINVAL) { /* the file system refuses direct I/O after all: page cache from now on */
                close(w->fd_direct);
                w->fd_direct = -1;
                e = -1;
            }
        }
        if (e == -1) e = gf_pio(w->fd, 1, w->buf[i], w->len[i], w->off[i]);
        pthread_mutex_lock(&w->mu);
        if (e && !w->err) w->err = e;
        w->busy[i] = 0;
        w->qhead = (w->qhead + 1) % NBUF;
        w->qlen--;
        pthread_cond_broadcast(&w->cv);
        pthread_mutex_unlock(&w->mu);
    }
    return NULL;
}

static void free_writer(gf_awriter *w)
{
    if (w->fd_direct >= 0) close(w->fd_direct);
    for (int i = 0; i < NBUF; i++) free(w->buf[i]);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    free(w);
}

gf_status gf_awriter_open(gf_ctx *ctx, const char *path, int fd, size_t cap, gf_awriter **out)
{
    gf_awriter *w = calloc(1, sizeof *w);
    if (!w) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    w->fd = fd;
    w->fd_direct = -1;
    w->cur = -1;
    w->cap = cap;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    for (int i = 0; i < NBUF; i++)
        if (posix_memalign((void **)&w->buf[i], 4096, cap)) {
            free_writer(w);
            return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
        }
#ifdef O_DIRECT
    if (cap % 4096 == 0) w->fd_direct = open(path, O_WRONLY | O_DIRECT);
#endif
    if (pthread_create(&w->th, NULL, writer_main, w) != 0) {
        free_writer(w);
        return gf_ctx_err(ctx, GF_ERR_INTERNAL, "%s: cannot start the writer thread", path);
    }
    *out = w;
    return GF_OK;
}

size_t gf_awriter_cap(const gf_awriter *w) { return w->cap; }

uint8_t *gf_awriter_buf(gf_awriter *w, gf_ctx *ctx, const char *path)
{
    if (w->cur >= 0) return w->buf[w->cur];
    int c;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        for (c = 0; c < NBUF && w->busy[c]; c++) {}
        if (c < NBUF || w->err) break;
        pthread_cond_wait(&w->cv, &w->mu);
    }
    int e = w->err;
    pthread_mutex_unlock(&w->mu);
    if (e) {
        gf_ctx_err(ctx, GF_ERR_IO, "%s: write: %s", path, strerror(e));
        return NULL;
    }
    w->cur = c;
    return w->buf[c];
}

void gf_awriter_put(gf_awriter *w, uint64_t off, size_t len)
{
    if (w->cur < 0) return;
    pthread_mutex_lock(&w->mu);
    w->off[w->cur] = off;
    w->len[w->cur] = len;
    w->busy[w->cur] = 1;
    w->q[(w->qhead + w->qlen) % NBUF] = w->cur;
    w->qlen++;
    w->cur = -1;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

int gf_awriter_close(gf_awriter *w)
{
    if (!w) return 0;
    pthread_mutex_lock(&w->mu);
    w->stop = 1;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->th, NULL);
    int e = w->err;
    free_writer(w);
    return e;
}

/* ---- sequential outputs ---------------------------------------------------- */

gf_status gf_ofile_open(gf_ctx *ctx, const char *path, gf_ofile *o)
{
    return gf_ofile_open_cap(ctx, path, GF_OFILE_BUF, o);
}

gf_status gf_ofile_open_cap(gf_ctx *ctx, const char *path, size_t cap, gf_ofile *o)
{
    memset(o, 0, sizeof *o);
    /* a caller's constant; 0 would make gf_ofile_write() loop on empty buffers */
    if (cap < 4096 || cap % 4096) return gf_ctx_err(ctx, GF_ERR_INTERNAL, "%s: output buffer of %zu bytes", path, cap);
    o->cap = cap;
    o->a.fd = -1;
    if (!strcmp(path, "-")) {
        gf_ofile_open_stream(o, stdout, "standard output");
        return GF_OK;
    }
    gf_status st = gf_atomic_create(ctx, path, 0, &o->a);
    if (st) return st;
    o->opened = 1;
    st = gf_awriter_open(ctx, o->a.tmp, o->a.fd, cap, &o->w);
    if (st) gf_ofile_discard(o);
    return st;
}

void gf_ofile_open_stream(gf_ofile *o, FILE *f, const char *name)
{
    memset(o, 0, sizeof *o);
    o->a.fd = -1;
    o->std = f;
    o->stdname = name;
    o->opened = 1;
}

gf_status gf_ofile_write(gf_ctx *ctx, gf_ofile *o, const void *p, size_t n)
{
    if (o->std) {
        if (n && fwrite(p, 1, n, o->std) != n) return gf_ctx_err(ctx, GF_ERR_IO, "%s: %s", o->stdname, strerror(errno));
        return GF_OK;
    }
    const uint8_t *s = p;
    while (n) {
        if (!o->cur && !(o->cur = gf_awriter_buf(o->w, ctx, o->a.path))) return GF_ERR_IO;
        size_t room = o->cap - o->len, k = n < room ? n : room;
        memcpy(o->cur + o->len, s, k);
        o->len += k;
        s += k;
        n -= k;
        if (o->len == o->cap) {
            gf_awriter_put(o->w, o->off, o->len);
            o->off += o->len;
            o->len = 0;
            o->cur = NULL;
        }
    }
    return GF_OK;
}

gf_status gf_ofile_close(gf_ctx *ctx, gf_ofile *o)
{
    if (!o->opened) return GF_OK;
    if (o->std) {
        FILE *f = o->std;
        o->opened = 0;
        o->std = NULL;
        return fflush(f) != 0 ? gf_ctx_err(ctx, GF_ERR_IO, "%s: %s", o->stdname, strerror(errno)) : GF_OK;
    }
    if (!o->w) return GF_OK; /* closed already */
    /* the last, partial buffer goes through the page cache (unaligned length) */
    if (o->len) gf_awriter_put(o->w, o->off, o->len);
    o->cur = NULL;
    o->len = 0;
    int e = gf_awriter_close(o->w);
    o->w = NULL;
    if (e) return gf_ctx_err(ctx, GF_ERR_IO, "%s: write failed: %s", o->a.path, strerror(e));
    return gf_atomic_close(ctx, &o->a);
}

gf_status gf_ofile_publish(gf_ctx *ctx, gf_ofile *o)
{
    if (!o->opened) return GF_OK;
    gf_status st = o->std ? GF_OK : gf_atomic_publish(ctx, &o->a);
    gf_ofile_discard(o);
    return st;
}

void gf_ofile_discard(gf_ofile *o)
{
    if (!o->opened) return;
    o->opened = 0;
    if (o->std) { o->std = NULL; return; }
    gf_awriter_close(o->w);
    o->w = NULL;
    gf_atomic_free(&o->a);
}
