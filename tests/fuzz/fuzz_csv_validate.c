/* Fuzz target: arbitrary bytes through `convert`'s stages on a batch:
 * CSV reader -> BAL validation -> typing -> reprojection (issue 12). Rows
 * with errors are rejected (the default) on one input in two, kept as
 * --keep-invalid does on the other, so typing and reprojection also see the
 * values validation refused. Must never crash; read = written + rejected. */
#include "fuzz_convert.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gf_fuzz_convert(data, size, size & 1, NULL);
    return 0;
}
