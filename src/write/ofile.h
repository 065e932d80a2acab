/* Output files written behind the pipeline's back.
 *
 * gf_awriter: buffers filled by the committing thread are written in FIFO
 * order by a writer thread, so commit() never waits on the kernel; runs
 * that are 4 KiB aligned in offset and length go through an O_DIRECT
 * descriptor when the file system takes it. Why: on the bench box the copy
 * of 300-600 MB into the page cache cost 0.1-0.9 s of system time per run,
 * depending on how many dirty pages the kernel already held, on the
 * pipeline's serial path; with O_DIRECT it is a DMA from our buffer.
 * Used by the GeoPackage page writer (sqlbt.c) and by gf_ofile.
 *
 * gf_ofile: a sequential output (GeoJSON, NDJSON, CSV, BAL, rejects): "-"
 * is standard output (stdio, no writer thread); anything else is a
 * gf_atomic, written under its temporary name, closed at gf_ofile_close()
 * and renamed at gf_ofile_publish() (the two phases of write.h). */
#ifndef GF_WRITE_OFILE_H
#define GF_WRITE_OFILE_H

#include <stdint.h>
#include <stdio.h>

#include "geoflux/write.h"

/* Writes (wr = 1) or reads exactly n bytes at offset off of fd, going on
 * after short transfers and EINTR. Returns 0, or the errno of the failure
 * (EIO for a file that ends early). */
int gf_pio(int fd, int wr, void *p, size_t n, uint64_t off);

typedef struct gf_awriter gf_awriter;

/* Starts a writer for fd (buffered, borrowed: the caller closes it after
 * gf_awriter_close()), with buffers of cap bytes; path opens the O_DIRECT
 * descriptor (cap must be a multiple of 4096 for it to be used). */
gf_status gf_awriter_open(gf_ctx *ctx, const char *path, int fd, size_t cap, gf_awriter **out);
/* The buffer being filled (cap bytes), or a free one once the writer has
 * written it; NULL after a write error (message in ctx). */
uint8_t *gf_awriter_buf(gf_awriter *w, gf_ctx *ctx, const char *path);
/* Queues the buffer being filled: len bytes at file offset off. */
void gf_awriter_put(gf_awriter *w, uint64_t off, size_t len);
/* Waits for every queued buffer, stops the thread, frees w; returns the
 * errno of the first failed write, or 0. gf_awriter_close(NULL) is 0. */
int gf_awriter_close(gf_awriter *w);
size_t gf_awriter_cap(const gf_awriter *w);

typedef struct gf_ofile {
    gf_atomic a;    /* the temporary file (a.path: the user's path) */
    int opened;     /* a zeroed gf_ofile is closed */
    FILE *std;      /* standard output or a caller's stream, or NULL */
    const char *stdname; /* its name in messages */
    gf_awriter *w;
    uint8_t *cur;   /* buffer being filled */
    size_t len;     /* bytes in it */
    size_t cap;     /* its size: GF_OFILE_BUF, or gf_ofile_open_cap()'s */
    uint64_t off;   /* file offset of cur */
} gf_ofile;

/* The writer's buffer size of an output (four of them, touched page by
 * page as the output grows). 1 MB: with 4 MB, how many of the 16 MB a run
 * touched followed how far the disk lagged, so the same NDJSON job peaked
 * at 65 to 75 MB from run to run; with 1 MB it peaks at 63 MB at 1M and 5M
 * rows, and the writes (O_DIRECT, 1 MB each) took the same time on the
 * 5M-row extract (three runs each way, 6.4-7.6 s, the disk bound). */
#define GF_OFILE_BUF ((size_t)1 << 20)

/* Opens path for writing ("-": standard output). GF_ERR_IO with the path. */
gf_status gf_ofile_open(gf_ctx *ctx, const char *path, gf_ofile *o);
/* The same with buffers of cap bytes (a multiple of 4096), for an output
 * that stays small, such as the rejects: four GF_OFILE_BUF buffers would
 * take up to 4 MB of memory for it, a little more with every row it gets. */
gf_status gf_ofile_open_cap(gf_ctx *ctx, const char *path, size_t cap, gf_ofile *o);
/* Writes into an open stream (borrowed: flushed by gf_ofile_close(), never
 * closed; nothing to publish), as for standard output; name is for messages. */
void gf_ofile_open_stream(gf_ofile *o, FILE *f, const char *name);
/* Appends n bytes (copied). */
gf_status gf_ofile_write(gf_ctx *ctx, gf_ofile *o, const void *p, size_t n);
/* Phase 1: writes what is left and closes the file, still under its
 * temporary name (standard output: flushes). */
gf_status gf_ofile_close(gf_ctx *ctx, gf_ofile *o);
/* Phase 2: renames the closed file to its final name. */
gf_status gf_ofile_publish(gf_ctx *ctx, gf_ofile *o);
/* Removes the temporary file, open or closed (nothing once published), and
 * frees what gf_ofile_open() allocated. */
void gf_ofile_discard(gf_ofile *o);

#endif
