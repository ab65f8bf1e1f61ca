/* model.c - mw_model: building one, freeing one. Opening is in open.c. */
#include "format/model.h"
#include "format/model_build.h"
#include "common/error.h"

#include <string.h>

mw_model *mw_model_alloc(mw_model_source source, const char *path)
{
    mw_model *m = mw_calloc(1, sizeof *m, MW_MEM_OTHER);
    if (!m) return NULL;
    m->source = source;
    m->hp.dtype = MW_DTYPE_COUNT; /* not known yet */
    m->path = mw_strdup(path ? path : "", MW_MEM_OTHER);
    if (!m->path) {
        mw_free(m);
        return NULL;
    }
    return m;
}

mw_model *mw_model_from_hparams(mw_model_source source, const char *path, const mw_hparams *hp,
                                uint64_t n_params, uint64_t weights_bytes)
{
    mw_model *m = mw_model_alloc(source, path);
    if (!m) return NULL;
    if (hp) {
        m->hp = *hp;
        m->has_hparams = 1;
    }
    m->n_params = n_params;
    m->weights_bytes = weights_bytes;
    m->n_params_active = n_params;
    return m;
}

mw_status mw_model_add_file(mw_model *m, const char *path, uint32_t *index, mw_err *err)
{
    char **nf = mw_realloc(m->files, (m->n_files + 1) * sizeof *nf, MW_MEM_OTHER);
    MW_RETURN_IF(!nf, err, MW_ERR_NOMEM, "out of memory listing model files");
    m->files = nf;
    nf[m->n_files] = mw_strdup(path, MW_MEM_OTHER);
    MW_RETURN_IF(!nf[m->n_files], err, MW_ERR_NOMEM, "out of memory listing model files");
    if (index) *index = m->n_files;
    m->n_files++;
    return MW_OK;
}

mw_status mw_model_add_tensor(mw_model *m, const char *name, mw_dtype dtype, uint32_t n_dims,
                              const uint64_t *shape, uint64_t offset, uint32_t file,
                              mw_err *err)
{
    MW_RETURN_IF(n_dims > MW_MAX_DIMS, err, MW_ERR_INVALID,
                 "tensor %s has %u dimensions (at most %d)", name, n_dims, MW_MAX_DIMS);
    MW_RETURN_IF(!mw_dtype_get(dtype), err, MW_ERR_INVALID, "tensor %s: bad type", name);
    uint64_t n = 1;
    for (uint32_t i = 0; i < n_dims; i++) {
        MW_RETURN_IF(shape[i] != 0 && n > UINT64_MAX / shape[i], err, MW_ERR_INVALID,
                     "tensor %s: element count overflows 64 bits", name);
        n *= shape[i];
    }
    uint64_t bytes = mw_dtype_bytes(dtype, n);
    /* issue #14, sparse: an unstructured sparse tensor's size depends on its
     * file's keep key: the GGUF reader sets it after adding the tensor */
    if (bytes == MW_UNKNOWN && mw_dtype_is_sparse(dtype)) bytes = 0;
    MW_RETURN_IF(bytes == MW_UNKNOWN, err, MW_ERR_INVALID,
                 "tensor %s: %llu elements is not a whole number of %s blocks (%u) or overflows",
                 name, (unsigned long long)n, mw_dtype_get(dtype)->name,
                 mw_dtype_get(dtype)->block_elems);
    /* Capacity is 64, then doubles: it is full when the count is 0 or a
     * power of two of at least 64, so no capacity field is needed. */
    uint32_t n_t = m->n_tensors;
    MW_RETURN_IF(n_t == UINT32_MAX / 2, err, MW_ERR_INVALID, "too many tensors");
    if (n_t == 0 || (n_t >= 64 && (n_t & (n_t - 1)) == 0)) {
        uint32_t cap = n_t == 0 ? 64 : n_t * 2;
        mw_tensor_info *nt = mw_realloc(m->tensors, (size_t)cap * sizeof *nt, MW_MEM_OTHER);
        MW_RETURN_IF(!nt, err, MW_ERR_NOMEM, "out of memory listing tensors");
        m->tensors = nt;
    }
    mw_tensor_info *t = &m->tensors[m->n_tensors];
    memset(t, 0, sizeof *t);
    t->name = mw_strdup(name, MW_MEM_OTHER);
    MW_RETURN_IF(!t->name, err, MW_ERR_NOMEM, "out of memory listing tensors");
    t->dtype = dtype;
    t->n_dims = n_dims;
    for (uint32_t i = 0; i < n_dims; i++) t->shape[i] = shape[i];
    t->n_elems = n;
    t->bytes = bytes;
    t->offset = offset;
    t->file = file;
    m->n_tensors++;
    return MW_OK;
}

void mw_model_finish(mw_model *m)
{
    if (m->n_tensors == 0) return;
    uint64_t params = 0, bytes = 0;
    for (uint32_t i = 0; i < m->n_tensors; i++) {
        params += m->tensors[i].n_elems;
        bytes += m->tensors[i].bytes;
    }
    m->n_params = params;
    m->weights_bytes = bytes;
    m->n_params_active = mw_model_active_params(m);
}

/* MoE (issue #13): the parameters one token uses are all of them less the
 * routed experts it is not sent to: of the routed experts' tensors (one per
 * expert, ".experts." in Hugging Face names; stacked, "_exps", in GGUF's) a
 * token uses k of E. Shared experts ("shared_expert", "shexp") and the
 * router are always used. The embedding table is counted whole, as the
 * model cards' "activated parameters" of Mixtral (12.9B of 46.7B) and
 * Qwen3 (3.3B of 30.5B) count it (docs/PLAN.md). */
uint64_t mw_model_active_params(const mw_model *m)
{
    const mw_hparams *hp = &m->hp;
    if (!m->has_hparams || hp->n_experts < 2 || hp->n_experts_used == 0 ||
        hp->n_experts_used >= hp->n_experts)
        return m->n_params;
    uint64_t routed = 0;
    for (uint32_t i = 0; i < m->n_tensors; i++) {
        const char *name = m->tensors[i].name;
        if (name && (strstr(name, ".experts.") || strstr(name, "_exps")))
            routed += m->tensors[i].n_elems;
    }
    uint64_t unused = routed / hp->n_experts * (hp->n_experts - hp->n_experts_used);
    return unused < m->n_params ? m->n_params - unused : m->n_params;
}

void mw_model_free(mw_model *m)
{
    if (!m) return;
    for (uint32_t i = 0; i < m->n_tensors; i++) mw_free(m->tensors[i].name);
    mw_free(m->tensors);
    for (uint32_t i = 0; i < m->n_files; i++) mw_free(m->files[i]);
    mw_free(m->files);
    if (m->impl) m->impl->free(m->impl);
    mw_free(m->path);
    mw_free(m);
}
