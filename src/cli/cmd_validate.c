/* geoflux validate: checks BAL files with the rules, codes and levels of the
 * reference validator (@ban-team/validateur-bal), streaming: options parsed
 * into a validate job (src/job/validate.c), each file's report printed. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "geoflux/job.h"

static void help(FILE *f)
{
    fprintf(f,
        "usage: geoflux validate FILE... [--profile 1.3|1.3-relax|1.4|1.5] [--format text|json]\n"
        "\n"
        "Checks BAL files (1.1-1.5) with the rules, error codes and levels of the reference\n"
        "validator (@ban-team/validateur-bal 3.5): file (encoding, delimiter, line breaks,\n"
        "columns), fields, rows and file-wide checks (BAN ids). Streaming: any size.\n"
        "\n"
        "      --profile P     1.3, 1.3-relax, 1.4, 1.5 (also 1.1-strict, 1.2-strict, 1.3-strict);\n"
        "                      default: from the header, as the reference does (1.5 with id_ban_*\n"
        "                      and toponyme, 1.4 with id_ban_*, else 1.3)\n"
        "      --format F      text (default) or json (one object per file and line:\n"
        "                      {\"profile\",\"valid\",\"rows\",\"invalid_rows\",\"errors\",\"warnings\",\"infos\"})\n"
        "      --encoding E    auto (default), utf-8 or latin1\n"
        "  -j, --threads N     threads for the row rules (default: all cores); the\n"
        "                      reports do not depend on it\n"
        "\n"
        "exit codes: 0 every file is valid, 1 a file has errors, 2 a file could not be read\n");
}

static void print_json(const char *path, int several, const gf_validate_report *r)
{
    printf("{");
    if (several) { printf("\"file\":"); gf_cli_json_str(stdout, path); printf(","); }
    printf("\"profile\":\"%s\",\"valid\":%s,\"rows\":%llu,\"invalid_rows\":[", r->profile, r->valid ? "true" : "false",
           (unsigned long long)r->rows);
    for (size_t i = 0; i < r->ninvalid; i++) printf("%s%llu", i ? "," : "", (unsigned long long)r->invalid_lines[i]);
    printf("]");
    static const char *const keys[3] = {"infos", "warnings", "errors"};
    for (int lv = GF_VL_ERROR; lv >= GF_VL_INFO; lv--) {
        printf(",\"%s\":{", keys[lv]);
        int first = 1;
        for (size_t i = 0; i < r->ncodes; i++) {
            if ((int)r->codes[i].level != lv) continue;
            printf("%s\"%s\":%llu", first ? "" : ",", r->codes[i].code,
                   (unsigned long long)(r->codes[i].rows ? r->codes[i].rows : 1));
            first = 0;
        }
        printf("}");
    }
    printf("}\n");
}

static void print_text(const char *path, const gf_validate_report *r)
{
    size_t ne = 0, nw = 0, ni = 0;
    for (size_t i = 0; i < r->ncodes; i++) {
        if (r->codes[i].level == GF_VL_ERROR) ne++;
        else if (r->codes[i].level == GF_VL_WARN) nw++;
        else ni++;
    }
    printf("%s: %s\n", path, r->valid ? "VALID" : "INVALID");
    printf("  profile %s, %llu rows, %zu invalid rows, encoding %s, delimiter '%s'\n", r->profile,
           (unsigned long long)r->rows, r->ninvalid, r->encoding,
           r->delimiter == '\t' ? "\\t" : (char[]){r->delimiter ? r->delimiter : '?', 0});
    if (!r->parse_ok) printf("  the CSV structure is broken: validation stopped (as the reference does)\n");
    if (r->unknown_fields[0]) printf("  ignored columns: %s\n", r->unknown_fields);
    static const char *const titles[3] = {"infos", "warnings", "errors"};
    for (int lv = GF_VL_ERROR; lv >= GF_VL_INFO; lv--) {
        size_t n = lv == GF_VL_ERROR ? ne : lv == GF_VL_WARN ? nw : ni;
        if (!n) continue;
        printf("  %s:\n", titles[lv]);
        for (size_t i = 0; i < r->ncodes; i++) {
            const gf_vcode_stat *s = &r->codes[i];
            if ((int)s->level != lv) continue;
            if (s->rows == 0) {
                printf("    %-52s file\n", s->code);
                continue;
            }
            printf("    %-52s %8llu row%s, line%s", s->code, (unsigned long long)s->rows, s->rows > 1 ? "s" : "",
                   s->nlines > 1 ? "s" : "");
            for (int k = 0; k < s->nlines; k++) printf("%s%llu", k ? "," : " ", (unsigned long long)s->lines[k]);
            if (s->rows > (uint64_t)s->nlines) printf(",...");
            printf("\n");
        }
    }
}

typedef struct vstate {
    int json, several, code;
} vstate;

static void on_file(void *user, int i, const char *path, gf_status st, const char *errmsg,
                    const gf_validate_report *r)
{
    (void)i;
    vstate *v = user;
    if (st) {
        size_t pl = strlen(path);
        if (!strncmp(errmsg, path, pl) && errmsg[pl] == ':') /* the message names the file already */
            fprintf(stderr, "geoflux: error: %s\n", errmsg);
        else
            fprintf(stderr, "geoflux: error: %s: %s\n", path, errmsg[0] ? errmsg : gf_status_str(st));
        if (v->json) {
            printf("{");
            if (v->several) { printf("\"file\":"); gf_cli_json_str(stdout, path); printf(","); }
            printf("\"error\":");
            gf_cli_json_str(stdout, errmsg);
            printf("}\n");
        }
        int e = gf_cli_exit_for(st);
        if (e > v->code) v->code = e;
        return;
    }
    if (v->json) print_json(path, v->several, r);
    else print_text(path, r);
    if (!r->valid && v->code == GF_EXIT_OK) v->code = GF_EXIT_INVALID;
}

int gf_cmd_validate(int argc, char **argv)
{
    enum { O_PROFILE = 256, O_FORMAT, O_ENC };
    static const struct option lo[] = {{"profile", required_argument, 0, O_PROFILE},
                                       {"format", required_argument, 0, O_FORMAT},
                                       {"encoding", required_argument, 0, O_ENC},
                                       {"threads", required_argument, 0, 'j'},
                                       {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    gf_validate_job_opts o = {0};
    vstate v = {0};
    gf_cli_getopt_init();
    int c;
    while ((c = getopt_long(argc, argv, GF_CLI_OPTSTART "hj:", lo, NULL)) != -1) {
        switch (c) {
        case 'h': help(stdout); return GF_EXIT_OK;
        case O_PROFILE: o.profile = optarg; break;
        case O_FORMAT:
            if (!strcmp(optarg, "json")) v.json = 1;
            else if (!strcmp(optarg, "text")) v.json = 0;
            else return gf_cli_usage("validate", "--format '%s': expected text or json", optarg);
            break;
        case 'j':
            if (gf_cli_int("-j/--threads", optarg, 1, GF_CLI_MAX_THREADS, &o.threads)) return GF_EXIT_USAGE;
            break;
        case O_ENC:
            if (gf_cli_encoding("validate", optarg, &o.csv.encoding)) return GF_EXIT_USAGE;
            break;
        default: return gf_cli_bad_option("validate", c, argv);
        }
    }
    o.inputs = (const char *const *)(argv + optind);
    o.ninputs = argc - optind;
    o.on_file = on_file;
    o.user = &v;
    v.several = o.ninputs > 1;
    gf_ctx *ctx = gf_cli_ctx(0);
    if (!ctx) return GF_EXIT_FAIL;
    if (gf_validate_job_check(ctx, &o) != GF_OK) { /* the options alone: a usage error */
        int code = gf_cli_usage("validate", "%s", gf_ctx_errmsg(ctx));
        gf_ctx_destroy(ctx);
        return code;
    }
    gf_status st = gf_job_validate(ctx, &o);
    fflush(stdout);
    if (st) v.code = gf_cli_fail(ctx, st);
    gf_ctx_destroy(ctx);
    return v.code;
}
