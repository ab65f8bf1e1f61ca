/*
 * test_threads_fail.h - making pthread_create fail, for the tests of what
 * a thread that cannot be made leaves behind: a 1 TiB default stack, which
 * the kernel's overcommit heuristic refuses to map. Between
 * threads_fail_begin and threads_fail_end every new thread fails.
 */
#ifndef MW_TEST_THREADS_FAIL_H
#define MW_TEST_THREADS_FAIL_H

#include <pthread.h>

typedef struct threads_fail {
    pthread_attr_t saved, huge;
} threads_fail;

static void threads_fail_begin(threads_fail *tf)
{
    assert_int_equal(pthread_getattr_default_np(&tf->saved), 0);
    assert_int_equal(pthread_attr_init(&tf->huge), 0);
    assert_int_equal(pthread_attr_setstacksize(&tf->huge, (size_t)1 << 40), 0);
    assert_int_equal(pthread_setattr_default_np(&tf->huge), 0);
}

static void threads_fail_end(threads_fail *tf)
{
    assert_int_equal(pthread_setattr_default_np(&tf->saved), 0);
    pthread_attr_destroy(&tf->huge);
    pthread_attr_destroy(&tf->saved);
}

#endif
