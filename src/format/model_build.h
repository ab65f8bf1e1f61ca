/*
 * model_build.h - how readers fill an mw_model (internal to format/).
 *
 * A reader allocates the model, adds its files and tensors (sizes checked
 * for overflow here, once for every format), sets hparams, and finishes:
 *
 *     mw_model *m = mw_model_alloc(MW_SOURCE_GGUF, path);
 *     MW_FORWARD(mw_model_add_file(m, path, &file, err));
 *     MW_FORWARD(mw_model_add_tensor(m, name, dtype, n_dims, shape, off, file, err));
 *     mw_model_finish(m);   // n_params, weights_bytes
 */
#ifndef MW_FORMAT_MODEL_BUILD_H
#define MW_FORMAT_MODEL_BUILD_H

#include "memwall.h"

/* NULL when out of memory. */
mw_model *mw_model_alloc(mw_model_source source, const char *path);

/* The reader's own state behind mw_model.impl (opaque outside format/): a
 * reader's state struct has this as its first member, sets free, and points
 * m->impl at it; mw_model_free calls impl->free(impl). */
struct mw_model_impl {
    void (*free)(struct mw_model_impl *impl);
};

mw_status mw_model_add_file(mw_model *m, const char *path, uint32_t *index, mw_err *err);

/* shape is row-major (outermost first). Rejects n_dims > MW_MAX_DIMS, an
 * element count or byte size that overflows, and a count that is not a
 * whole number of blocks of dtype - naming the tensor. */
mw_status mw_model_add_tensor(mw_model *m, const char *name, mw_dtype dtype, uint32_t n_dims,
                              const uint64_t *shape, uint64_t offset, uint32_t file,
                              mw_err *err);

/* Sums n_params and weights_bytes over the tensors (when there are any). */
void mw_model_finish(mw_model *m);
/* MoE: n_params less the routed experts one token does not use (model.c);
 * n_params for a dense model. mw_model_finish sets n_params_active to it. */
uint64_t mw_model_active_params(const mw_model *m);

#endif /* MW_FORMAT_MODEL_BUILD_H */
