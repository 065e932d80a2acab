/* Atomic outputs (one mechanism for every file geoflux writes), the check
 * that a run's outputs are neither its inputs nor each other, scratch
 * files, and number formatting shared by the writers. */
#define _GNU_SOURCE /* mkostemp, getrandom, getdents64 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "geoflux/write.h"

/* ---- registry of live temporaries, for gf_atomic_cleanup_signal() ------- */

#define GF_LIVE_MAX 256
static _Atomic(const char *) live_path[GF_LIVE_MAX];
static atomic_int live_dir[GF_LIVE_MAX];

static int live_add(const char *tmp, int dir)
{
    for (int i = 0; i < GF_LIVE_MAX; i++) {
        const char *none = NULL;
        atomic_store(&live_dir[i], dir);
        if (atomic_compare_exchange_strong(&live_path[i], &none, tmp)) return i;
    }
    return -1; /* full: this temporary is still removed on failure, only not on a signal */
}

static void live_del(int slot)
{
    if (slot >= 0) atomic_store(&live_path[slot], NULL);
}

/* Removes the entries of a flat directory with system calls only. */
static void rm_dir_sigsafe(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0) {
        char buf[4096];
        for (int round = 0; round < 64; round++) { /* bounded: a dataset is a few files */
            long n = syscall(SYS_getdents64, fd, buf, sizeof buf);
            if (n <= 0) break;
            for (long off = 0; off < n;) {
                struct { unsigned long long ino; long long off; unsigned short reclen; unsigned char type; char name[]; } *d =
                    (void *)(buf + off);
                if (d->reclen == 0) break;
                if (strcmp(d->name, ".") && strcmp(d->name, "..")) unlinkat(fd, d->name, 0);
                off += d->reclen;
            }
        }
        close(fd);
    }
    rmdir(dir);
}

void gf_atomic_cleanup_signal(void)
{
    for (int i = 0; i < GF_LIVE_MAX; i++) {
        const char *p = atomic_exchange(&live_path[i], NULL);
        if (!p) continue;
        if (atomic_load(&live_dir[i])) rm_dir_sigsafe(p);
        else unlink(p);
    }
}

/* ---- atomic outputs --------------------------------------------------------- */

/* "<dir>/.<base>.tmp-XXXXXX" (malloc), or NULL with a message in ctx. */
static char *tmp_template(gf_ctx *ctx, const char *path, gf_status *st)
{
    const char *slash = strrchr(path, '/');
    size_t dl = slash ? (size_t)(slash - path) + 1 : 0, n = strlen(path) + 16;
    if (!slash ? !path[0] : !slash[1]) {
        *st = gf_ctx_err(ctx, GF_ERR_ARG, "%s: an output must name a file, not a directory", path);
        return NULL;
    }
    if (n > PATH_MAX) {
        *st = gf_ctx_err(ctx, GF_ERR_ARG, "%.200s...: output path too long (%zu bytes; the limit is %d)", path,
                         strlen(path), PATH_MAX - 16);
        return NULL;
    }
    char *t = malloc(n);
    if (!t) {
        *st = gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
        return NULL;
    }
    snprintf(t, n, "%.*s.%s.tmp-XXXXXX", (int)dl, path, path + dl);
    return t;
}

/* Replaces the trailing XXXXXX of tpl with random letters and creates it
 * exclusively: a file with O_CREAT|O_EXCL|O_NOFOLLOW (a planted file or
 * symlink is never followed nor reused) or a directory with mkdir(), mode
 * 0666/0777 less the umask as any output. Returns the descriptor (a file),
 * 0 (a directory), or -1 with errno. */
static int create_unique(char *tpl, int dir)
{
    static const char abc[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    size_t n = strlen(tpl);
    for (int attempt = 0; attempt < 100; attempt++) {
        unsigned char r[6];
        if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            uint64_t x = (uint64_t)ts.tv_nsec * 0x9E3779B97F4A7C15ull ^ (uint64_t)getpid() << 20 ^ (uint64_t)attempt;
            for (int i = 0; i < 6; i++) r[i] = (unsigned char)(x >> (i * 8));
        }
        for (int i = 0; i < 6; i++) tpl[n - 6 + (size_t)i] = abc[r[i] % 62];
        if (dir) {
            if (mkdir(tpl, 0777) == 0) return 0;
        } else {
            int fd = open(tpl, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
            if (fd >= 0) return fd;
        }
        if (errno != EEXIST) return -1;
    }
    return -1;
}

gf_status gf_atomic_create(gf_ctx *ctx, const char *path, unsigned flags, gf_atomic *a)
{
    memset(a, 0, sizeof *a);
    a->fd = -1;
    a->slot = -1;
    a->flags = flags;
    if (!(a->path = strdup(path))) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    gf_status st = GF_OK;
    if (!(a->tmp = tmp_template(ctx, path, &st))) {
        free(a->path);
        a->path = NULL;
        return st;
    }
    if (flags & GF_ATOMIC_SQLITE) {
        /* SQLite's unix VFS refuses absolute paths of 512 bytes or more */
        char cwd[PATH_MAX];
        size_t abs = strlen(a->tmp) + (a->tmp[0] == '/' ? 0 : (getcwd(cwd, sizeof cwd) ? strlen(cwd) + 1 : PATH_MAX));
        if (abs >= 512) {
            free(a->tmp);
            free(a->path);
            a->tmp = a->path = NULL;
            return gf_ctx_err(ctx, GF_ERR_ARG, "%.200s...: path too long for an SQLite file (GeoPackage, MBTiles): "
                              "%zu bytes once absolute, SQLite takes fewer than 500", path, abs - 16);
        }
    }
    int fd = create_unique(a->tmp, (flags & GF_ATOMIC_DIR) != 0);
    if (fd < 0) {
        int e = errno;
        free(a->tmp);
        free(a->path);
        a->tmp = a->path = NULL;
        return gf_ctx_err(ctx, GF_ERR_IO, "%s: cannot create: %s", path, strerror(e));
    }
    if (!(flags & GF_ATOMIC_DIR)) a->fd = fd;
    a->slot = live_add(a->tmp, (flags & GF_ATOMIC_DIR) != 0);
    return GF_OK;
}

gf_status gf_atomic_close(gf_ctx *ctx, gf_atomic *a)
{
    if (!a->tmp) return GF_OK;
    /* No fsync: the rename keeps readers from ever seeing a partial file;
     * durability across a power cut is the file system's business. */
    if (a->fd >= 0) {
        int e = close(a->fd) != 0 ? errno : 0;
        a->fd = -1;
        if (e) return gf_ctx_err(ctx, GF_ERR_IO, "%s: write failed: %s", a->path, strerror(e));
    }
    return GF_OK;
}

/* A dataset of several files (Shapefile: .shp .shx .dbf .prj .cpg) built
 * in a temporary directory under its final base name: every entry moves
 * next to the output, the one named like the output last (readers look for
 * that one). When a move fails, the entries already moved are removed. */
static gf_status publish_dir(gf_ctx *ctx, gf_atomic *a)
{
    const char *slash = strrchr(a->path, '/');
    const char *base = slash ? slash + 1 : a->path;
    size_t dl = slash ? (size_t)(slash - a->path) + 1 : 0;
    DIR *d = opendir(a->tmp);
    if (!d) return gf_ctx_err(ctx, GF_ERR_IO, "%s: cannot read the finished dataset: %s", a->path, strerror(errno));
    gf_status st = GF_OK;
    char **moved = NULL;
    size_t nmoved = 0;
    int main_seen = 0;
    for (struct dirent *e; !st && (e = readdir(d));) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        if (!strcmp(e->d_name, base)) { main_seen = 1; continue; }
        size_t nf = strlen(a->tmp) + strlen(e->d_name) + 2, nt = dl + strlen(e->d_name) + 1;
        char *from = malloc(nf), *to = malloc(nt), **mv = realloc(moved, (nmoved + 1) * sizeof *moved);
        if (mv) moved = mv;
        if (!from || !to || !mv) {
            free(from); free(to);
            st = gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
            break;
        }
        snprintf(from, nf, "%s/%s", a->tmp, e->d_name);
        snprintf(to, nt, "%.*s%s", (int)dl, a->path, e->d_name);
        if (rename(from, to) != 0) {
            st = gf_ctx_err(ctx, GF_ERR_IO, "%s: cannot move the finished file there: %s", to, strerror(errno));
            free(to);
        } else {
            moved[nmoved++] = to;
        }
        free(from);
    }
    closedir(d);
    if (!st && !main_seen) st = gf_ctx_err(ctx, GF_ERR_IO, "%s: the writer made no file of that name", a->path);
    if (!st) {
        size_t nf = strlen(a->tmp) + strlen(base) + 2;
        char *from = malloc(nf);
        if (!from) st = gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
        else {
            snprintf(from, nf, "%s/%s", a->tmp, base);
            if (rename(from, a->path) != 0)
                st = gf_ctx_err(ctx, GF_ERR_IO, "%s: cannot rename the finished output to it: %s", a->path, strerror(errno));
            free(from);
        }
    }
    for (size_t i = 0; i < nmoved; i++) {
        if (st) unlink(moved[i]);
        free(moved[i]);
    }
    free(moved);
    return st;
}

gf_status gf_atomic_publish(gf_ctx *ctx, gf_atomic *a)
{
    if (!a->tmp) return GF_OK;
    gf_status st = gf_atomic_close(ctx, a);
    if (st) { gf_atomic_discard(a); return st; }
    if (a->flags & GF_ATOMIC_SQLITE) {
        /* The file being replaced may have left -wal/-shm/-journal: SQLite
         * would replay a stale WAL or roll back a stale hot journal into
         * the new file. */
        static const char *const side[] = {"-wal", "-shm", "-journal"};
        size_t n = strlen(a->path) + 10;
        char *p = malloc(n);
        if (!p) { gf_atomic_discard(a); return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory"); }
        for (int i = 0; i < 3 && !st; i++) {
            snprintf(p, n, "%s%s", a->path, side[i]);
            if (unlink(p) != 0 && errno != ENOENT)
                st = gf_ctx_err(ctx, GF_ERR_IO, "%s: cannot remove the old %s: %s", a->path, p, strerror(errno));
        }
        free(p);
        if (st) { gf_atomic_discard(a); return st; }
    }
    if (a->flags & GF_ATOMIC_DIR) st = publish_dir(ctx, a);
    else if (rename(a->tmp, a->path) != 0)
        st = gf_ctx_err(ctx, GF_ERR_IO, "%s: cannot rename the finished output to it: %s", a->path, strerror(errno));
    if (st) {
        gf_atomic_discard(a);
        return st;
    }
    if (a->flags & GF_ATOMIC_DIR) rmdir(a->tmp);
    live_del(a->slot);
    a->slot = -1;
    free(a->tmp);
    a->tmp = NULL;
    a->published = 1;
    return GF_OK;
}

static void rm_tree(const char *p, int depth)
{
    struct stat sb;
    if (lstat(p, &sb) != 0) return;
    if (!S_ISDIR(sb.st_mode) || depth > 8) { unlink(p); return; }
    DIR *d = opendir(p);
    if (d) {
        for (struct dirent *e; (e = readdir(d));) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
            size_t n = strlen(p) + strlen(e->d_name) + 2;
            char *sub = malloc(n);
            if (!sub) continue;
            snprintf(sub, n, "%s/%s", p, e->d_name);
            rm_tree(sub, depth + 1);
            free(sub);
        }
        closedir(d);
    }
    rmdir(p);
}

void gf_atomic_discard(gf_atomic *a)
{
    if (!a) return;
    if (a->tmp && a->fd >= 0) close(a->fd); /* fd is meaningful only with tmp: a zeroed gf_atomic is 0 */
    a->fd = -1;
    if (a->tmp) {
        live_del(a->slot);
        if (a->flags & GF_ATOMIC_DIR) rm_tree(a->tmp, 0);
        else unlink(a->tmp);
    }
    a->slot = -1;
    free(a->tmp);
    a->tmp = NULL;
}

void gf_atomic_free(gf_atomic *a)
{
    if (!a) return;
    gf_atomic_discard(a);
    free(a->path);
    a->path = NULL;
}

/* ---- scratch files -------------------------------------------------------- */

gf_status gf_scratch_open(gf_ctx *ctx, const char *tmpdir, const char *path, int *fd)
{
    const char *dir = tmpdir;
    int dl = -1;
    if (!dir) {
        const char *slash = path ? strrchr(path, '/') : NULL;
        dir = slash ? path : ".";
        dl = slash ? (int)(slash - path) : 1;
        if (slash == path) dl = 1; /* "/file": the root */
    }
    if (dl < 0) dl = (int)strlen(dir);
    size_t n = (size_t)dl + 32;
    if (n > PATH_MAX) return gf_ctx_err(ctx, GF_ERR_ARG, "%.200s...: scratch directory path too long", dir);
    char *tpl = malloc(n);
    if (!tpl) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    snprintf(tpl, n, "%.*s/.geoflux-scratch-XXXXXX", dl, dir);
    int f = mkostemp(tpl, O_CLOEXEC);
    if (f < 0) {
        int e = errno;
        gf_status st = gf_ctx_err(ctx, GF_ERR_IO, "%.*s: cannot create a scratch file there: %s", dl, dir, strerror(e));
        free(tpl);
        return st;
    }
    unlink(tpl); /* freed by the kernel on close, even after a crash */
    free(tpl);
    *fd = f;
    return GF_OK;
}

gf_status gf_scratch_fopen(gf_ctx *ctx, const char *tmpdir, const char *path, size_t buf, FILE **out)
{
    int fd;
    gf_status st = gf_scratch_open(ctx, tmpdir, path, &fd);
    if (st) return st;
    if (!(*out = fdopen(fd, "w+b"))) {
        int e = errno;
        close(fd);
        return gf_ctx_err(ctx, GF_ERR_IO, "%s: scratch file: %s", path ? path : ".", strerror(e));
    }
    if (buf) setvbuf(*out, NULL, _IOFBF, buf);
    return GF_OK;
}

/* ---- outputs that are inputs, or each other ------------------------------- */

typedef struct path_id {
    int exists;
    dev_t dev;
    ino_t ino;
    dev_t pdev; /* parent directory, for an output that does not exist yet */
    ino_t pino;
    const char *base;
} path_id;

char *gf_path_parent(const char *path)
{
    const char *slash = strrchr(path, '/');
    size_t dl = slash ? (size_t)(slash - path) : 0;
    char *dir = malloc(dl + 2);
    if (!dir) return NULL;
    if (!slash) strcpy(dir, ".");
    else if (dl == 0) strcpy(dir, "/");
    else { memcpy(dir, path, dl); dir[dl] = 0; }
    return dir;
}

static int identify(const char *path, path_id *id)
{
    memset(id, 0, sizeof *id);
    struct stat sb;
    if (stat(path, &sb) == 0) {
        id->exists = 1;
        id->dev = sb.st_dev;
        id->ino = sb.st_ino;
        return 0;
    }
    if (errno != ENOENT) return -1;
    const char *slash = strrchr(path, '/');
    id->base = slash ? slash + 1 : path;
    char *dir = gf_path_parent(path);
    if (!dir) return -1;
    int r = stat(dir, &sb);
    free(dir);
    if (r != 0) return 0; /* no such directory: the writer will say so */
    id->pdev = sb.st_dev;
    id->pino = sb.st_ino;
    return 0;
}

static int same_file(const path_id *a, const path_id *b)
{
    if (a->exists || b->exists) return a->exists && b->exists && a->dev == b->dev && a->ino == b->ino;
    return a->base && b->base && (a->pdev || a->pino) && a->pdev == b->pdev && a->pino == b->pino && !strcmp(a->base, b->base);
}

static const char *out_path(const gf_path_role *o) { return o->path[0] == '?' ? o->path + 1 : o->path; }

gf_status gf_output_check_paths(gf_ctx *ctx, const char *const *inputs, int ninputs, const gf_path_role *outputs,
                                int noutputs, unsigned flags)
{
    gf_status st = GF_OK;
    path_id *ids = calloc((size_t)(noutputs > 0 ? noutputs : 1), sizeof *ids);
    if (!ids) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    for (int i = 0; i < noutputs && !st; i++) {
        const gf_path_role *o = &outputs[i];
        if (!o->path || !strcmp(o->path, "-")) continue;
        const char *p = out_path(o);
        if (strlen(p) + 16 > PATH_MAX) {
            st = gf_ctx_err(ctx, GF_ERR_ARG, "%s %.200s...: path too long (%zu bytes; the limit is %d)", o->what, p,
                            strlen(p), PATH_MAX - 16);
            break;
        }
        if (identify(p, &ids[i]) != 0) {
            st = gf_ctx_err(ctx, GF_ERR_IO, "%s %s: %s", o->what, p, strerror(errno));
            break;
        }
        if (ids[i].exists) {
            struct stat sb;
            if (stat(p, &sb) == 0 && S_ISDIR(sb.st_mode)) {
                st = gf_ctx_err(ctx, GF_ERR_ARG, "%s %s is a directory; name a file", o->what, p);
                break;
            }
        }
        for (int k = 0; k < ninputs && !st; k++) {
            if (!inputs[k] || !strcmp(inputs[k], "-")) continue;
            path_id in;
            if (identify(inputs[k], &in) != 0 || !in.exists) continue; /* the reader reports it */
            if (same_file(&ids[i], &in))
                st = gf_ctx_err(ctx, GF_ERR_ARG, "%s %s is the input %s: refusing to overwrite an input", o->what, p,
                                inputs[k]);
        }
        for (int k = 0; k < i && !st; k++) {
            if (!outputs[k].path || !strcmp(outputs[k].path, "-")) continue;
            if (same_file(&ids[i], &ids[k]))
                st = gf_ctx_err(ctx, GF_ERR_ARG, "%s %s and %s %s are the same file: give each output its own path",
                                outputs[k].what, out_path(&outputs[k]), o->what, p);
        }
        /* --append: outputs[0] grows, and an output written only if needed
         * (the default rejects file) holds this run's rows, as the output's
         * own rejects layer does */
        if (!st && ids[i].exists && !(flags & GF_CHECK_OVERWRITE) &&
            !((flags & GF_CHECK_APPEND) && (i == 0 || o->path[0] == '?')))
            st = gf_ctx_err(ctx, GF_ERR_ARG, "%s %s exists; give --overwrite to replace it%s", o->what, p,
                            i == 0 ? " (or --append where the format can)" : "");
    }
    free(ids);
    return st;
}

/* ---- number formatting ---------------------------------------------------- */

/* "00" to "99": two digits a division, half the divisions of a digit
 * loop (number formatting is most of the NDJSON writer's work). */
static const char digits2[201] = "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
                                 "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
                                 "8081828384858687888990919293949596979899";

/* The last w digits of u, zero-padded, into out[0..w). */
static void put_digits(uint64_t u, int w, char *out)
{
    while (w >= 2) {
        unsigned d = (unsigned)(u % 100) * 2;
        u /= 100;
        out[--w] = digits2[d + 1];
        out[--w] = digits2[d];
    }
    if (w) out[0] = (char)('0' + u % 10);
}

/* Decimal digits of u into out (no terminator); returns their count. */
static int fmt_u64(uint64_t u, char *out)
{
    int k = 1;
    for (uint64_t t = u; t >= 10; t /= 10) k++;
    put_digits(u, k, out);
    return k;
}

int gf_fmt_scalar(gf_type t, const gf_col *c, size_t r, char *out)
{
    switch (t) {
    case GF_T_INT: {
        /* Hand-written: snprintf("%lld") parsed its format for every
         * integer of every row, the costliest call of the NDJSON writer.
         * The same digits (INT64_MIN too: its magnitude fits a uint64_t). */
        int64_t v = c->v.i[r];
        uint64_t u = (uint64_t)v;
        int n = 0;
        if (v < 0) {
            out[n++] = '-';
            u = 0 - u;
        }
        n += fmt_u64(u, out + n);
        out[n] = 0;
        return n;
    }
    case GF_T_REAL: {
        double a = fabs(c->v.d[r]);
        int dec = 15;
        for (double p = 1; p <= a && dec > 0; p *= 10) dec--;
        return gf_fmt_fixed(c->v.d[r], dec > 10 ? 10 : dec, out);
    }
    case GF_T_BOOL:
        memcpy(out, c->v.i[r] ? "true" : "false", c->v.i[r] ? 5 : 6);
        return c->v.i[r] ? 4 : 5;
    default:
        return -1;
    }
}

/* Hand-written because printf("%.*f") dominates GeoJSON encoding time; the
 * result is the same digits for |v| * 10^prec < 2^63, else it falls back. */
int gf_fmt_fixed(double v, int prec, char *out)
{
    static const double p10[] = {1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12};
    static const uint64_t u10[] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000,
                                   1000000000, 10000000000u, 100000000000u, 1000000000000u};
    if (prec < 0) prec = 0;
    if (prec > 12) prec = 12;
    if (!isfinite(v)) return snprintf(out, 32, "null");
    double sc = fabs(v) * p10[prec];
    if (sc >= 9.0e15) return snprintf(out, 32, "%.17g", v); /* huge: exponent form, still valid JSON */
    /* llround(sc) without the libm call: below 2^53 the integer part and
     * the fraction sc - u are exact, and a fraction of one half rounds
     * away from zero, as llround does */
    uint64_t u = (uint64_t)sc;
    if (sc - (double)u >= 0.5) u++;
    uint64_t ip = u / u10[prec], fp = u % u10[prec];
    int n = 0;
    if (v < 0 && u != 0) out[n++] = '-';
    n += fmt_u64(ip, out + n);
    if (prec > 0 && fp) {
        int fl = prec; /* trailing zeros trimmed first: fewer digits to write */
        while (fp % 10 == 0) {
            fp /= 10;
            fl--;
        }
        out[n++] = '.';
        put_digits(fp, fl, out + n);
        n += fl;
    }
    out[n] = 0;
    return n;
}
