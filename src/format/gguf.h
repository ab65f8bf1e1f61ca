/*
 * gguf.h - GGUF v2/v3 files: read (memory-mapped, zero-copy) and write.
 *
 * The reader trusts nothing: every count, length, offset and size is checked
 * against the file and for overflow, and an error names what is wrong and the
 * byte offset where it was found.
 */
#ifndef MW_FORMAT_GGUF_H
#define MW_FORMAT_GGUF_H

#include "memwall.h"

typedef enum mw_gguf_type {
    MW_GGUF_U8 = 0, MW_GGUF_I8 = 1, MW_GGUF_U16 = 2, MW_GGUF_I16 = 3,
    MW_GGUF_U32 = 4, MW_GGUF_I32 = 5, MW_GGUF_F32 = 6, MW_GGUF_BOOL = 7,
    MW_GGUF_STRING = 8, MW_GGUF_ARRAY = 9, MW_GGUF_U64 = 10, MW_GGUF_I64 = 11,
    MW_GGUF_F64 = 12
} mw_gguf_type;

typedef struct mw_gguf mw_gguf;

/* One metadata value, pointing into the mapping (strings are not
 * NUL-terminated: use len). Arrays give their element type and count and
 * the position of their first element. */
typedef struct mw_gguf_value {
    mw_gguf_type type;
    union {
        uint64_t u;              /* U8..U64, BOOL */
        int64_t  i;              /* I8..I64 */
        double   f;              /* F32, F64 */
        struct { const char *ptr; uint64_t len; } str;
        struct { mw_gguf_type type; uint64_t count; const uint8_t *data; } arr;
    } v;
} mw_gguf_value;

typedef struct mw_gguf_kv {
    const char *key;             /* not NUL-terminated: key_len */
    uint64_t key_len;
    mw_gguf_value value;
} mw_gguf_kv;

mw_status mw_gguf_open(const char *path, mw_gguf **out, mw_err *err);
/* Parses a GGUF image already in memory (the fuzz target's entry). The
 * bytes must outlive the handle. */
mw_status mw_gguf_open_memory(const void *data, size_t size, mw_gguf **out, mw_err *err);
void mw_gguf_close(mw_gguf *g);

uint32_t mw_gguf_version(const mw_gguf *g);
uint64_t mw_gguf_kv_count(const mw_gguf *g);
const mw_gguf_kv *mw_gguf_kv_at(const mw_gguf *g, uint64_t i);
/* NULL when absent. */
const mw_gguf_kv *mw_gguf_find(const mw_gguf *g, const char *key);
/* Typed getters: 1 when present with a compatible type. */
int mw_gguf_get_u64(const mw_gguf *g, const char *key, uint64_t *out);
int mw_gguf_get_f64(const mw_gguf *g, const char *key, double *out);
/* Copies a string value into buf (truncating); 1 when present. */
int mw_gguf_get_str(const mw_gguf *g, const char *key, char *buf, size_t cap);

uint64_t mw_gguf_alignment(const mw_gguf *g);
uint64_t mw_gguf_data_offset(const mw_gguf *g);  /* start of tensor data */
uint64_t mw_gguf_tensor_count(const mw_gguf *g);
/* The i-th tensor: name, type, dims in GGUF order (dims[0] contiguous),
 * offset relative to the data section, byte size. */
typedef struct mw_gguf_tensor {
    const char *name;            /* not NUL-terminated: name_len */
    uint64_t name_len;
    mw_dtype dtype;
    uint32_t n_dims;
    uint64_t dims[4];
    uint64_t offset;
    uint64_t bytes;
    const void *data;            /* into the mapping */
} mw_gguf_tensor;
const mw_gguf_tensor *mw_gguf_tensor_at(const mw_gguf *g, uint64_t i);

/* Fills an mw_model (tensors in PyTorch order, hparams from the
 * "<arch>.*" keys). The model keeps the mapping alive. */
mw_status mw_gguf_open_model(const char *path, mw_model **out, mw_err *err);
/* The GGUF a model was opened from (mw_gguf_open_model); NULL for a model
 * from another source. */
const mw_gguf *mw_gguf_of_model(const mw_model *m);

/* ---- helpers ------------------------------------------------------------ */

/* Limits of the reader: arrays nest at most this deep (an array of arrays
 * is 2), tensor names are at most MW_GGUF_MAX_NAME bytes (ggml's own limit
 * is 63), keys at most MW_GGUF_MAX_KEY bytes (the spec's limit). */
#define MW_GGUF_MAX_DEPTH 8
#define MW_GGUF_MAX_NAME 256
#define MW_GGUF_MAX_KEY 65535

/* "u8", "string", "array", ... ("?" for a value out of range). */
const char *mw_gguf_type_name(mw_gguf_type t);

/*! mw_gguf_array_elem() : decodes the element at pos of an array whose
 *  elements are of type elem (an mw_gguf_value's v.arr, as returned by the
 *  reader: already checked) into *out.
 *  @return the position of the next element. Walk an array as
 *      const uint8_t *p = v->v.arr.data;
 *      for (uint64_t i = 0; i < v->v.arr.count; i++) p = mw_gguf_array_elem(v->v.arr.type, p, &e); */
const uint8_t *mw_gguf_array_elem(mw_gguf_type elem, const uint8_t *pos, mw_gguf_value *out);

/* The tensor named name (NUL-terminated); NULL when absent. */
const mw_gguf_tensor *mw_gguf_find_tensor(const mw_gguf *g, const char *name);

/*! mw_gguf_value_check() : checks that bytes hold exactly one value of type
 *  in its GGUF encoding (what follows the type field), as the reader would. */
mw_status mw_gguf_value_check(mw_gguf_type type, const void *bytes, size_t len, mw_err *err);

/*! mw_gguf_to_model() : the mw_model of an open file (what
 *  mw_gguf_open_model does after opening). Takes g in every case: the
 *  model keeps it (mw_model_free closes it), and on error it is closed. */
mw_status mw_gguf_to_model(mw_gguf *g, const char *path, mw_model **out, mw_err *err);

/* ---- writer ------------------------------------------------------------ */

typedef struct mw_gguf_writer mw_gguf_writer;

/* Version 3, alignment 32 unless general.alignment is set before the first
 * tensor. */
mw_status mw_gguf_writer_init(mw_gguf_writer **out, mw_err *err);
void mw_gguf_writer_free(mw_gguf_writer *w);
mw_status mw_gguf_writer_set_u32(mw_gguf_writer *w, const char *key, uint32_t v, mw_err *err);
mw_status mw_gguf_writer_set_u64(mw_gguf_writer *w, const char *key, uint64_t v, mw_err *err);
mw_status mw_gguf_writer_set_i32(mw_gguf_writer *w, const char *key, int32_t v, mw_err *err);
mw_status mw_gguf_writer_set_f32(mw_gguf_writer *w, const char *key, float v, mw_err *err);
mw_status mw_gguf_writer_set_bool(mw_gguf_writer *w, const char *key, int v, mw_err *err);
mw_status mw_gguf_writer_set_str(mw_gguf_writer *w, const char *key, const char *v, mw_err *err);
/* An array of strings, or of a numeric element type (elem_size bytes each). */
mw_status mw_gguf_writer_set_str_array(mw_gguf_writer *w, const char *key,
                                       const char *const *v, uint64_t n, mw_err *err);
mw_status mw_gguf_writer_set_array(mw_gguf_writer *w, const char *key, mw_gguf_type elem,
                                   const void *v, uint64_t n, mw_err *err);
/* Any scalar type (not STRING or ARRAY): v points at a value of the
 * matching C type (uint8_t for U8 and BOOL, int16_t for I16, float for F32,
 * double for F64, ...). */
mw_status mw_gguf_writer_set_scalar(mw_gguf_writer *w, const char *key, mw_gguf_type type,
                                    const void *v, mw_err *err);
/* A value given in its GGUF encoding (what follows the type field), checked
 * with mw_gguf_value_check: arrays of arrays, for one. llama.cpp's own
 * reader refuses nested arrays: keep them out of files meant for it. */
mw_status mw_gguf_writer_set_raw(mw_gguf_writer *w, const char *key, mw_gguf_type type,
                                 const void *bytes, size_t len, mw_err *err);
/* Adds a tensor: dims in GGUF order; data of mw_dtype_bytes() bytes is
 * copied when the file is written (the pointer must stay valid until then). */
mw_status mw_gguf_writer_add_tensor(mw_gguf_writer *w, const char *name, mw_dtype dtype,
                                    uint32_t n_dims, const uint64_t *dims, const void *data,
                                    mw_err *err);
/* issue #14, sparse: adds a tensor of bytes bytes (memwall's unstructured
 * sparse types, whose size depends on memwall.sparse.keep_q16; any other
 * type as mw_gguf_writer_add_tensor, bytes ignored). */
mw_status mw_gguf_writer_add_tensor_sized(mw_gguf_writer *w, const char *name, mw_dtype dtype,
                                          uint32_t n_dims, const uint64_t *dims,
                                          const void *data, uint64_t bytes, mw_err *err);
/* Writes the file: to a new temporary beside it (path.tmp.<random>, made
 * with O_EXCL|O_NOFOLLOW, removed on failure), then renamed over path (a
 * link at path is replaced, never followed). */
mw_status mw_gguf_writer_write(mw_gguf_writer *w, const char *path, mw_err *err);
/* ---- convert (issue #14): deferred tensors --------------------------------
 * mw_gguf_writer_add_tensor_fn() : a tensor whose bytes are made only when
 * the file is written: fill(ctx, dst, bytes, err) writes its `bytes` bytes
 * into dst (a buffer the writer holds, the size of the largest deferred
 * tensor) and returns MW_OK, or an error that stops the write (no file and
 * no temporary left). bytes 0: mw_dtype_bytes of dtype and dims (a type
 * whose size is not that, as the sparse ones, gives it). Tensors are
 * filled in the order added. */
typedef mw_status (*mw_gguf_fill_fn)(void *ctx, void *dst, uint64_t bytes, mw_err *err);
mw_status mw_gguf_writer_add_tensor_fn(mw_gguf_writer *w, const char *name, mw_dtype dtype,
                                       uint32_t n_dims, const uint64_t *dims, uint64_t bytes,
                                       mw_gguf_fill_fn fill, void *ctx, mw_err *err);

#endif /* MW_FORMAT_GGUF_H */
