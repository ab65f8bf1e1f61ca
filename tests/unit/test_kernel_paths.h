/*
 * test_kernel_paths.h - running a kernel test once per SIMD path: the
 * cmocka setup forces the path its state names (a path this CPU lacks is
 * not forced: the test skips itself or runs on the best one), the teardown
 * gives the choice back.
 */
#ifndef MW_TEST_KERNEL_PATHS_H
#define MW_TEST_KERNEL_PATHS_H

#include "engine/kernels_isa.h"

static int isa_ids[MW_K_ISA_COUNT] = {MW_K_ISA_SCALAR, MW_K_ISA_AVX2, MW_K_ISA_AVX512};

static int force_path(void **state)
{
    const int isa = *(int *)*state;
    if (!mw_k_isa_available(isa)) return 0;
    return mw_k_force_isa(isa) == 0 ? 0 : -1;
}

static int restore_path(void **state)
{
    (void)state;
    return mw_k_force_isa(MW_K_ISA_AUTO) == 0 ? 0 : -1;
}

/* each test once per path, named test/path */
#define PATH_TESTS(fn)                                                 \
    {#fn "/scalar", fn, force_path, restore_path, &isa_ids[0]},        \
    {#fn "/avx2", fn, force_path, restore_path, &isa_ids[1]},          \
    {#fn "/avx512", fn, force_path, restore_path, &isa_ids[2]}

#endif
