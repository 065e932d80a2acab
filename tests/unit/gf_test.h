/* Minimal test harness: CHECK records a failure with its line and goes on;
 * GF_TEST_END returns the process status. */
#ifndef GF_TEST_H
#define GF_TEST_H
#include <stdio.h>
#include <string.h>

static int gf_test_failures;
static int gf_test_checks;

#define CHECK(cond) do { gf_test_checks++; if (!(cond)) { gf_test_failures++; \
    fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); } } while (0)
#define CHECK_STR(a, b) do { const char *a_ = (a), *b_ = (b); gf_test_checks++; \
    if (!a_ || !b_ || strcmp(a_, b_)) { gf_test_failures++; \
    fprintf(stderr, "%s:%d: \"%s\" != \"%s\"\n", __FILE__, __LINE__, a_ ? a_ : "(null)", b_ ? b_ : "(null)"); } } while (0)
#define CHECK_NEAR(a, b, tol) do { double a_ = (a), b_ = (b); gf_test_checks++; \
    if (!(a_ - b_ <= (tol) && b_ - a_ <= (tol))) { gf_test_failures++; \
    fprintf(stderr, "%s:%d: %.10g != %.10g (tol %g)\n", __FILE__, __LINE__, a_, b_, (double)(tol)); } } while (0)
#define GF_TEST_END() do { fprintf(stderr, "%d checks, %d failed\n", gf_test_checks, gf_test_failures); \
    return gf_test_failures ? 1 : 0; } while (0)
#endif
