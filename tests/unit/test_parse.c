/* Value parsers and number formatting. */
#include <math.h>
#include <stdlib.h>

#include "geoflux/write.h"
#include "gf_test.h"
#include "ingest/parse.h"

static int pd(const char *s, double *v) { return gf_parse_double(s, strlen(s), 1, v); }

int main(void)
{
    int64_t i;
    double d;
    int b;
    char iso[11];
    CHECK(gf_parse_int("42", 2, &i) && i == 42);
    CHECK(gf_parse_int("-7", 2, &i) && i == -7);
    CHECK(!gf_parse_int("12a", 3, &i));
    CHECK(!gf_parse_int("", 0, &i));
    CHECK(!gf_parse_int("-", 1, &i));
    CHECK(!gf_parse_int("163,0000000000", 14, &i));

    CHECK(pd("6780392.5", &d) && d == 6780392.5);
    CHECK(pd("-1.7454643349932766", &d) && d == strtod("-1.7454643349932766", NULL));
    CHECK(pd("48.02828204392352", &d) && d == strtod("48.02828204392352", NULL));
    CHECK(pd("1,5", &d) && d == 1.5);
    CHECK(!gf_parse_double("1,5", 3, 0, &d));
    CHECK(pd("1e3", &d) && d == 1000);
    CHECK(pd("0.1", &d) && d == 0.1);
    CHECK(pd(".5", &d) && d == 0.5);
    CHECK(!pd("abc", &d));
    CHECK(!pd("1.2.3", &d));
    CHECK(!pd("", &d));
    CHECK(!pd("-", &d));
    /* exhaustive-ish: the fast path agrees with strtod */
    srand(1);
    for (int k = 0; k < 100000; k++) {
        char buf[40];
        double v = ((double)rand() / RAND_MAX - 0.5) * pow(10, rand() % 9);
        int prec = rand() % 16;
        snprintf(buf, sizeof buf, "%.*f", prec, v);
        double got;
        if (!pd(buf, &got) || got != strtod(buf, NULL)) {
            CHECK(!"fast path differs from strtod");
            fprintf(stderr, "  %s\n", buf);
            break;
        }
    }

    CHECK(gf_parse_bool("1", 1, &b) && b == 1);
    CHECK(gf_parse_bool("FALSE", 5, &b) && b == 0);
    CHECK(!gf_parse_bool("2", 1, &b));

    CHECK(gf_parse_date("2023-11-15", 10, iso) && !strcmp(iso, "2023-11-15"));
    CHECK(gf_parse_date("15/11/2023", 10, iso) && !strcmp(iso, "2023-11-15"));
    CHECK(gf_parse_date("2013.01.26", 10, iso) && !strcmp(iso, "2013-01-26"));
    CHECK(gf_parse_date("2023-11-15 10:20", 16, iso) && !strcmp(iso, "2023-11-15"));
    CHECK(!gf_parse_date("2023-02-30", 10, iso));
    CHECK(!gf_parse_date("2023-13-01", 10, iso));
    CHECK(!gf_parse_date("hier", 4, iso));

    char out[40];
    gf_fmt_fixed(1.0283920, 7, out);
    CHECK_STR(out, "1.028392");
    gf_fmt_fixed(-0.5, 7, out);
    CHECK_STR(out, "-0.5");
    gf_fmt_fixed(6225601.11, 2, out);
    CHECK_STR(out, "6225601.11");
    gf_fmt_fixed(-0.00000001, 7, out);
    CHECK_STR(out, "0");
    gf_fmt_fixed(12.0, 3, out);
    CHECK_STR(out, "12");
    gf_fmt_fixed(1e300, 2, out);
    CHECK(strtod(out, NULL) == 1e300);
    gf_fmt_fixed(NAN, 2, out);
    CHECK_STR(out, "null");
    /* the hand-written integer and rounding paths against libc: integers as
     * printf("%lld") writes them, and the rounding of llround() (halves away
     * from zero, 0.49999999999999994 down) at every precision */
    static const int64_t ints[] = {0, 1, -1, 9, 10, -10, 31555, INT64_MAX, INT64_MIN, INT64_MIN + 1};
    gf_col col = {0};
    int64_t iv[1];
    col.v.i = iv;
    char want[64];
    for (size_t k = 0; k < sizeof ints / sizeof ints[0] + 2000; k++) {
        iv[0] = k < sizeof ints / sizeof ints[0] ? ints[k] : (int64_t)(((uint64_t)rand() << 40) ^ ((uint64_t)rand() << 20) ^ (uint64_t)rand()) >> (k % 60);
        int n = gf_fmt_scalar(GF_T_INT, &col, 0, out);
        snprintf(want, sizeof want, "%lld", (long long)iv[0]);
        CHECK(n == (int)strlen(want) && !strcmp(out, want));
    }
    static const double halves[] = {0.5, 1.5, 2.5, -0.5, -2.5, 0.49999999999999994, 4503599627370495.5, 0.0, 1234.5};
    for (size_t k = 0; k < sizeof halves / sizeof halves[0] + 20000; k++) {
        int prec = k < sizeof halves / sizeof halves[0] ? 0 : (int)(k % 13);
        double v = k < sizeof halves / sizeof halves[0] ? halves[k] : ((double)rand() / RAND_MAX - 0.5) * pow(10, (double)(k % 9));
        if (k % 7 == 0 && prec) v = floor(v * pow(10, prec)) / pow(10, prec) + 0.5 / pow(10, prec); /* near a half */
        double sc = fabs(v) * pow(10, prec);
        if (sc >= 9.0e15) continue;
        long long u = llround(sc);
        long long p10 = 1;
        for (int e = 0; e < prec; e++) p10 *= 10;
        int w = snprintf(want, sizeof want, "%s%lld", v < 0 && u ? "-" : "", u / p10);
        if (prec && u % p10) {
            w += snprintf(want + w, sizeof want - (size_t)w, ".%0*lld", prec, u % p10);
            while (want[w - 1] == '0') want[--w] = 0;
        }
        gf_fmt_fixed(v, prec, out);
        CHECK_STR(out, want);
    }
    GF_TEST_END();
}
