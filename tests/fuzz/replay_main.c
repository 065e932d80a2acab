/* Replays every file of a corpus folder through a fuzz target, so ctest runs
 * the fuzzers' findings as regression tests (libFuzzer supplies its own main
 * when built with -fsanitize=fuzzer). */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv)
{
    if (argc < 2) return 2;
    DIR *d = opendir(argv[1]);
    if (!d) { perror(argv[1]); return 2; }
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", argv[1], e->d_name);
        FILE *f = fopen(path, "rb");
        if (!f) continue;
        fseek(f, 0, SEEK_END);
        long sz = ftell(f);
        fseek(f, 0, SEEK_SET);
        uint8_t *buf = malloc((size_t)sz + 1);
        if (fread(buf, 1, (size_t)sz, f) != (size_t)sz) sz = 0;
        fclose(f);
        LLVMFuzzerTestOneInput(buf, (size_t)sz);
        free(buf);
        n++;
    }
    closedir(d);
    fprintf(stderr, "replayed %d inputs\n", n);
    return n > 0 ? 0 : 1;
}
