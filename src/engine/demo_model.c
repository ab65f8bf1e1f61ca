/*
 * demo_model.c - the built-in demo model as a model the plan takes (its
 * hyperparameters and sizes, no tensors), beside what mw_model_open opens:
 * `memwall roofline demo` places the demo without generating its weights.
 */
#include "memwall.h"
#include "engine/llama.h"
#include "format/model.h"
#include "common/error.h"

#include <string.h>

mw_status mw_model_or_demo_open(const char *what, mw_model **out, mw_err *err)
{
    *out = NULL;
    MW_RETURN_IF(!what, err, MW_ERR_INVALID, "no model given");
    if (strcmp(what, MW_DEMO_MODEL) != 0) return mw_model_open(what, out, err);
    mw_hparams hp;
    uint64_t n_params = 0, weights_bytes = 0;
    mw_llama_demo_hparams(&hp);
    mw_llama_demo_sizes(hp.dtype, &n_params, &weights_bytes);
    *out = mw_model_from_hparams(MW_SOURCE_PRESET, MW_DEMO_MODEL, &hp, n_params, weights_bytes);
    MW_RETURN_IF(!*out, err, MW_ERR_NOMEM, "out of memory opening the demo model");
    return MW_OK;
}
