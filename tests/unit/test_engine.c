/* Jobs on an engine (include/geoflux/job.h, engine.h):
 *  - two convert jobs running at the same time in one process, on one
 *    engine, give the bytes of two separate `geoflux convert` runs (the
 *    CLI of this build, ./geoflux, run first as the reference);
 *  - jobs one after the other on one engine: each worker's start hook ran
 *    once, the PROJ transformations a run made stay in the worker's cache
 *    and the next run reuses them instead of making new ones;
 *  - a job cancelled from another thread in the middle of its run returns
 *    GF_ERR_CANCELLED and leaves no output, neither under its final name
 *    nor as a temporary; one cancelled before its run does not start;
 *  - the options a job refuses on their own;
 *  - the geocode job gives the bytes of `geoflux geocode`.
 * usage: test_engine SRCDIR (run from the build folder, where ./geoflux is) */
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "geoflux/engine.h"
#include "geoflux/job.h"
#include "gf_test.h"

static const char *SRC;
static char OUT[512];

static int same_file(const char *a, const char *b)
{
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    int same = fa && fb;
    while (same) {
        int ca = fgetc(fa), cb = fgetc(fb);
        if (ca != cb) same = 0;
        if (ca == EOF || cb == EOF) break;
    }
    if (fa) fclose(fa);
    if (fb) fclose(fb);
    return same;
}

static int exists(const char *p)
{
    struct stat sb;
    return stat(p, &sb) == 0;
}

/* Runs ./geoflux with argv (NULL-terminated); its exit status. */
static int run_cli(char *const argv[])
{
    pid_t pid = fork();
    if (pid == 0) {
        if (!freopen("/dev/null", "w", stderr)) _exit(126);
        execv("./geoflux", argv);
        _exit(127);
    }
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) < 0) return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

typedef struct jobrun {
    gf_engine *e;
    gf_convert_opts o;
    const char *in[1];
    gf_status st;
    gf_run_stats s;
    char err[512];
} jobrun;

static void *run_job(void *arg)
{
    jobrun *r = arg;
    gf_ctx *ctx = NULL;
    gf_job *j = NULL;
    if (gf_ctx_create(&ctx)) { r->st = GF_ERR_NOMEM; return NULL; }
    r->st = gf_job_convert(ctx, &r->o, &j);
    if (r->st == GF_OK) r->st = gf_job_run(j, r->e, &r->s);
    snprintf(r->err, sizeof r->err, "%s", gf_ctx_errmsg(ctx));
    gf_job_destroy(j);
    gf_ctx_destroy(ctx);
    return NULL;
}

static void path(char *buf, size_t n, const char *name) { snprintf(buf, n, "%s/%s", OUT, name); }

/* ---- hooks: each worker's start and stop, and its context ---- */
typedef struct hookstate {
    pthread_mutex_t mu;
    int started, stopped;
    gf_ctx *wctx[8];
} hookstate;

static gf_status on_start(void *user, int w, gf_ctx *wctx)
{
    hookstate *h = user;
    pthread_mutex_lock(&h->mu);
    h->started++;
    if (w >= 0 && w < 8) h->wctx[w] = wctx;
    pthread_mutex_unlock(&h->mu);
    return GF_OK;
}

static void on_stop(void *user, int w, gf_ctx *wctx)
{
    hookstate *h = user;
    pthread_mutex_lock(&h->mu);
    h->stopped++;
    pthread_mutex_unlock(&h->mu);
    (void)w;
    (void)wctx;
}

static int cached(const hookstate *h, int n)
{
    int k = 0;
    for (int i = 0; i < n; i++) k += gf_ctx_cache_count(h->wctx[i]);
    return k;
}

static void test_concurrent(void)
{
    char ref_a[600], ref_b[600], ref_c[600], out_a[600], out_b[600], out_c[600], stats_a[600], stats_ra[600];
    char bal[600], ban[600], b35[600], b54[600];
    snprintf(bal, sizeof bal, "%s/data/samples/bal/bal_35047_v1.3.csv", SRC);
    snprintf(ban, sizeof ban, "%s/data/samples/ban/adresses-54.csv.gz", SRC);
    snprintf(b35, sizeof b35, "%s/data/samples/boundaries/communes-35-ille-et-vilaine.geojson", SRC);
    snprintf(b54, sizeof b54, "%s/data/samples/boundaries/communes-54-meurthe-et-moselle.geojson", SRC);
    path(ref_a, sizeof ref_a, "ref_a.gpkg");
    path(ref_b, sizeof ref_b, "ref_b.pmtiles");
    path(ref_c, sizeof ref_c, "ref_c.geojson");
    path(stats_ra, sizeof stats_ra, "ref_a_stats.csv");
    path(out_a, sizeof out_a, "a.gpkg");
    path(out_b, sizeof out_b, "b.pmtiles");
    path(out_c, sizeof out_c, "c.geojson");
    path(stats_a, sizeof stats_a, "a_stats.csv");

    /* the reference: separate CLI runs */
    char *cli_a[] = {"geoflux", "convert", bal, "-o", ref_a, "--communes", b35, "--stats", stats_ra, "-j", "2", "-q", NULL};
    char *cli_b[] = {"geoflux", "convert", ban, "-o", ref_b, "--communes", b54, "-j", "2", "-q", NULL};
    char *cli_c[] = {"geoflux", "convert", bal, "-o", ref_c, "--t-srs", "EPSG:2154", "-j", "2", "-q", NULL};
    CHECK(run_cli(cli_a) == 0);
    CHECK(run_cli(cli_b) == 0);
    CHECK(run_cli(cli_c) == 0);

    hookstate h = {.mu = PTHREAD_MUTEX_INITIALIZER};
    gf_ctx *ctx = NULL;
    gf_engine *e = NULL;
    CHECK(gf_ctx_create(&ctx) == GF_OK);
    gf_engine_opts eo = {.threads = 3, .worker_start = on_start, .worker_stop = on_stop, .hook_user = &h};
    CHECK(gf_engine_create(ctx, &eo, &e) == GF_OK);
    CHECK(gf_engine_threads(e) == 3);
    CHECK(h.started == 3);

    jobrun ra = {.e = e, .o = GF_CONVERT_OPTS_INIT}, rb = {.e = e, .o = GF_CONVERT_OPTS_INIT},
           rc = {.e = e, .o = GF_CONVERT_OPTS_INIT};
    ra.in[0] = bal;
    ra.o.inputs = ra.in;
    ra.o.ninputs = 1;
    ra.o.output = out_a;
    ra.o.join.path = b35;
    ra.o.join.stats_path = stats_a;
    ra.o.threads = 2;
    rb.in[0] = ban;
    rb.o.inputs = rb.in;
    rb.o.ninputs = 1;
    rb.o.output = out_b;
    rb.o.join.path = b54;
    rb.o.threads = 2;
    rc.in[0] = bal;
    rc.o.inputs = rc.in;
    rc.o.ninputs = 1;
    rc.o.output = out_c;
    rc.o.t_srs = "EPSG:2154";
    rc.o.threads = 2;
    pthread_t ta, tb, tc;
    CHECK(pthread_create(&ta, NULL, run_job, &ra) == 0);
    CHECK(pthread_create(&tb, NULL, run_job, &rb) == 0);
    CHECK(pthread_create(&tc, NULL, run_job, &rc) == 0);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    pthread_join(tc, NULL);
    if (ra.st || rb.st || rc.st) fprintf(stderr, "a: %s\nb: %s\nc: %s\n", ra.err, rb.err, rc.err);
    CHECK(ra.st == GF_OK && rb.st == GF_OK && rc.st == GF_OK);
    CHECK(ra.s.read == 5843 && ra.s.read == ra.s.written + ra.s.rejected);
    CHECK(same_file(ref_a, out_a));
    CHECK(same_file(stats_ra, stats_a));
    CHECK(same_file(ref_b, out_b));
    CHECK(same_file(ref_c, out_c));

    /* one after the other on the same workers: no new start hook */
    unlink(out_c);
    rc.st = GF_ERR_INTERNAL;
    run_job(&rc);
    CHECK(rc.st == GF_OK);
    CHECK(same_file(ref_c, out_c));
    CHECK(h.started == 3 && h.stopped == 0);
    gf_engine_destroy(e);
    CHECK(h.stopped == 3);

    /* one worker: the transformations to EPSG:2154 the first run made are
     * in the worker's own context after it, and the second run adds none */
    hookstate h1 = {.mu = PTHREAD_MUTEX_INITIALIZER};
    gf_engine_opts e1 = {.threads = 1, .worker_start = on_start, .worker_stop = on_stop, .hook_user = &h1};
    CHECK(gf_engine_create(ctx, &e1, &e) == GF_OK);
    rc.e = e;
    unlink(out_c);
    run_job(&rc);
    CHECK(rc.st == GF_OK);
    int before = cached(&h1, 1);
    CHECK(before > 0);
    unlink(out_c);
    run_job(&rc);
    CHECK(rc.st == GF_OK);
    CHECK(same_file(ref_c, out_c));
    CHECK(cached(&h1, 1) == before);
    CHECK(h1.started == 1);
    gf_engine_destroy(e);
    CHECK(h1.stopped == 1);
    gf_ctx_destroy(ctx);
}

/* ---- cancellation ---- */
typedef struct canceller {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    gf_job *job;
    int asked, done, batches;
} canceller;

static void *cancel_main(void *arg)
{
    canceller *c = arg;
    pthread_mutex_lock(&c->mu);
    while (!c->asked) pthread_cond_wait(&c->cv, &c->mu);
    pthread_mutex_unlock(&c->mu);
    gf_job_cancel(c->job); /* from another thread than the run's */
    pthread_mutex_lock(&c->mu);
    c->done = 1;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

/* After the first committed batch: have the other thread cancel, and wait
 * until it has, so the cancellation lands in the middle of the run. */
static void on_progress(void *user, const gf_job_progress *p)
{
    canceller *c = user;
    (void)p;
    pthread_mutex_lock(&c->mu);
    if (c->batches++ == 0) {
        c->asked = 1;
        pthread_cond_broadcast(&c->cv);
        while (!c->done) pthread_cond_wait(&c->cv, &c->mu);
    }
    pthread_mutex_unlock(&c->mu);
}

static int dir_entries(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *de; d && (de = readdir(d));)
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) n++;
    if (d) closedir(d);
    return n;
}

static void test_cancel(const char *name, gf_engine *e)
{
    char dir[600], big[700], out[700], stats[700], b35[600], bal[600];
    snprintf(dir, sizeof dir, "%s/cancel-%s", OUT, name);
    mkdir(dir, 0755);
    snprintf(bal, sizeof bal, "%s/data/samples/bal/bal_35047_v1.3.csv", SRC);
    snprintf(b35, sizeof b35, "%s/data/samples/boundaries/communes-35-ille-et-vilaine.geojson", SRC);
    /* about 58k rows: many batches */
    snprintf(big, sizeof big, "%s/big.csv", dir);
    FILE *in = fopen(bal, "r"), *f = fopen(big, "w");
    CHECK(in && f);
    if (!in || !f) return;
    char line[4096];
    char *hdr = fgets(line, sizeof line, in) ? strdup(line) : NULL;
    fputs(hdr ? hdr : "", f);
    long body = ftell(in);
    for (int k = 0; k < 10; k++) {
        fseek(in, body, SEEK_SET);
        while (fgets(line, sizeof line, in)) fputs(line, f);
    }
    free(hdr);
    fclose(in);
    fclose(f);
    snprintf(out, sizeof out, "%s/out.%s", dir, name);
    snprintf(stats, sizeof stats, "%s/stats.csv", dir);

    gf_ctx *ctx = NULL;
    CHECK(gf_ctx_create(&ctx) == GF_OK);
    canceller c = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
    const char *inputs[1] = {big};
    gf_convert_opts o = GF_CONVERT_OPTS_INIT;
    o.inputs = inputs;
    o.ninputs = 1;
    o.output = out;
    o.join.path = b35;
    o.join.stats_path = stats;
    o.keep_invalid = 0; /* rejects too: the rejects file must not stay either */
    o.threads = 2;
    o.progress = on_progress;
    o.progress_user = &c;
    gf_job *j = NULL;
    CHECK(gf_job_convert(ctx, &o, &j) == GF_OK);
    c.job = j;
    pthread_t t;
    CHECK(pthread_create(&t, NULL, cancel_main, &c) == 0);
    gf_run_stats s;
    gf_status st = gf_job_run(j, e, &s);
    pthread_join(t, NULL);
    CHECK(st == GF_ERR_CANCELLED);
    CHECK(gf_status_class_of(st) == GF_CLASS_CANCELLED);
    CHECK(c.batches >= 1 && s.read < 58430); /* stopped in the middle */
    CHECK(!exists(out));
    CHECK(!exists(stats));
    CHECK(dir_entries(dir) == 1); /* big.csv alone: no temporary left */
    gf_job_destroy(j);

    /* cancelled before its run: nothing starts */
    CHECK(gf_job_convert(ctx, &o, &j) == GF_OK);
    gf_job_cancel(j);
    c = (canceller){.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER, .done = 1};
    CHECK(gf_job_run(j, e, &s) == GF_ERR_CANCELLED);
    CHECK(s.written == 0 && c.batches == 0);
    CHECK(gf_job_run(j, e, &s) == GF_ERR_ARG); /* a job runs once */
    CHECK(dir_entries(dir) == 1);
    gf_job_destroy(j);
    gf_ctx_destroy(ctx);
}

/* The geocode job built by the library gives the bytes of `geoflux
 * geocode` for the same options, on an engine, and counts its rows. */
static void test_geocode_job(gf_engine *e)
{
    char bal[600], eq[600], ref[600], out[600];
    snprintf(bal, sizeof bal, "%s/data/samples/bal/bal_35047_v1.3.csv", SRC);
    snprintf(eq, sizeof eq, "%s/data/samples/equipements/equipements-35047.csv", SRC);
    snprintf(ref, sizeof ref, "%s/geocode-cli.csv", OUT);
    snprintf(out, sizeof out, "%s/geocode-job.csv", OUT);
    char *argv[] = {"geoflux", "geocode", "--addresses", bal, eq, "-o", ref, "-q", NULL};
    CHECK(run_cli(argv) == 0);
    gf_ctx *ctx = NULL;
    CHECK(gf_ctx_create(&ctx) == GF_OK);
    const char *addrs[1] = {bal};
    gf_geocode_job_opts o = {.input = eq, .addresses = addrs, .naddresses = 1, .output = out};
    gf_job *j = NULL;
    gf_run_stats s;
    CHECK(gf_job_geocode(ctx, &o, &j) == GF_OK);
    CHECK(j && gf_job_run(j, e, &s) == GF_OK);
    gf_geocode_info gi;
    gf_job_geocode_info(j, &gi);
    CHECK(gi.index_built && gi.index.addresses > 1000 && s.read > 0 && s.read == s.written + s.rejected);
    CHECK(gi.counts.ok > 0 && gi.counts.ok + gi.counts.not_found + gi.counts.skipped + gi.counts.error == s.written);
    gf_job_destroy(j);
    CHECK(same_file(ref, out));
    /* what the job refuses on its own */
    o.reverse = 1;
    o.far_m = 50;
    CHECK(gf_job_geocode(ctx, &o, &j) == GF_ERR_ARG && j == NULL);
    o.reverse = 0;
    o.index = "x.gcidx";
    CHECK(gf_geocode_job_check(ctx, &o) == GF_ERR_ARG);
    o.index = NULL;
    o.lat = "lat";
    CHECK(gf_geocode_job_check(ctx, &o) == GF_ERR_ARG);
    o.lon = "lon";
    CHECK(gf_geocode_job_check(ctx, &o) == GF_OK);
    gf_ctx_destroy(ctx);
}

static void test_refused(void)
{
    gf_ctx *ctx = NULL;
    CHECK(gf_ctx_create(&ctx) == GF_OK);
    const char *in[1] = {"x.csv"};
    gf_convert_opts o = GF_CONVERT_OPTS_INIT;
    CHECK(gf_convert_check(ctx, &o) == GF_ERR_ARG);
    CHECK_STR(gf_ctx_errmsg(ctx), "no input file");
    o.inputs = in;
    o.ninputs = 1;
    CHECK(gf_convert_check(ctx, &o) == GF_ERR_ARG);
    o.output = "x.geojson";
    CHECK(gf_convert_check(ctx, &o) == GF_OK);
    o.tiles_only = 1;
    CHECK(gf_convert_check(ctx, &o) == GF_ERR_ARG);
    o.output = "x.pmtiles";
    CHECK(gf_convert_check(ctx, &o) == GF_OK);
    o.minzoom = 9;
    o.maxzoom = 3;
    CHECK(gf_convert_check(ctx, &o) == GF_ERR_ARG);
    o.minzoom = o.maxzoom = -1;
    o.join.stats_path = "s.csv";
    CHECK(gf_convert_check(ctx, &o) == GF_ERR_ARG);
    o.join.stats_path = NULL;
    o.output = "x.geojson";
    o.tiles_only = 0;
    o.attributes = "numero";
    CHECK(gf_convert_check(ctx, &o) == GF_ERR_ARG);
    gf_job *j = (gf_job *)1;
    CHECK(gf_job_convert(ctx, &o, &j) == GF_ERR_ARG && j == NULL);
    gf_validate_job_opts vo = {.inputs = in, .ninputs = 1, .profile = "9.9"};
    CHECK(gf_validate_job_check(ctx, &vo) == GF_ERR_ARG);
    vo.profile = "1.4";
    CHECK(gf_validate_job_check(ctx, &vo) == GF_OK);
    gf_job_destroy(NULL);
    gf_job_cancel(NULL);
    gf_engine_destroy(NULL);
    gf_ctx_destroy(ctx);
}

int main(int argc, char **argv)
{
    SRC = argc > 1 ? argv[1] : "..";
    if (access("./geoflux", X_OK) != 0) {
        fprintf(stderr, "test_engine: ./geoflux not found (run from the build folder)\n");
        return 1;
    }
    setenv("SOURCE_DATE_EPOCH", "1700000000", 1);
    snprintf(OUT, sizeof OUT, "testout/unit_engine");
    mkdir("testout", 0755);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", OUT);
    if (system(cmd) != 0) return 1;
    mkdir(OUT, 0755);
    test_refused();
    test_concurrent();
    test_cancel("gpkg", NULL);
    gf_ctx *ctx = NULL;
    gf_engine *e = NULL;
    gf_ctx_create(&ctx);
    gf_engine_opts eo = {.threads = 2};
    CHECK(gf_engine_create(ctx, &eo, &e) == GF_OK);
    test_geocode_job(e);
    test_cancel("pmtiles", e);
    test_cancel("geojson", e);
    gf_engine_destroy(e);
    gf_ctx_destroy(ctx);
    GF_TEST_END();
}
