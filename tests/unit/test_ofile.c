/* Sequential outputs (write/ofile.c): the bytes land in order whatever the
 * writer's buffer size (the default 4 MB ones, and the small ones the
 * rejects take), across buffer boundaries and through the writer thread;
 * nothing is under the final name before publish, and discard leaves
 * nothing at all. */
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "geoflux/ctx.h"
#include "write/ofile.h"
#include "gf_test.h"

static int exists(const char *p)
{
    struct stat sb;
    return stat(p, &sb) == 0;
}

/* n bytes written in pieces of uneven sizes (1 byte up to twice the
 * buffer), then read back and compared. */
static void one_size(size_t cap, size_t n)
{
    char path[64];
    snprintf(path, sizeof path, "/tmp/gf-test-ofile-%ld.txt", (long)getpid());
    unlink(path);
    uint8_t *want = malloc(n), *got = malloc(n + 1);
    CHECK(want && got);
    if (!want || !got) { free(want); free(got); return; }
    for (size_t i = 0; i < n; i++) want[i] = (uint8_t)((i * 2654435761u) >> 13);
    gf_ctx *ctx = NULL;
    gf_ctx_create(&ctx);
    gf_ofile f;
    CHECK(gf_ofile_open_cap(ctx, path, cap, &f) == GF_OK);
    size_t off = 0, step = 1;
    int ok = 1;
    while (off < n) {
        size_t k = step < n - off ? step : n - off;
        ok &= gf_ofile_write(ctx, &f, want + off, k) == GF_OK;
        off += k;
        step = (step * 7 + 13) % (2 * cap + 1) + 1;
    }
    CHECK(ok);
    CHECK(gf_ofile_close(ctx, &f) == GF_OK);
    CHECK(!exists(path)); /* closed, not yet published */
    CHECK(gf_ofile_publish(ctx, &f) == GF_OK);
    FILE *in = fopen(path, "rb");
    CHECK(in != NULL);
    if (in) {
        CHECK(fread(got, 1, n + 1, in) == n);
        CHECK(memcmp(got, want, n) == 0);
        fclose(in);
    }
    unlink(path);

    /* discarded: no final file, and the temporary is gone too */
    CHECK(gf_ofile_open_cap(ctx, path, cap, &f) == GF_OK);
    CHECK(gf_ofile_write(ctx, &f, want, n < 100 ? n : 100) == GF_OK);
    char *tmp = f.a.tmp ? strdup(f.a.tmp) : NULL;
    gf_ofile_discard(&f);
    CHECK(!exists(path));
    CHECK(tmp && !exists(tmp));
    free(tmp);
    gf_ctx_destroy(ctx);
    free(want);
    free(got);
}

int main(void)
{
    one_size(4096, 100000);                /* many small buffers (O_DIRECT-sized) */
    one_size((size_t)256 << 10, 1000003);  /* the rejects' buffers, an odd length */
    one_size(GF_OFILE_BUF, 9000001);       /* the default: past two buffers */
    one_size(4096, 0);                     /* empty */
    GF_TEST_END();
}
