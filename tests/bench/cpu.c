/*
 * A CPU-bound kernel for the benchmarks: integer arithmetic in registers,
 * with no system calls and no memory traffic, so that its run time inside a
 * container can be compared with its run time on the host.
 *
 * Usage: cpu [ITERATIONS]   (default 1000000000: 1.5 s on the 2-core Intel
 * Xeon virtual machine that RESULTS.md describes)
 * Prints "checksum HEX", the same on every machine for the same ITERATIONS.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    uint64_t iterations = 1000000000;
    uint64_t x = 0x9E3779B97F4A7C15u, sum = 0;

    if (argc > 2) {
        fprintf(stderr, "usage: cpu [ITERATIONS]\n");
        return 2;
    }
    if (argc == 2) {
        char *end;

        iterations = strtoull(argv[1], &end, 10);
        if (*argv[1] == '\0' || *end != '\0' || iterations == 0) {
            fprintf(stderr, "cpu: invalid iteration count: %s\n", argv[1]);
            return 2;
        }
    }

    /* xorshift64 steps mixed with a multiplication: the compiler cannot
     * replace the loop with a closed form, and each step depends on the last. */
    for (uint64_t i = 0; i < iterations; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        sum += x * 0xBF58476D1CE4E5B9u;
    }
    printf("checksum %016" PRIx64 "\n", sum);
    return 0;
}
