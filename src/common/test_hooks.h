/*
 * test_hooks.h - hooks for memwall's own tests. Not API: nothing here is
 * declared in memwall.h or exported by libmemwall.so; tests link the static
 * library. A program built on libmemwall injects faults through the
 * environment instead (MEMWALL_FAIL_ALLOC, memwall.h).
 */
#ifndef MW_COMMON_TEST_HOOKS_H
#define MW_COMMON_TEST_HOOKS_H

#include <stdint.h>

/*! mw_mem_fail_after() :
 *  Fault injection: the n-th allocation from now (1 = the next) fails, and
 *  only that one; 0 disables. The environment variable MEMWALL_FAIL_ALLOC=N
 *  sets it at the first allocation, so tests can fail any allocation of the
 *  command line tool. */
void mw_mem_fail_after(uint64_t n);

#endif /* MW_COMMON_TEST_HOOKS_H */
