/*
 * fuzz_hf_config.c - libFuzzer target: bytes -> mw_hf_config_parse, and,
 * when they parse, the tensors the hparams imply (mw_arch_add_tensors) at a
 * type picked from the input, so the size checks of arch.c are fuzzed too.
 *
 *   CC=clang cmake -S . -B build-fuzz -DMW_FUZZ=ON -DMW_BUILD_TESTS=OFF
 *   cmake --build build-fuzz --target fuzz_hf_config
 *   build-fuzz/fuzz/fuzz_hf_config -max_total_time=60 fuzz/corpus/hf_config
 */
#include "memwall.h"
#include "format/arch.h"
#include "format/hf_config.h"
#include "format/model_build.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mw_hparams hp;
    mw_err err;
    if (mw_hf_config_parse((const char *)data, size, "fuzz.json", &hp, &err) != MW_OK) {
        /* every failure explains itself */
        if (err.msg[0] == '\0' || err.status == MW_OK) __builtin_trap();
        return 0;
    }
    if (!mw_arch_supported(hp.arch) || hp.n_layers == 0 || hp.n_embd == 0) __builtin_trap();
    /* Listing the tensors costs time and memory in the layer and expert
     * counts; keep each run small (the big-count checks are unit-tested). */
    if ((uint64_t)hp.n_layers * (hp.n_experts + 1) > 256) return 0;
    static const mw_dtype types[] = {MW_DTYPE_F32, MW_DTYPE_BF16, MW_DTYPE_Q8_0, MW_DTYPE_Q4_K};
    mw_dtype t = types[size % 4];
    mw_model *m = mw_model_alloc(MW_SOURCE_HF_CONFIG, "fuzz.json");
    if (!m) return 0;
    if (mw_arch_add_tensors(&hp, t, m, &err) == MW_OK) {
        mw_model_finish(m);
        if (m->n_tensors == 0 || m->n_params == 0) __builtin_trap();
    }
    mw_model_free(m);
    return 0;
}
