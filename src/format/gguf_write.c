/*
 * gguf_write.c - writes GGUF v3 files that llama.cpp reads.
 *
 * llama.cpp's reader (ggml gguf.cpp) is stricter than the format: keys are
 * non-empty, tensor names shorter than 64 bytes, arrays never nested (see
 * mw_gguf_writer_set_raw), and each tensor's offset must be the padded
 * sizes of the tensors before it, in order. So tensors are laid out in the
 * order they were added, each padded to the alignment (the last one too:
 * ggml's writer does so and its non-mmap loader reads the padded size).
 *
 * Values are encoded when set into one buffer, in insertion order; tensor
 * data is copied from the caller's pointers only when the file is written.
 * A deferred tensor (mw_gguf_writer_add_tensor_fn, for `memwall convert`)
 * has no data yet: its fill function writes its bytes into a buffer the
 * size of the largest such tensor when the file is written, so a whole
 * model is never in memory. MEMWALL_FAIL_WRITE=N (tests) makes the write
 * fail with ENOSPC once N bytes of the file are written.
 */
#include "format/gguf.h"
#include "common/error.h"
#include "common/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ggml's GGML_MAX_NAME (64) counts the NUL. */
#define LLAMA_MAX_NAME 63

typedef struct wtensor {
    char *name;
    mw_dtype dtype;
    uint32_t n_dims;
    uint64_t dims[4];
    uint64_t bytes;
    const void *data;
    mw_gguf_fill_fn fill;        /* deferred: fills a buffer when written */
    void *fill_ctx;
} wtensor;

struct mw_gguf_writer {
    uint8_t *kv;                 /* encoded kvs: key, type, value; kv_len used, kv_cap held */
    size_t kv_len, kv_cap;
    char **keys;                 /* n_kv, for duplicates; capacity keys_cap */
    uint64_t n_kv;
    size_t keys_cap;
    wtensor *t;                  /* n_t, insertion order; capacity t_cap */
    uint64_t n_t;
    size_t t_cap;
    uint32_t alignment;
};

mw_status mw_gguf_writer_init(mw_gguf_writer **out, mw_err *err)
{
    *out = mw_calloc(1, sizeof **out, MW_MEM_OTHER);
    MW_RETURN_IF(!*out, err, MW_ERR_NOMEM, "out of memory starting a GGUF writer");
    (*out)->alignment = 32;
    return MW_OK;
}

void mw_gguf_writer_free(mw_gguf_writer *w)
{
    if (!w) return;
    for (uint64_t i = 0; i < w->n_kv; i++) mw_free(w->keys[i]);
    mw_free(w->keys);
    for (uint64_t i = 0; i < w->n_t; i++) mw_free(w->t[i].name);
    mw_free(w->t);
    mw_free(w->kv);
    mw_free(w);
}

/* ---- kvs ------------------------------------------------------------------ */

static void put(mw_gguf_writer *w, const void *p, size_t n)
{
    memcpy(w->kv + w->kv_len, p, n);
    w->kv_len += n;
}

static void put_u32(mw_gguf_writer *w, uint32_t v) { put(w, &v, 4); }
static void put_u64(mw_gguf_writer *w, uint64_t v) { put(w, &v, 8); }

/* Checks the key, reserves room for the key and `value_bytes` more, and
 * records the key; then the caller puts the type and the value (no step
 * after this one can fail, so a failed set leaves the writer as it was). */
static mw_status begin_kv(mw_gguf_writer *w, const char *key, mw_gguf_type type,
                          uint64_t value_bytes, mw_err *err)
{
    MW_RETURN_IF(!key || !*key, err, MW_ERR_INVALID, "GGUF writer: empty key");
    size_t klen = strlen(key);
    MW_RETURN_IF(klen > MW_GGUF_MAX_KEY, err, MW_ERR_INVALID,
                 "GGUF writer: key of %zu bytes (at most %d)", klen, MW_GGUF_MAX_KEY);
    for (uint64_t i = 0; i < w->n_kv; i++)
        MW_RETURN_IF(!strcmp(w->keys[i], key), err, MW_ERR_INVALID,
                     "GGUF writer: duplicate key \"%s\"", key);
    if (!strcmp(key, "general.alignment")) {
        MW_RETURN_IF(type != MW_GGUF_U32, err, MW_ERR_INVALID,
                     "GGUF writer: general.alignment must be a u32, not a %s",
                     mw_gguf_type_name(type));
        MW_RETURN_IF(w->n_t > 0, err, MW_ERR_INVALID,
                     "GGUF writer: set general.alignment before adding tensors");
    }
    MW_RETURN_IF(value_bytes > SIZE_MAX / 2, err, MW_ERR_INVALID,
                 "GGUF writer: value of %s too large (%llu bytes)", key,
                 (unsigned long long)value_bytes);
    size_t need = 8 + klen + 4 + (size_t)value_bytes;
    MW_RETURN_IF(need > SIZE_MAX - w->kv_len, err, MW_ERR_INVALID,
                 "GGUF writer: metadata too large");
    if (w->kv_len + need > w->kv_cap) {
        size_t cap = w->kv_cap ? w->kv_cap : 256;
        while (cap < w->kv_len + need) cap = cap > SIZE_MAX / 2 ? w->kv_len + need : cap * 2;
        uint8_t *nb = mw_realloc(w->kv, cap, MW_MEM_OTHER);
        MW_RETURN_IF(!nb, err, MW_ERR_NOMEM, "GGUF writer: out of memory setting %s", key);
        w->kv = nb;
        w->kv_cap = cap;
    }
    if (w->n_kv == w->keys_cap) {
        size_t cap = w->keys_cap ? w->keys_cap * 2 : 16;
        char **nk = mw_realloc(w->keys, cap * sizeof *nk, MW_MEM_OTHER);
        MW_RETURN_IF(!nk, err, MW_ERR_NOMEM, "GGUF writer: out of memory setting %s", key);
        w->keys = nk;
        w->keys_cap = cap;
    }
    char *k = mw_strdup(key, MW_MEM_OTHER);
    MW_RETURN_IF(!k, err, MW_ERR_NOMEM, "GGUF writer: out of memory setting %s", key);
    w->keys[w->n_kv++] = k;
    put_u64(w, klen);
    put(w, key, klen);
    put_u32(w, (uint32_t)type);
    return MW_OK;
}

static const uint8_t elem_bytes[13] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};

static int is_scalar(mw_gguf_type t)
{
    return (unsigned)t <= MW_GGUF_F64 && t != MW_GGUF_STRING && t != MW_GGUF_ARRAY;
}

mw_status mw_gguf_writer_set_scalar(mw_gguf_writer *w, const char *key, mw_gguf_type type,
                                    const void *v, mw_err *err)
{
    MW_RETURN_IF(!is_scalar(type), err, MW_ERR_INVALID,
                 "GGUF writer: %s: type %d is not a scalar type", key ? key : "?", (int)type);
    MW_RETURN_IF(type == MW_GGUF_BOOL && *(const uint8_t *)v > 1, err, MW_ERR_INVALID,
                 "GGUF writer: %s: a bool is 0 or 1", key ? key : "?");
    if (key && !strcmp(key, "general.alignment") && type == MW_GGUF_U32) {
        uint32_t a;
        memcpy(&a, v, 4);
        MW_RETURN_IF(a == 0 || (a & (a - 1)) != 0, err, MW_ERR_INVALID,
                     "GGUF writer: general.alignment %u is not a non-zero power of two", a);
    }
    MW_FORWARD(begin_kv(w, key, type, elem_bytes[type], err));
    put(w, v, elem_bytes[type]);
    if (key && !strcmp(key, "general.alignment")) memcpy(&w->alignment, v, 4);
    return MW_OK;
}

mw_status mw_gguf_writer_set_u32(mw_gguf_writer *w, const char *key, uint32_t v, mw_err *err)
{
    return mw_gguf_writer_set_scalar(w, key, MW_GGUF_U32, &v, err);
}

mw_status mw_gguf_writer_set_u64(mw_gguf_writer *w, const char *key, uint64_t v, mw_err *err)
{
    return mw_gguf_writer_set_scalar(w, key, MW_GGUF_U64, &v, err);
}

mw_status mw_gguf_writer_set_i32(mw_gguf_writer *w, const char *key, int32_t v, mw_err *err)
{
    return mw_gguf_writer_set_scalar(w, key, MW_GGUF_I32, &v, err);
}

mw_status mw_gguf_writer_set_f32(mw_gguf_writer *w, const char *key, float v, mw_err *err)
{
    return mw_gguf_writer_set_scalar(w, key, MW_GGUF_F32, &v, err);
}

mw_status mw_gguf_writer_set_bool(mw_gguf_writer *w, const char *key, int v, mw_err *err)
{
    uint8_t b = v ? 1 : 0;
    return mw_gguf_writer_set_scalar(w, key, MW_GGUF_BOOL, &b, err);
}

mw_status mw_gguf_writer_set_str(mw_gguf_writer *w, const char *key, const char *v, mw_err *err)
{
    MW_RETURN_IF(!v, err, MW_ERR_INVALID, "GGUF writer: %s: NULL string", key ? key : "?");
    size_t n = strlen(v);
    MW_FORWARD(begin_kv(w, key, MW_GGUF_STRING, 8 + (uint64_t)n, err));
    put_u64(w, n);
    put(w, v, n);
    return MW_OK;
}

mw_status mw_gguf_writer_set_str_array(mw_gguf_writer *w, const char *key,
                                       const char *const *v, uint64_t n, mw_err *err)
{
    MW_RETURN_IF(n && !v, err, MW_ERR_INVALID, "GGUF writer: %s: NULL array", key ? key : "?");
    uint64_t bytes = 12;
    for (uint64_t i = 0; i < n; i++) {
        MW_RETURN_IF(!v[i], err, MW_ERR_INVALID, "GGUF writer: %s: string %llu is NULL",
                     key ? key : "?", (unsigned long long)i);
        uint64_t len = strlen(v[i]);
        MW_RETURN_IF(bytes > UINT64_MAX / 2 - len, err, MW_ERR_INVALID,
                     "GGUF writer: %s: array too large", key ? key : "?");
        bytes += 8 + len;
    }
    MW_FORWARD(begin_kv(w, key, MW_GGUF_ARRAY, bytes, err));
    put_u32(w, MW_GGUF_STRING);
    put_u64(w, n);
    for (uint64_t i = 0; i < n; i++) {
        size_t len = strlen(v[i]);
        put_u64(w, len);
        put(w, v[i], len);
    }
    return MW_OK;
}

mw_status mw_gguf_writer_set_array(mw_gguf_writer *w, const char *key, mw_gguf_type elem,
                                   const void *v, uint64_t n, mw_err *err)
{
    MW_RETURN_IF(!is_scalar(elem), err, MW_ERR_INVALID,
                 "GGUF writer: %s: arrays of type %d take mw_gguf_writer_set_str_array or "
                 "mw_gguf_writer_set_raw",
                 key ? key : "?", (int)elem);
    MW_RETURN_IF(n && !v, err, MW_ERR_INVALID, "GGUF writer: %s: NULL array", key ? key : "?");
    MW_RETURN_IF(n > (UINT64_MAX / 2) / 8, err, MW_ERR_INVALID,
                 "GGUF writer: %s: array of %llu elements too large", key ? key : "?",
                 (unsigned long long)n);
    uint64_t bytes = n * elem_bytes[elem];
    if (elem == MW_GGUF_BOOL)
        for (uint64_t i = 0; i < n; i++)
            MW_RETURN_IF(((const uint8_t *)v)[i] > 1, err, MW_ERR_INVALID,
                         "GGUF writer: %s: bool %llu is not 0 or 1", key ? key : "?",
                         (unsigned long long)i);
    MW_FORWARD(begin_kv(w, key, MW_GGUF_ARRAY, 12 + bytes, err));
    put_u32(w, (uint32_t)elem);
    put_u64(w, n);
    if (bytes) put(w, v, (size_t)bytes);
    return MW_OK;
}

mw_status mw_gguf_writer_set_raw(mw_gguf_writer *w, const char *key, mw_gguf_type type,
                                 const void *bytes, size_t len, mw_err *err)
{
    mw_err sub;
    if (mw_gguf_value_check(type, bytes, len, &sub) != MW_OK)
        return mw_err_set(err, MW_ERR_INVALID, "GGUF writer: %s: %s", key ? key : "?", sub.msg);
    if (key && !strcmp(key, "general.alignment") && type == MW_GGUF_U32) {
        uint32_t a;
        memcpy(&a, bytes, 4);
        MW_RETURN_IF(a == 0 || (a & (a - 1)) != 0, err, MW_ERR_INVALID,
                     "GGUF writer: general.alignment %u is not a non-zero power of two", a);
    }
    MW_FORWARD(begin_kv(w, key, type, len, err));
    if (len) put(w, bytes, len);
    if (!strcmp(key, "general.alignment")) memcpy(&w->alignment, bytes, 4);
    return MW_OK;
}

/* ---- tensors -------------------------------------------------------------- */

static mw_status add_tensor(mw_gguf_writer *w, const char *name, mw_dtype dtype, uint32_t n_dims,
                            const uint64_t *dims, uint64_t given_bytes, const void *data,
                            mw_gguf_fill_fn fill, void *fill_ctx, mw_err *err)
{
    MW_RETURN_IF(!name || !*name, err, MW_ERR_INVALID, "GGUF writer: tensor with an empty name");
    MW_RETURN_IF(strlen(name) > LLAMA_MAX_NAME, err, MW_ERR_INVALID,
                 "GGUF writer: tensor name \"%s\" is longer than %d bytes (llama.cpp's limit)",
                 name, LLAMA_MAX_NAME);
    const mw_dtype_info *di = mw_dtype_get(dtype);
    MW_RETURN_IF(!di || di->ggml_id < 0, err, MW_ERR_INVALID,
                 "GGUF writer: tensor %s: type %s has no ggml id", name, di ? di->name : "?");
    MW_RETURN_IF(n_dims == 0 || n_dims > 4 || !dims, err, MW_ERR_INVALID,
                 "GGUF writer: tensor %s has %u dimensions (GGUF allows 1 to 4)", name, n_dims);
    uint64_t elems = 1;
    for (uint32_t d = 0; d < n_dims; d++) {
        MW_RETURN_IF(dims[d] == 0, err, MW_ERR_INVALID,
                     "GGUF writer: tensor %s: dimension %u is 0", name, d);
        MW_RETURN_IF(elems > (uint64_t)INT64_MAX / dims[d], err, MW_ERR_INVALID,
                     "GGUF writer: tensor %s: element count overflows", name);
        elems *= dims[d];
    }
    MW_RETURN_IF(dims[0] % di->block_elems != 0, err, MW_ERR_INVALID,
                 "GGUF writer: tensor %s: rows of %llu elements are not whole %s blocks (%u)",
                 name, (unsigned long long)dims[0], di->name, di->block_elems);
    uint64_t bytes = given_bytes ? given_bytes : mw_dtype_bytes(dtype, elems);
    MW_RETURN_IF(bytes == MW_UNKNOWN || bytes > (uint64_t)INT64_MAX, err, MW_ERR_INVALID,
                 "GGUF writer: tensor %s: byte size overflows", name);
    MW_RETURN_IF(!data && !fill, err, MW_ERR_INVALID, "GGUF writer: tensor %s: NULL data", name);
    for (uint64_t i = 0; i < w->n_t; i++)
        MW_RETURN_IF(!strcmp(w->t[i].name, name), err, MW_ERR_INVALID,
                     "GGUF writer: duplicate tensor name \"%s\"", name);
    if (w->n_t == w->t_cap) {
        size_t cap = w->t_cap ? w->t_cap * 2 : 16;
        wtensor *nt = mw_realloc(w->t, cap * sizeof *nt, MW_MEM_OTHER);
        MW_RETURN_IF(!nt, err, MW_ERR_NOMEM, "GGUF writer: out of memory adding tensor %s", name);
        w->t = nt;
        w->t_cap = cap;
    }
    wtensor *t = &w->t[w->n_t];
    memset(t, 0, sizeof *t);
    t->name = mw_strdup(name, MW_MEM_OTHER);
    MW_RETURN_IF(!t->name, err, MW_ERR_NOMEM, "GGUF writer: out of memory adding tensor %s", name);
    t->dtype = dtype;
    t->n_dims = n_dims;
    memcpy(t->dims, dims, n_dims * sizeof *dims);
    t->bytes = bytes;
    t->data = data;
    t->fill = fill;
    t->fill_ctx = fill_ctx;
    w->n_t++;
    return MW_OK;
}

mw_status mw_gguf_writer_add_tensor(mw_gguf_writer *w, const char *name, mw_dtype dtype,
                                    uint32_t n_dims, const uint64_t *dims, const void *data,
                                    mw_err *err)
{
    return add_tensor(w, name, dtype, n_dims, dims, 0, data, NULL, NULL, err);
}

mw_status mw_gguf_writer_add_tensor_fn(mw_gguf_writer *w, const char *name, mw_dtype dtype,
                                       uint32_t n_dims, const uint64_t *dims, uint64_t bytes,
                                       mw_gguf_fill_fn fill, void *ctx, mw_err *err)
{
    MW_RETURN_IF(!fill, err, MW_ERR_INVALID, "GGUF writer: tensor %s: no fill function",
                 name ? name : "?");
    return add_tensor(w, name, dtype, n_dims, dims, bytes, NULL, fill, ctx, err);
}

/* ---- the file -------------------------------------------------------------- */

static uint64_t pad_to(uint64_t n, uint64_t align) { return (align - n % align) % align; }

/* MEMWALL_FAIL_WRITE=N: bytes the file may take before writes fail with
 * ENOSPC (tests of a full disk); read when a file starts. */
static uint64_t fail_left;
static int fail_on;
static int out_errno;                /* errno of the first failed write */

/* fwrite, remembering the first failure in *ok. */
static void out(FILE *f, const void *p, size_t n, int *ok)
{
    if (*ok && n && fail_on) {
        if (fail_left < n) {
            *ok = 0;
            out_errno = ENOSPC;
            return;
        }
        fail_left -= n;
    }
    if (*ok && n && fwrite(p, 1, n, f) != n) *ok = 0, out_errno = errno;
}

static void out_zeros(FILE *f, uint64_t n, int *ok)
{
    static const uint8_t zeros[256];
    while (n > 0 && *ok) {
        size_t k = n < sizeof zeros ? (size_t)n : sizeof zeros;
        out(f, zeros, k, ok);
        n -= k;
    }
}

mw_status mw_gguf_writer_write(mw_gguf_writer *w, const char *path, mw_err *err)
{
    MW_RETURN_IF(!path || !*path, err, MW_ERR_INVALID, "GGUF writer: empty path");
    uint64_t align = w->alignment;
    /* offsets: each tensor after the padded sizes of the ones before */
    uint64_t total = 0;
    for (uint64_t i = 0; i < w->n_t; i++) {
        uint64_t padded = w->t[i].bytes + pad_to(w->t[i].bytes, align);
        MW_RETURN_IF(padded > UINT64_MAX / 2 - total, err, MW_ERR_INVALID,
                     "%s: tensor data too large", path);
        total += padded;
    }

    /* the deferred tensors' buffer: the largest of them */
    uint64_t buf_bytes = 0;
    for (uint64_t i = 0; i < w->n_t; i++)
        if (w->t[i].fill && w->t[i].bytes > buf_bytes) buf_bytes = w->t[i].bytes;
    MW_RETURN_IF(buf_bytes > SIZE_MAX, err, MW_ERR_NOMEM, "%s: a tensor too large for memory", path);
    void *buf = NULL;
    if (buf_bytes) {
        buf = mw_malloc((size_t)buf_bytes, MW_MEM_OTHER);
        MW_RETURN_IF(!buf, err, MW_ERR_NOMEM, "writing %s: out of memory for a tensor of %llu bytes",
                     path, (unsigned long long)buf_bytes);
    }
    const char *fail_env = getenv("MEMWALL_FAIL_WRITE");
    fail_on = fail_env && *fail_env;
    fail_left = fail_on ? strtoull(fail_env, NULL, 10) : 0;

    char *tmp = NULL;
    int fd = -1;
    mw_status cst = mw_file_create_temp(path, &fd, &tmp, err);
    if (cst != MW_OK) {
        mw_free(buf);
        return cst;
    }
    FILE *f = fdopen(fd, "wb");
    if (!f) {
        int e = errno;
        close(fd);
        unlink(tmp);
        mw_status st = mw_err_errno(err, mw_status_from_errno(e), e, "%s: cannot write", tmp);
        mw_free(tmp);
        mw_free(buf);
        return st;
    }
    int ok = 1;
    out_errno = EIO;
    mw_status fill_st = MW_OK;
    uint32_t version = 3;
    out(f, "GGUF", 4, &ok);
    out(f, &version, 4, &ok);
    out(f, &w->n_t, 8, &ok);
    out(f, &w->n_kv, 8, &ok);
    out(f, w->kv, w->kv_len, &ok);
    uint64_t pos = 24 + w->kv_len, offset = 0;
    for (uint64_t i = 0; i < w->n_t; i++) {
        const wtensor *t = &w->t[i];
        uint64_t nlen = strlen(t->name);
        uint32_t ggml = (uint32_t)mw_dtype_get(t->dtype)->ggml_id;
        out(f, &nlen, 8, &ok);
        out(f, t->name, (size_t)nlen, &ok);
        out(f, &t->n_dims, 4, &ok);
        out(f, t->dims, t->n_dims * sizeof t->dims[0], &ok);
        out(f, &ggml, 4, &ok);
        out(f, &offset, 8, &ok);
        pos += 8 + nlen + 4 + 8ull * t->n_dims + 4 + 8;
        offset += t->bytes + pad_to(t->bytes, align);
    }
    if (w->n_t > 0) out_zeros(f, pad_to(pos, align), &ok);
    for (uint64_t i = 0; i < w->n_t && ok; i++) {
        const void *data = w->t[i].data;
        if (w->t[i].fill) {
            fill_st = w->t[i].fill(w->t[i].fill_ctx, buf, w->t[i].bytes, err);
            if (fill_st != MW_OK) break;
            data = buf;
        }
        out(f, data, (size_t)w->t[i].bytes, &ok);
        out_zeros(f, pad_to(w->t[i].bytes, align), &ok);
    }
    mw_free(buf);
    if (fill_st != MW_OK) {
        fclose(f);
        unlink(tmp);
        mw_free(tmp);
        return fill_st;
    }
    int e = ok ? 0 : out_errno;
    if (ok && fflush(f) != 0) ok = 0, e = errno;
    if (ok && fsync(fileno(f)) != 0) ok = 0, e = errno;
    if (fclose(f) != 0 && ok) ok = 0, e = errno;
    if (!ok) {
        unlink(tmp);
        mw_status st = mw_err_errno(err, mw_status_from_errno(e), e,
                                    "writing %s", path);
        mw_free(tmp);
        return st;
    }
    if (rename(tmp, path) != 0) {
        e = errno;
        unlink(tmp);
        mw_status st = mw_err_errno(err, mw_status_from_errno(e), e, "%s: cannot rename %s to it",
                                    path, tmp);
        mw_free(tmp);
        return st;
    }
    mw_free(tmp);
    return MW_OK;
}

/* ---- issue #14, sparse: tensors whose size the caller gives ---------------
 * memwall's unstructured sparse types (docs/SPARSE.md) have no fixed block
 * size: their bytes follow from the file's memwall.sparse.keep_q16, which
 * the caller sets. Checks the name, the dimensions and that bytes is what
 * the reader will compute for a sparse type (mw_dtype_bytes for the others). */
mw_status mw_gguf_writer_add_tensor_sized(mw_gguf_writer *w, const char *name, mw_dtype dtype,
                                          uint32_t n_dims, const uint64_t *dims,
                                          const void *data, uint64_t bytes, mw_err *err)
{
    MW_RETURN_IF(!name || !*name, err, MW_ERR_INVALID, "GGUF writer: tensor with an empty name");
    const mw_dtype_info *di = mw_dtype_get(dtype);
    MW_RETURN_IF(!di || di->ggml_id < 0, err, MW_ERR_INVALID,
                 "GGUF writer: tensor %s: type %s has no GGUF id", name, di ? di->name : "?");
    if (!mw_dtype_is_sparse(dtype) || mw_sparse_is_24(dtype))
        return mw_gguf_writer_add_tensor(w, name, dtype, n_dims, dims, data, err);
    MW_RETURN_IF(n_dims == 0 || n_dims > 4 || !dims, err, MW_ERR_INVALID,
                 "GGUF writer: tensor %s has %u dimensions (GGUF allows 1 to 4)", name, n_dims);
    uint64_t rows = 1;
    for (uint32_t d = 1; d < n_dims; d++) {
        MW_RETURN_IF(dims[d] == 0 || rows > (uint64_t)INT64_MAX / dims[d], err, MW_ERR_INVALID,
                     "GGUF writer: tensor %s: dimension %u is 0 or overflows", name, d);
        rows *= dims[d];
    }
    MW_RETURN_IF(dims[0] == 0 || dims[0] % MW_SPARSE_BLOCK != 0 || dims[0] >= ((uint64_t)1 << 47),
                 err, MW_ERR_INVALID,
                 "GGUF writer: tensor %s: rows of %llu inputs are not a multiple of %d", name,
                 (unsigned long long)dims[0], MW_SPARSE_BLOCK);
    MW_RETURN_IF(bytes == 0 || bytes % rows != 0 || bytes > (uint64_t)INT64_MAX, err,
                 MW_ERR_INVALID, "GGUF writer: tensor %s: %llu bytes are not %llu equal rows", name,
                 (unsigned long long)bytes, (unsigned long long)rows);
    /* add it as a dense 2:4 tensor of the same shape (same checks), then
     * give it its own type and size */
    MW_FORWARD(mw_gguf_writer_add_tensor(w, name, MW_DTYPE_F32_S24, n_dims, dims, data, err));
    w->t[w->n_t - 1].dtype = dtype;
    w->t[w->n_t - 1].bytes = bytes;
    return MW_OK;
}
