/*
 * test_tmpdir.h - a scratch folder for a cmocka test group:
 * MW_TEST_TMPDIR("name") defines `tmpdir` (the folder, under $TMPDIR or
 * /tmp, mw-test-name-XXXXXX) and the group's setup_dir / remove_dir:
 *
 *     MW_TEST_TMPDIR("gguf")
 *     ...
 *     return cmocka_run_group_tests(tests, setup_dir, remove_dir);
 */
#ifndef MW_TEST_TMPDIR_H
#define MW_TEST_TMPDIR_H

#include <stdio.h>
#include <stdlib.h>

#define MW_TEST_TMPDIR(name)                                                                      \
    static char tmpdir[256];                                                                      \
    static int setup_dir(void **state)                                                            \
    {                                                                                             \
        (void)state;                                                                              \
        const char *base = getenv("TMPDIR");                                                      \
        snprintf(tmpdir, sizeof tmpdir, "%s/mw-test-" name "-XXXXXX", base && *base ? base : "/tmp"); \
        return mkdtemp(tmpdir) ? 0 : -1;                                                          \
    }                                                                                             \
    static int remove_dir(void **state)                                                           \
    {                                                                                             \
        (void)state;                                                                              \
        char cmd[300];                                                                            \
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);                                         \
        return system(cmd) == 0 ? 0 : -1;                                                         \
    }

#endif /* MW_TEST_TMPDIR_H */
