/* CHECK(cond, fmt, ...): counts a passed or failed check; a failure prints where, the
 * message and spinflip's last error. Shared by the C tests in this folder. */
#ifndef SPINFLIP_TEST_CHECK_H
#define SPINFLIP_TEST_CHECK_H
#include <stdio.h>

static int passed = 0, failed = 0;
#define CHECK(cond, ...)                                                   \
    do {                                                                   \
        if (cond) {                                                        \
            passed++;                                                      \
        } else {                                                           \
            failed++;                                                      \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);           \
            fprintf(stderr, __VA_ARGS__);                                  \
            fprintf(stderr, " [last error: %s]\n", spinflip_last_error()); \
        }                                                                  \
    } while (0)
#endif
