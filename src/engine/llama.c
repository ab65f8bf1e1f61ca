/*
 * llama.c - binding a llama-family decoder to its weights: from a GGUF file
 * (every tensor checked for presence, shape and type), or the built-in demo
 * model generated from a fixed seed.
 */
#include "engine/llama.h"
#include "engine/kernels.h"
#include "engine/sparse.h" /* issue #14, sparse */
#include "engine/stream.h" /* issue #15, paging */
#include "format/gguf.h"
#include "format/model.h"
#include "common/error.h"
#include "common/fileio.h" /* issue #15 */

#include <errno.h>
#include <fcntl.h> /* issue #15: posix_fadvise */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* ---- the demo model ------------------------------------------------------ */

void mw_llama_demo_hparams(mw_hparams *hp)
{
    memset(hp, 0, sizeof *hp);
    strcpy(hp->arch, "llama");
    hp->n_layers = 12;
    hp->n_embd = 768;
    hp->n_heads = 12;
    hp->n_kv_heads = 4;
    hp->head_dim = 64;
    hp->n_ff = 2048;
    hp->n_vocab = 32000;
    hp->n_ctx_train = 2048;
    hp->tied_embeddings = 1;
    hp->gated_ffn = 1;
    hp->rope_theta = 10000.0;
    hp->norm_eps = 1e-5;
    hp->dtype = MW_DTYPE_F16;
}

void mw_llama_demo_sizes(mw_dtype dtype, uint64_t *n_params, uint64_t *weights_bytes)
{
    mw_hparams hp;
    mw_llama_demo_hparams(&hp);
    uint64_t h = hp.n_embd, qd = (uint64_t)hp.n_heads * hp.head_dim;
    uint64_t kvd = (uint64_t)hp.n_kv_heads * hp.head_dim;
    /* the matrices bind() makes: token_embd, then per layer q, k, v, o and
     * the three of the MLP; the norms: two per layer and output_norm */
    uint64_t matrices = (uint64_t)hp.n_vocab * h + hp.n_layers * (2 * h * qd + 2 * h * kvd + 3 * h * hp.n_ff);
    uint64_t norms = hp.n_layers * 2 * h + h;
    *n_params = matrices + norms;
    uint64_t mb = 0;
    /* per tensor, as mw_dtype_bytes rounds whole blocks */
    mb += mw_dtype_bytes(dtype, (uint64_t)hp.n_vocab * h);
    mb += hp.n_layers * (2 * mw_dtype_bytes(dtype, h * qd) + 2 * mw_dtype_bytes(dtype, h * kvd) +
                         3 * mw_dtype_bytes(dtype, h * hp.n_ff));
    *weights_bytes = mb + norms * 4;
}

static uint64_t splitmix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

float mw_llama_demo_value(uint32_t tensor, uint64_t i)
{
    /* Irwin-Hall with 4 uniforms of 16 bits: mean 2, variance 1/3; scaled to
     * a standard deviation of 0.02, the usual init of such models. */
    uint64_t r = splitmix64(((uint64_t)tensor << 40) ^ i ^ 0x6d656d77616c6cull);
    double s = (double)(r & 0xffff) + (double)((r >> 16) & 0xffff) + (double)((r >> 32) & 0xffff) +
               (double)(r >> 48);
    s = s / 65536.0 - 2.0;
    return (float)(s * 1.7320508075688772 * 0.02);
}

/* ---- binding tensors ----------------------------------------------------- */

typedef struct loader {
    mw_llama *m;
    const char *path;
    mw_gguf *g;                      /* NULL for the demo */
    int no_mmap, mlock;
    mw_pool *pool;
    uint32_t next_tensor;            /* demo: the tensor counter */
    mw_err *err;
    /* issue #15, paging: resident tensors pread from fd; the layers from
     * resident_layers on recorded in srcs for the stream */
    int budget, fd;
    uint32_t resident_layers;
    mw_stream_src *srcs;
} loader;

static mw_status keep(loader *L, void *buf)
{
    mw_llama *m = L->m;
    void **n = mw_realloc(m->owned, (m->n_owned + 1) * sizeof *n, MW_MEM_OTHER);
    if (!n) {
        mw_free(buf);
        return mw_err_set(L->err, MW_ERR_NOMEM, "out of memory loading the weights");
    }
    m->owned = n;
    n[m->n_owned++] = buf;
    return MW_OK;
}

static mw_status lock_range(loader *L, const void *p, size_t len, const char *name)
{
    if (!L->mlock || len == 0) return MW_OK;
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    uintptr_t a = (uintptr_t)p & ~(uintptr_t)(page - 1);
    if (mlock((const void *)a, len + ((uintptr_t)p - a)) != 0)
        return mw_err_errno(L->err, MW_ERR_PERMISSION, errno,
                            "cannot lock %s in memory (raise the limit with `ulimit -l`, or "
                            "drop --mlock)", name);
    return MW_OK;
}

/* The demo's tensor: generated into a new buffer of the demo's type. */
typedef struct gen_args {
    void *data;
    mw_dtype type;
    int64_t rows, cols;
    uint32_t tensor;
    float fill;                      /* norms: a constant; NAN: random */
} gen_args;

static void gen_rows(void *p, int ith, int nth)
{
    gen_args *a = p;
    int64_t lo, hi;
    mw_pool_split(a->rows, ith, nth, &lo, &hi);
    float row[8192];
    size_t row_bytes = (size_t)mw_dtype_bytes(a->type, (uint64_t)a->cols);
    for (int64_t r = lo; r < hi; r++) {
        for (int64_t c = 0; c < a->cols; c++)
            row[c] = isnan(a->fill) ? mw_llama_demo_value(a->tensor, (uint64_t)(r * a->cols + c)) : a->fill;
        uint8_t *dst = (uint8_t *)a->data + (size_t)r * row_bytes;
        switch (a->type) {
        case MW_DTYPE_F32: memcpy(dst, row, (size_t)a->cols * 4); break;
        case MW_DTYPE_F16: mw_k_row_to_f16(row, (uint16_t *)dst, a->cols); break;
        case MW_DTYPE_BF16: mw_k_row_to_bf16(row, (uint16_t *)dst, a->cols); break;
        case MW_DTYPE_Q8_0: mw_k_quant_row_q8_0(row, dst, a->cols); break;
        case MW_DTYPE_Q4_0: mw_k_quant_row_q4_0(row, dst, a->cols); break;
        case MW_DTYPE_Q4_K: mw_k_quant_row_q4_k(row, dst, a->cols); break;
        case MW_DTYPE_Q5_K: mw_k_quant_row_q5_k(row, dst, a->cols); break;
        case MW_DTYPE_Q6_K: mw_k_quant_row_q6_k(row, dst, a->cols); break;
        case MW_DTYPE_Q4_1: mw_k_quant_row_q4_1(row, dst, a->cols); break; /* issue #14 */
        case MW_DTYPE_Q5_0: mw_k_quant_row_q5_0(row, dst, a->cols); break;
        case MW_DTYPE_Q5_1: mw_k_quant_row_q5_1(row, dst, a->cols); break;
        default: break;
        }
    }
}

static mw_status demo_tensor(loader *L, mw_weight *w, int64_t rows, int64_t cols, int is_norm)
{
    w->type = is_norm ? MW_DTYPE_F32 : L->m->hp.dtype;
    w->rows = rows;
    w->cols = cols;
    uint64_t bytes = mw_dtype_bytes(w->type, (uint64_t)(rows * cols));
    L->m->n_params += (uint64_t)(rows * cols);
    void *buf = mw_malloc(bytes, MW_MEM_WEIGHTS);
    MW_RETURN_IF(!buf, L->err, MW_ERR_NOMEM, "out of memory generating the demo model (%llu bytes)",
                 (unsigned long long)bytes);
#ifdef MADV_HUGEPAGE
    /* 2 MiB pages: a 4 KiB first touch costs ~15 µs on this project's VMs */
    if (bytes >= (4u << 20)) {
        uintptr_t a = ((uintptr_t)buf + (2u << 20) - 1) & ~(uintptr_t)((2u << 20) - 1);
        uintptr_t e = ((uintptr_t)buf + bytes) & ~(uintptr_t)((2u << 20) - 1);
        if (e > a) madvise((void *)a, e - a, MADV_HUGEPAGE);
    }
#endif
    MW_FORWARD(keep(L, buf));
    gen_args ga = {buf, w->type, rows, cols, L->next_tensor++, is_norm ? 1.0f : NAN};
    if (L->pool) mw_pool_run(L->pool, gen_rows, &ga);
    else gen_rows(&ga, 0, 1);
    w->data = buf;
    L->m->weights_bytes += bytes;
    return lock_range(L, buf, bytes, "the demo weights");
}

/* issue #14, sparse: a linear weight of memwall's sparse types
 * (docs/SPARSE.md), not the embeddings (looked up by row, they stay dense).
 * Every unstructured row's masks are checked once here to keep exactly the
 * file's keep values, so no kernel reads past a row of a hostile file. */
static mw_status sparse_tensor(loader *L, const mw_gguf_tensor *t, const char *name, int64_t rows,
                               int64_t cols, int64_t *keep_out)
{
    if (!strcmp(name, "token_embd.weight"))
        return mw_err_set(L->err, MW_ERR_UNSUPPORTED,
                          "%s: tensor %s has the sparse type %s; the engine looks embeddings up "
                          "by row and needs them dense (convert them to F32, F16 or Q8_0)",
                          L->path, name, mw_dtype_get(t->dtype)->name);
    int64_t n_keep = cols / 2;
    if (!mw_sparse_is_24(t->dtype)) {
        uint64_t q16 = 0;
        /* the reader refused SU tensors without a valid key */
        if (!mw_gguf_get_u64(L->g, MW_GGUF_SPARSE_KEEP_KEY, &q16) || q16 == 0 || q16 > 65536)
            return mw_err_set(L->err, MW_ERR_INVALID, "%s: tensor %s needs the key %s", L->path,
                              name, MW_GGUF_SPARSE_KEEP_KEY);
        n_keep = mw_sparse_row_keep(cols, (uint32_t)q16);
    }
    MW_RETURN_IF(mw_sparse_row_bytes(t->dtype, cols, n_keep) * (uint64_t)rows != t->bytes, L->err,
                 MW_ERR_INVALID, "%s: tensor %s: %llu bytes do not match %lld rows of %s", L->path,
                 name, (unsigned long long)t->bytes, (long long)rows, mw_dtype_get(t->dtype)->name);
    char what[160];
    snprintf(what, sizeof what, "%s in %s", name, L->path);
    MW_FORWARD(mw_sparse_check_rows(t->dtype, t->data, rows, cols, n_keep, what, L->err));
    *keep_out = n_keep;
    return MW_OK;
}

/* issue #15, paging: a tensor under a memory budget. A streamed layer's
 * (blk.<i>. with i >= resident_layers) is recorded for the stream, its
 * data left NULL; any other is read with pread into its own buffer. */
static mw_status budget_tensor(loader *L, mw_weight *w, const mw_gguf_tensor *t, const char *name)
{
    MW_RETURN_IF(w->keep, L->err, MW_ERR_UNSUPPORTED,
                 "%s: tensor %s has a sparse type: --mem-budget streams dense and quantized weights "
                 "only (run it without --mem-budget)", L->path, name);
    uint64_t off = mw_gguf_data_offset(L->g) + t->offset;
    unsigned li;
    if (sscanf(name, "blk.%u.", &li) == 1 && li >= L->resident_layers && li < L->m->hp.n_layers) {
        int ti = (int)(w - &L->m->layers[li].attn_norm);
        MW_RETURN_IF(ti < 0 || ti >= MW_STREAM_TENSORS, L->err, MW_ERR_INTERNAL, "tensor %s out of its layer",
                     name);
        mw_stream_src *src = &L->srcs[li - L->resident_layers];
        src->offset[ti] = off;
        src->bytes[ti] = t->bytes;
        src->f32[ti] = t->dtype == MW_DTYPE_F32;
        w->data = NULL;
        return MW_OK;
    }
    void *buf = mw_malloc(t->bytes ? t->bytes : 1, MW_MEM_WEIGHTS);
    MW_RETURN_IF(!buf, L->err, MW_ERR_NOMEM, "out of memory reading %s (%llu bytes)", name,
                 (unsigned long long)t->bytes);
    MW_FORWARD(keep(L, buf));
    for (uint64_t done = 0; done < t->bytes;) {
        ssize_t r = pread(L->fd, (uint8_t *)buf + done, t->bytes - done, (off_t)(off + done));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0)
            return mw_err_errno(L->err, MW_ERR_IO, r < 0 ? errno : EIO, "%s: reading tensor %s (%llu bytes at "
                                "offset %llu)", L->path, name, (unsigned long long)t->bytes,
                                (unsigned long long)off);
        done += (uint64_t)r;
    }
    /* the process holds its copy: the page cache need not hold another */
    (void)posix_fadvise(L->fd, (off_t)off, (off_t)t->bytes, POSIX_FADV_DONTNEED);
    w->data = buf;
    return MW_OK;
}

/* A GGUF tensor, checked: present, shape [rows, cols] (GGUF dims [cols, rows]),
 * a type the engine multiplies by (norms: F32). */
static mw_status file_tensor(loader *L, mw_weight *w, const char *name, int64_t rows, int64_t cols,
                             int is_norm, int optional)
{
    const mw_gguf_tensor *t = mw_gguf_find_tensor(L->g, name);
    if (!t) {
        if (optional) {
            w->data = NULL;
            return MW_OK;
        }
        return mw_err_set(L->err, MW_ERR_INVALID, "%s: tensor %s is missing (a llama model has it)",
                          L->path, name);
    }
    int64_t got_cols = (int64_t)t->dims[0];
    int64_t got_rows = t->n_dims > 1 ? (int64_t)t->dims[1] : 1;
    int extra = 0;
    for (uint32_t d = 2; d < t->n_dims; d++) extra |= t->dims[d] != 1;
    if (got_rows != rows || got_cols != cols || extra)
        return mw_err_set(L->err, MW_ERR_INVALID,
                          "%s: tensor %s has shape [%lld, %lld], expected [%lld, %lld] from the "
                          "hyperparameters (PyTorch order)", L->path, name, (long long)got_rows,
                          (long long)got_cols, (long long)rows, (long long)cols);
    /* issue #14, sparse: memwall's sparse types for the linear weights */
    w->keep = 0;
    if (mw_dtype_is_sparse(t->dtype) && !is_norm)
        MW_FORWARD(sparse_tensor(L, t, name, rows, cols, &w->keep));
    else if (is_norm ? t->dtype != MW_DTYPE_F32 : !mw_k_supported(t->dtype))
        return mw_err_set(L->err, MW_ERR_UNSUPPORTED,
                          "%s: tensor %s has type %s; the engine runs %s", L->path, name,
                          mw_dtype_get(t->dtype)->name,
                          is_norm ? "norms in F32"
                                  : "F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K and Q6_K weights "
                                    "(and memwall's sparse types, docs/SPARSE.md)");
    w->type = t->dtype;
    w->rows = rows;
    w->cols = cols;
    L->m->weights_bytes += t->bytes;
    L->m->n_params += (uint64_t)(rows * cols);
    if (L->budget) return budget_tensor(L, w, t, name); /* issue #15, paging */
    if (L->no_mmap) {
        void *buf = mw_malloc(t->bytes, MW_MEM_WEIGHTS);
        MW_RETURN_IF(!buf, L->err, MW_ERR_NOMEM, "out of memory reading %s (%llu bytes)", name,
                     (unsigned long long)t->bytes);
        memcpy(buf, t->data, t->bytes);
        MW_FORWARD(keep(L, buf));
        w->data = buf;
    } else {
        w->data = t->data;
    }
    return lock_range(L, w->data, t->bytes, name);
}

static mw_status bind(loader *L, int demo)
{
    mw_llama *m = L->m;
    const mw_hparams *hp = &m->hp;
    int64_t h = hp->n_embd, v = hp->n_vocab, f = hp->n_ff;
    int64_t qd = (int64_t)hp->n_heads * hp->head_dim, kvd = (int64_t)hp->n_kv_heads * hp->head_dim;
    char name[96];
#define TENSOR(w, nm, r, c, norm, opt) \
    (demo ? demo_tensor(L, (w), (r), (c), (norm)) : file_tensor(L, (w), (nm), (r), (c), (norm), (opt)))
    MW_FORWARD(TENSOR(&m->token_embd, "token_embd.weight", v, h, 0, 0));
    m->layers = mw_calloc(hp->n_layers, sizeof *m->layers, MW_MEM_OTHER);
    MW_RETURN_IF(!m->layers, L->err, MW_ERR_NOMEM, "out of memory loading the model");
    for (uint32_t i = 0; i < hp->n_layers; i++) {
        mw_llama_layer *l = &m->layers[i];
#define LAYER(w, suffix, r, c, norm) \
        (snprintf(name, sizeof name, "blk.%u.%s.weight", i, suffix), TENSOR(w, name, r, c, norm, 0))
        MW_FORWARD(LAYER(&l->attn_norm, "attn_norm", 1, h, 1));
        MW_FORWARD(LAYER(&l->wq, "attn_q", qd, h, 0));
        MW_FORWARD(LAYER(&l->wk, "attn_k", kvd, h, 0));
        MW_FORWARD(LAYER(&l->wv, "attn_v", kvd, h, 0));
        MW_FORWARD(LAYER(&l->wo, "attn_output", h, qd, 0));
        MW_FORWARD(LAYER(&l->ffn_norm, "ffn_norm", 1, h, 1));
        MW_FORWARD(LAYER(&l->w_gate, "ffn_gate", f, h, 0));
        MW_FORWARD(LAYER(&l->w_up, "ffn_up", f, h, 0));
        MW_FORWARD(LAYER(&l->w_down, "ffn_down", h, f, 0));
#undef LAYER
    }
    MW_FORWARD(TENSOR(&m->output_norm, "output_norm.weight", 1, h, 1, 0));
    if (demo || hp->tied_embeddings) {
        m->output = m->token_embd;
    } else {
        MW_FORWARD(file_tensor(L, &m->output, "output.weight", v, h, 0, 1));
        if (!m->output.data) m->output = m->token_embd; /* tied */
    }
#undef TENSOR
    return MW_OK;
}

static mw_status check_hparams(const loader *L, const mw_hparams *hp)
{
    MW_RETURN_IF(strcmp(hp->arch, "llama") != 0, L->err, MW_ERR_UNSUPPORTED,
                 "%s: general.architecture is \"%s\"; the engine runs \"llama\" (llama, mistral and "
                 "similar dense decoders as llama.cpp writes them)", L->path, hp->arch);
    MW_RETURN_IF(hp->n_experts, L->err, MW_ERR_UNSUPPORTED,
                 "%s: llama.expert_count is %u; the engine runs dense models, not mixtures of experts",
                 L->path, hp->n_experts);
    MW_RETURN_IF(!hp->n_layers || !hp->n_embd || !hp->n_heads || !hp->n_ff || !hp->n_vocab ||
                     !hp->head_dim,
                 L->err, MW_ERR_INVALID,
                 "%s: a llama.* hyperparameter is missing (block_count, embedding_length, "
                 "attention.head_count, feed_forward_length, vocabulary)", L->path);
    MW_RETURN_IF(!hp->n_kv_heads || hp->n_heads % hp->n_kv_heads, L->err, MW_ERR_INVALID,
                 "%s: llama.attention.head_count_kv (%u) must divide head_count (%u)", L->path,
                 hp->n_kv_heads, hp->n_heads);
    MW_RETURN_IF(hp->head_dim % 2 || hp->head_dim > 1024, L->err, MW_ERR_INVALID,
                 "%s: head dimension %u must be even and at most 1024", L->path, hp->head_dim);
    MW_RETURN_IF(hp->n_ff > 65536 || hp->n_embd > 65536, L->err, MW_ERR_INVALID,
                 "%s: width %u / ffn %u beyond what the engine supports (65536)", L->path, hp->n_embd,
                 hp->n_ff);
    return MW_OK;
}

/* The GGUF file's header: its model (m->model, which keeps the file's
 * mapping), hyperparameters and rope dimensions. */
static mw_status read_header(loader *L, const char *path)
{
    mw_llama *m = L->m;
    mw_gguf *g = NULL;
    MW_FORWARD(mw_gguf_open(path, &g, L->err));
    L->g = g;
    MW_FORWARD(mw_gguf_to_model(g, path, &m->model, L->err)); /* takes g */
    m->hp = m->model->hp;
    uint64_t rot;
    m->n_rot = mw_gguf_get_u64(g, "llama.rope.dimension_count", &rot) ? (uint32_t)rot : m->hp.head_dim;
    MW_RETURN_IF(m->n_rot > m->hp.head_dim || m->n_rot % 2, L->err, MW_ERR_INVALID,
                 "%s: llama.rope.dimension_count %u does not fit the head dimension %u", path,
                 m->n_rot, m->hp.head_dim);
    return MW_OK;
}

/* check_hparams, then the norms' epsilon and rope's base (defaults when
 * the file has none) */
static mw_status check_and_set_hparams(loader *L)
{
    mw_llama *m = L->m;
    MW_FORWARD(check_hparams(L, &m->hp));
    m->eps = m->hp.norm_eps > 0 ? (float)m->hp.norm_eps : 1e-5f;
    m->rope_theta = m->hp.rope_theta > 0 ? (float)m->hp.rope_theta : 10000.0f;
    return MW_OK;
}

static mw_status load(const char *path, mw_dtype demo_type, int no_mmap, int mlock, mw_pool *pool,
                      mw_llama **out, mw_err *err)
{
    *out = NULL;
    char builtin[4096];
    mw_llama *m = mw_calloc(1, sizeof *m, MW_MEM_OTHER);
    MW_RETURN_IF(!m, err, MW_ERR_NOMEM, "out of memory loading %s", path);
    loader L = {m, path, NULL, no_mmap, mlock, pool, 0, err, 0, -1, 0, NULL};
    mw_status st;
    int demo = path == NULL;
    if (demo) {
        L.path = MW_DEMO_MODEL;
        mw_llama_demo_hparams(&m->hp);
        m->hp.dtype = demo_type;
        m->n_rot = m->hp.head_dim;
        st = mw_k_supported(demo_type) ? MW_OK
                                       : mw_err_set(err, MW_ERR_UNSUPPORTED, "the demo model cannot be "
                                                    "made in %s", mw_dtype_get(demo_type)->name);
        if (st != MW_OK) goto fail;
    } else {
        /* a built-in model's name (not a file here): its file */
        st = mw_model_path_resolve(path, builtin, sizeof builtin, &path, err);
        if (st != MW_OK) goto fail;
        L.path = path;
        m->path = mw_strdup(path, MW_MEM_OTHER);
        if (!m->path) {
            st = mw_err_set(err, MW_ERR_NOMEM, "out of memory loading %s", path);
            goto fail;
        }
        st = read_header(&L, path);
        if (st != MW_OK) goto fail;
        m->mapped = !no_mmap;
    }
    st = check_and_set_hparams(&L);
    if (st != MW_OK) goto fail;
    st = bind(&L, demo);
    if (st != MW_OK) goto fail;
    if (!demo && no_mmap) { /* the copies are made: let the mapping go */
        mw_model_free(m->model);
        m->model = NULL;
    }
    *out = m;
    return MW_OK;
fail:
    mw_llama_free(m);
    return st;
}

mw_status mw_llama_load(const char *path, int no_mmap, int mlock, mw_pool *pool, mw_llama **out,
                        mw_err *err)
{
    if (strcmp(path, MW_DEMO_MODEL) == 0) return load(NULL, MW_DTYPE_F16, 0, mlock, pool, out, err);
    return load(path, MW_DTYPE_COUNT, no_mmap, mlock, pool, out, err);
}

mw_status mw_llama_load_demo(mw_dtype dtype, int mlock, mw_pool *pool, mw_llama **out, mw_err *err)
{
    return load(NULL, dtype, 0, mlock, pool, out, err);
}

void mw_llama_free(mw_llama *m)
{
    if (!m) return;
    for (uint32_t i = 0; i < m->n_owned; i++) mw_free(m->owned[i]);
    mw_free(m->owned);
    mw_stream_close(m->stream); /* issue #15: joins the reader */
    mw_free(m->layers);
    mw_model_free(m->model);
    mw_free(m->path);
    mw_free(m);
}

/* ---- issue #15, paging under a memory budget (docs/PAGING.md) ------------ */

mw_status mw_llama_load_budget(const char *path, uint64_t budget, uint32_t prefetch, mw_stream_io io,
                               mw_pool *pool, mw_llama **out, mw_err *err)
{
    *out = NULL;
    MW_RETURN_IF(strcmp(path, MW_DEMO_MODEL) == 0, err, MW_ERR_UNSUPPORTED,
                 "--mem-budget streams weights from a GGUF file; the demo model has none (write it with "
                 "`memwall demo --write FILE.gguf`, or give a GGUF file)");
    char builtin[4096];
    MW_FORWARD(mw_model_path_resolve(path, builtin, sizeof builtin, &path, err));
    mw_llama *m = mw_calloc(1, sizeof *m, MW_MEM_OTHER);
    MW_RETURN_IF(!m, err, MW_ERR_NOMEM, "out of memory loading %s", path);
    loader L = {m, path, NULL, 1, 0, pool, 0, err, 1, -1, 0, NULL};
    mw_budget_split split;
    uint64_t size;
    mw_status st = mw_file_open_regular(path, &L.fd, &size, err);
    if (st != MW_OK) goto fail;
    /* large preads need no readahead, which would land in the page cache
     * after each range is dropped */
    (void)posix_fadvise(L.fd, 0, 0, POSIX_FADV_RANDOM);
    m->path = mw_strdup(path, MW_MEM_OTHER);
    if (!m->path) {
        st = mw_err_set(err, MW_ERR_NOMEM, "out of memory loading %s", path);
        goto fail;
    }
    st = read_header(&L, path);
    if (st == MW_OK) st = check_and_set_hparams(&L);
    if (st != MW_OK) goto fail;
    /* the split, as the planner counts it, from the header just read */
    mw_plan_opts po;
    mw_plan_opts_init(&po);
    po.mem_budget_bytes = budget;
    po.prefetch_layers = prefetch;
    st = mw_plan_budget_split(m->model, &po, &split, err);
    if (st != MW_OK) goto fail;
    m->split = split;
    L.resident_layers = split.resident_layers;
    if (split.streamed_layers) {
        L.srcs = mw_calloc(split.streamed_layers, sizeof *L.srcs, MW_MEM_OTHER);
        if (!L.srcs) {
            st = mw_err_set(err, MW_ERR_NOMEM, "out of memory loading %s", path);
            goto fail;
        }
    }
    st = bind(&L, 0);
    if (st != MW_OK) goto fail;
    /* what the page cache still holds of the file: dropped (a large folio
     * straddling two tensors is never inside one tensor's range) */
    (void)posix_fadvise(L.fd, 0, 0, POSIX_FADV_DONTNEED);
    /* nothing stays mapped: the tokenizer reads the file itself */
    mw_model_free(m->model);
    m->model = NULL;
    m->mapped = 0;
    if (split.streamed_layers) {
        st = mw_stream_open(path, split.resident_layers, split.streamed_layers, L.srcs, split.slots,
                            split.slot_bytes, io, &m->stream, err);
        if (st != MW_OK) goto fail;
    }
    mw_free(L.srcs);
    close(L.fd);
    *out = m;
    return MW_OK;
fail:
    mw_free(L.srcs);
    if (L.fd >= 0) close(L.fd);
    mw_llama_free(m);
    return st;
}
