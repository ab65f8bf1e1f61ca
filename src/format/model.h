/*
 * model.h - what the layers above format/ may ask of a model beyond
 * memwall.h. (How readers build one is format/model_build.h, internal to
 * format/.)
 */
#ifndef MW_FORMAT_MODEL_H
#define MW_FORMAT_MODEL_H

#include "memwall.h"

/*! mw_model_from_hparams() :
 *  A model known by its numbers alone, no tensors and no file: what the
 *  plan needs (the engine's loaded model, the sweep's demo, a model file
 *  already closed). hp NULL: no hyperparameters (has_hparams 0).
 *  @return the model (free with mw_model_free), NULL when out of memory. */
mw_model *mw_model_from_hparams(mw_model_source source, const char *path, const mw_hparams *hp,
                                uint64_t n_params, uint64_t weights_bytes);

/*! mw_model_path_resolve() : *path = what, or, when no file of that name
 *  is here, the file it names (written to buf): a built-in model's
 *  (mw_builtin_model_names), or a Hugging Face id's in the local cache
 *  ("org/name/FILE", or "org/name" whose snapshot holds one GGUF file).
 *  @return MW_OK, or where it looked and what is wrong. */
mw_status mw_model_path_resolve(const char *what, char *buf, size_t cap, const char **path, mw_err *err);

/* Paging (issue #15; quant_scheme.c): every tensor's bytes in scheme s,
 * into bytes[m->n_tensors], in one pass. @return 0, or -1 with *bad the
 * tensor whose size overflows 64 bits. */
int mw_weight_scheme_each_tensor_bytes(const mw_weight_scheme *s, const mw_model *m, uint64_t *bytes,
                                       uint32_t *bad);

#endif /* MW_FORMAT_MODEL_H */
