/* fuzz_safetensors.c - libFuzzer target: one safetensors image (header and
 * buffer) in memory, checked and turned into tensors. Seeds in
 * fuzz/corpus/safetensors/. */
#include "format/model_build.h"
#include "format/safetensors.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mw_model *m = mw_model_alloc(MW_SOURCE_SAFETENSORS, "fuzz");
    if (!m) return 0;
    mw_err err;
    mw_safetensors_parse(data, size, m, 0, &err);
    mw_model_free(m);
    return 0;
}
