/*
 * gguf.c - the GGUF v2/v3 reader (the format as ggml's docs/gguf.md
 * specifies it).
 *
 * The file is mapped read-only and parsed in place: keys, strings, arrays
 * and tensor data are pointers into the mapping. Nothing in the file is
 * trusted. Every read goes through a cursor that checks the bytes left; a
 * count is checked against the bytes its smallest possible elements would
 * need before anything is allocated for it; tables grow only as entries
 * are actually parsed, so memory stays proportional to what the file holds.
 *
 *   header   "GGUF" u32 version, u64 n_tensors, u64 n_kv      (24 bytes)
 *   n_kv     key (u64 len + bytes), u32 type, value
 *   n_tensor name, u32 n_dims, u64 dims[n_dims], u32 ggml type, u64 offset
 *   padding  to the alignment (when there are tensors)
 *   data     each tensor at data_offset + offset
 */
#include "format/gguf.h"
#include "format/model_build.h"
#include "common/error.h"
#include "common/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "gguf.c reads little-endian files on a little-endian host"
#endif

#define GGUF_DEFAULT_ALIGNMENT 32
/* Smallest kv: key length (8) + a 1-byte key + type (4) + a 1-byte value. */
#define GGUF_MIN_KV_BYTES 14
/* Smallest tensor info: name length (8) + 1-byte name + n_dims (4) + one
 * dim (8) + type (4) + offset (8). */
#define GGUF_MIN_TENSOR_BYTES 33
/* Longest name or key quoted in an error message. */
#define SHOWN_CAP 80

struct mw_gguf {
    struct mw_model_impl impl;   /* first: a model's impl (mw_gguf_to_model) */
    const uint8_t *data;         /* the image: mapping or caller's bytes */
    uint64_t size;
    void *map;                   /* munmap(map, size) on close; NULL: not ours */
    char *name;                  /* path, for messages */
    uint32_t version;
    uint64_t alignment;
    uint64_t data_offset;
    uint64_t n_kv;
    mw_gguf_kv *kv;              /* n_kv, file order */
    uint64_t n_tensors;
    mw_gguf_tensor *tensors;     /* n_tensors, file order */
};

/* ---- small helpers ------------------------------------------------------ */

static const uint8_t scalar_bytes[13] = {
    [MW_GGUF_U8] = 1, [MW_GGUF_I8] = 1, [MW_GGUF_U16] = 2, [MW_GGUF_I16] = 2,
    [MW_GGUF_U32] = 4, [MW_GGUF_I32] = 4, [MW_GGUF_F32] = 4, [MW_GGUF_BOOL] = 1,
    [MW_GGUF_STRING] = 0, [MW_GGUF_ARRAY] = 0,
    [MW_GGUF_U64] = 8, [MW_GGUF_I64] = 8, [MW_GGUF_F64] = 8,
};

const char *mw_gguf_type_name(mw_gguf_type t)
{
    static const char *const names[13] = {"u8", "i8", "u16", "i16", "u32", "i32", "f32",
                                          "bool", "string", "array", "u64", "i64", "f64"};
    return (unsigned)t < 13 ? names[t] : "?";
}

static uint32_t load_u32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

static uint64_t load_u64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* A name from the file, fit for a message (mw_shown: escapes as '?', cut
 * with "..."). buf holds SHOWN_CAP bytes. */
static const char *shown(const char *p, uint64_t len, char *buf)
{
    return mw_shown(p, len < SIZE_MAX ? (size_t)len : SIZE_MAX, buf, SHOWN_CAP);
}

/* ---- the cursor ----------------------------------------------------------- */

typedef struct cur {
    const uint8_t *p;
    uint64_t size;
    uint64_t pos;
    const char *name;            /* the file, for messages */
} cur;

static uint64_t left(const cur *c) { return c->size - c->pos; }

/* n more bytes must be there for pre + what (a phrase in two parts, so hot
 * loops format nothing unless it fails: "the string of " "kv 3 (a.b)"). */
static mw_status need(cur *c, uint64_t n, const char *pre, const char *what, mw_err *err)
{
    if (n <= left(c)) return MW_OK;
    return mw_err_set(err, MW_ERR_INVALID,
                      "%s: truncated: %s%s at offset %llu needs %llu bytes, only %llu left "
                      "(file is %llu bytes)",
                      c->name, pre, what, (unsigned long long)c->pos, (unsigned long long)n,
                      (unsigned long long)left(c), (unsigned long long)c->size);
}

static mw_status rd_u32(cur *c, uint32_t *v, const char *pre, const char *what, mw_err *err)
{
    MW_FORWARD(need(c, 4, pre, what, err));
    *v = load_u32(c->p + c->pos);
    c->pos += 4;
    return MW_OK;
}

static mw_status rd_u64(cur *c, uint64_t *v, const char *pre, const char *what, mw_err *err)
{
    MW_FORWARD(need(c, 8, pre, what, err));
    *v = load_u64(c->p + c->pos);
    c->pos += 8;
    return MW_OK;
}

/* A gguf_string: u64 length, then that many bytes (bounded by what is left). */
static mw_status rd_str(cur *c, const char **s, uint64_t *len, const char *pre, const char *what,
                        mw_err *err)
{
    uint64_t at = c->pos;
    MW_FORWARD(rd_u64(c, len, pre, what, err));
    if (*len > left(c)) {
        c->pos = at;
        return mw_err_set(err, MW_ERR_INVALID,
                          "%s: %s%s at offset %llu has length %llu, more than the %llu bytes left "
                          "in the file (%llu bytes)",
                          c->name, pre, what, (unsigned long long)at, (unsigned long long)*len,
                          (unsigned long long)(left(c) - 8), (unsigned long long)c->size);
    }
    *s = (const char *)(c->p + c->pos);
    c->pos += *len;
    return MW_OK;
}

/* ---- values ---------------------------------------------------------------- */

/* Checks one value of `type` at the cursor and steps over it. `what` names
 * the kv ("kv 3 (general.name)"); depth counts the arrays around it. */
static mw_status parse_value(cur *c, uint32_t type, unsigned depth, const char *what, mw_err *err)
{
    uint64_t at = c->pos;
    if (type > MW_GGUF_F64)
        return mw_err_set(err, MW_ERR_INVALID,
                          "%s: %s: unknown value type %u before offset %llu (GGUF types are "
                          "0-12)",
                          c->name, what, type, (unsigned long long)at);
    if (type == MW_GGUF_STRING) {
        const char *s;
        uint64_t len;
        return rd_str(c, &s, &len, "the string of ", what, err);
    }
    if (type != MW_GGUF_ARRAY) {
        uint64_t n = scalar_bytes[type];
        if (n > left(c)) {
            char pre[32];
            snprintf(pre, sizeof pre, "the %s value of ", mw_gguf_type_name((mw_gguf_type)type));
            return need(c, n, pre, what, err);
        }
        if (type == MW_GGUF_BOOL && c->p[at] > 1)
            return mw_err_set(err, MW_ERR_INVALID,
                              "%s: %s: bool at offset %llu is %u (must be 0 or 1)", c->name,
                              what, (unsigned long long)at, c->p[at]);
        c->pos += n;
        return MW_OK;
    }
    if (depth + 1 > MW_GGUF_MAX_DEPTH)
        return mw_err_set(err, MW_ERR_INVALID,
                          "%s: %s: arrays nested deeper than %d levels at offset %llu", c->name,
                          what, MW_GGUF_MAX_DEPTH, (unsigned long long)at);
    uint32_t elem;
    uint64_t count;
    MW_FORWARD(rd_u32(c, &elem, "the array header of ", what, err));
    MW_FORWARD(rd_u64(c, &count, "the array header of ", what, err));
    if (elem > MW_GGUF_F64)
        return mw_err_set(err, MW_ERR_INVALID,
                          "%s: %s: array at offset %llu has unknown element type %u (GGUF types "
                          "are 0-12)",
                          c->name, what, (unsigned long long)at, elem);
    /* The least each element can take: a hostile count fails here. */
    uint64_t min = elem == MW_GGUF_STRING ? 8 : elem == MW_GGUF_ARRAY ? 12 : scalar_bytes[elem];
    if (count > left(c) / min)
        return mw_err_set(err, MW_ERR_INVALID,
                          "%s: %s: array at offset %llu claims %llu %s elements (at least %llu "
                          "bytes each) but only %llu bytes are left in the file (%llu bytes)",
                          c->name, what, (unsigned long long)at, (unsigned long long)count,
                          mw_gguf_type_name((mw_gguf_type)elem), (unsigned long long)min,
                          (unsigned long long)left(c), (unsigned long long)c->size);
    if (elem == MW_GGUF_BOOL) {
        for (uint64_t i = 0; i < count; i++) {
            uint8_t b = c->p[c->pos + i];
            if (b > 1)
                return mw_err_set(err, MW_ERR_INVALID,
                                  "%s: %s: bool %llu of the array at offset %llu is %u (must be "
                                  "0 or 1)",
                                  c->name, what, (unsigned long long)i, (unsigned long long)at, b);
        }
    }
    if (elem != MW_GGUF_STRING && elem != MW_GGUF_ARRAY) {
        c->pos += count * min;
        return MW_OK;
    }
    for (uint64_t i = 0; i < count; i++) MW_FORWARD(parse_value(c, elem, depth + 1, what, err));
    return MW_OK;
}

/* Decodes a checked value of type at p; returns the position after it. */
static const uint8_t *decode_value(mw_gguf_type type, const uint8_t *p, mw_gguf_value *out)
{
    memset(out, 0, sizeof *out);
    out->type = type;
    switch (type) {
    case MW_GGUF_U8: case MW_GGUF_BOOL: out->v.u = p[0]; return p + 1;
    case MW_GGUF_I8: out->v.i = (int8_t)p[0]; return p + 1;
    case MW_GGUF_U16: { uint16_t x; memcpy(&x, p, 2); out->v.u = x; return p + 2; }
    case MW_GGUF_I16: { int16_t x; memcpy(&x, p, 2); out->v.i = x; return p + 2; }
    case MW_GGUF_U32: out->v.u = load_u32(p); return p + 4;
    case MW_GGUF_I32: { int32_t x; memcpy(&x, p, 4); out->v.i = x; return p + 4; }
    case MW_GGUF_F32: { float x; memcpy(&x, p, 4); out->v.f = x; return p + 4; }
    case MW_GGUF_U64: out->v.u = load_u64(p); return p + 8;
    case MW_GGUF_I64: { int64_t x; memcpy(&x, p, 8); out->v.i = x; return p + 8; }
    case MW_GGUF_F64: { double x; memcpy(&x, p, 8); out->v.f = x; return p + 8; }
    case MW_GGUF_STRING:
        out->v.str.len = load_u64(p);
        out->v.str.ptr = (const char *)p + 8;
        return p + 8 + out->v.str.len;
    case MW_GGUF_ARRAY: {
        out->v.arr.type = (mw_gguf_type)load_u32(p);
        out->v.arr.count = load_u64(p + 4);
        out->v.arr.data = p + 12;
        mw_gguf_type et = out->v.arr.type;
        if (et != MW_GGUF_STRING && et != MW_GGUF_ARRAY)
            return out->v.arr.data + out->v.arr.count * scalar_bytes[et];
        const uint8_t *q = out->v.arr.data;
        mw_gguf_value e;
        for (uint64_t i = 0; i < out->v.arr.count; i++) q = decode_value(et, q, &e);
        return q;
    }
    }
    return p; /* not reached: types are checked when parsed */
}

const uint8_t *mw_gguf_array_elem(mw_gguf_type elem, const uint8_t *pos, mw_gguf_value *out)
{
    return decode_value(elem, pos, out);
}

mw_status mw_gguf_value_check(mw_gguf_type type, const void *bytes, size_t len, mw_err *err)
{
    cur c = {bytes, len, 0, "value"};
    MW_RETURN_IF(!bytes && len, err, MW_ERR_INVALID, "value: NULL bytes");
    MW_FORWARD(parse_value(&c, (uint32_t)type, 0, mw_gguf_type_name(type), err));
    MW_RETURN_IF(c.pos != len, err, MW_ERR_INVALID,
                 "value: a %s takes %llu bytes but %zu were given", mw_gguf_type_name(type),
                 (unsigned long long)c.pos, len);
    return MW_OK;
}

/* ---- duplicates -------------------------------------------------------------- */

/* Names are checked for duplicates by sorting (n log n whatever the bytes:
 * a hash table could be flooded by a crafted file). */
typedef struct name_ref {
    const char *p;
    uint64_t len;
    uint64_t index;
} name_ref;

static int name_cmp(const void *a, const void *b)
{
    const name_ref *x = a, *y = b;
    if (x->len != y->len) return x->len < y->len ? -1 : 1;
    int c = memcmp(x->p, y->p, (size_t)x->len);
    if (c) return c;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* The first repeated name among n (name, len) pairs found at stride bytes
 * from each other: 1 and *first, *again (the indexes), else 0. */
static mw_status find_duplicate(const void *base, uint64_t n, size_t stride, size_t len_off,
                                int *found, uint64_t *first, uint64_t *again, const char *name,
                                mw_err *err)
{
    *found = 0;
    if (n < 2) return MW_OK;
    MW_RETURN_IF(n > SIZE_MAX / sizeof(name_ref), err, MW_ERR_NOMEM, "%s: too many names", name);
    name_ref *r = mw_malloc((size_t)n * sizeof *r, MW_MEM_OTHER);
    MW_RETURN_IF(!r, err, MW_ERR_NOMEM, "%s: out of memory checking %llu names", name,
                 (unsigned long long)n);
    for (uint64_t i = 0; i < n; i++) {
        const char *e = (const char *)base + i * stride;
        memcpy(&r[i].p, e, sizeof r[i].p); /* the name pointer is each entry's first member */
        memcpy(&r[i].len, e + len_off, sizeof r[i].len);
        r[i].index = i;
    }
    qsort(r, (size_t)n, sizeof *r, name_cmp);
    for (uint64_t i = 1; i < n; i++) {
        if (r[i].len == r[i - 1].len && !memcmp(r[i].p, r[i - 1].p, (size_t)r[i].len)) {
            /* report the first repeat in file order: for a name at a < b < c
             * the pairs are (a, b) and (b, c) */
            if (!*found || r[i].index < *again) {
                *found = 1;
                *first = r[i - 1].index;
                *again = r[i].index;
            }
        }
    }
    mw_free(r);
    return MW_OK;
}

static mw_status check_keys(const mw_gguf *g, mw_err *err)
{
    int dup;
    uint64_t a, b;
    MW_FORWARD(find_duplicate(g->kv, g->n_kv, sizeof *g->kv, offsetof(mw_gguf_kv, key_len), &dup,
                              &a, &b, g->name, err));
    if (!dup) return MW_OK;
    const mw_gguf_kv *kv = &g->kv[b];
    char sb[SHOWN_CAP];
    return mw_err_set(err, MW_ERR_INVALID,
                      "%s: duplicate key \"%s\": kv %llu repeats kv %llu (kv at offset %llu)",
                      g->name, shown(kv->key, kv->key_len, sb), (unsigned long long)b,
                      (unsigned long long)a,
                      (unsigned long long)((const uint8_t *)kv->key - g->data - 8));
}

static mw_status check_tensor_names(const mw_gguf *g, mw_err *err)
{
    int dup;
    uint64_t a, b;
    MW_FORWARD(find_duplicate(g->tensors, g->n_tensors, sizeof *g->tensors,
                              offsetof(mw_gguf_tensor, name_len), &dup, &a, &b, g->name, err));
    if (!dup) return MW_OK;
    const mw_gguf_tensor *t = &g->tensors[b];
    char sb[SHOWN_CAP];
    return mw_err_set(err, MW_ERR_INVALID,
                      "%s: duplicate tensor name \"%s\": tensor %llu repeats tensor %llu (tensor "
                      "info at offset %llu)",
                      g->name, shown(t->name, t->name_len, sb), (unsigned long long)b,
                      (unsigned long long)a,
                      (unsigned long long)((const uint8_t *)t->name - g->data - 8));
}

/* ---- parsing --------------------------------------------------------------- */

/* Grows a table of elem-byte entries to hold n+1, doubling up to max. */
static mw_status grow(void **table, uint64_t n, uint64_t max, size_t elem, const char *name,
                      mw_err *err)
{
    /* capacity: 64, then doubling, never beyond max: full when n is 64 * 2^k or 0 */
    if (n != 0 && (n < 64 || (n & (n - 1)) != 0)) return MW_OK;
    uint64_t cap = n == 0 ? 64 : n * 2;
    if (cap > max) cap = max;
    MW_RETURN_IF(cap > SIZE_MAX / elem, err, MW_ERR_NOMEM, "%s: table of %llu entries too large",
                 name, (unsigned long long)cap);
    void *t = mw_realloc(*table, (size_t)(cap * elem), MW_MEM_OTHER);
    MW_RETURN_IF(!t, err, MW_ERR_NOMEM, "%s: out of memory reading the file's tables", name);
    *table = t;
    return MW_OK;
}

static mw_status parse_header(mw_gguf *g, cur *c, mw_err *err)
{
    MW_RETURN_IF(g->size == 0, err, MW_ERR_INVALID, "%s: empty file (0 bytes), not a GGUF file",
                 g->name);
    MW_RETURN_IF(g->size < 4 || memcmp(g->data, "GGUF", 4) != 0, err, MW_ERR_INVALID,
                 "%s: not a GGUF file: bad magic at offset 0 (expected \"GGUF\")", g->name);
    c->pos = 4;
    MW_FORWARD(rd_u32(c, &g->version, "the version", "", err));
    uint32_t v = g->version;
    MW_RETURN_IF(v == 1, err, MW_ERR_UNSUPPORTED,
                 "%s: GGUF version 1 (offset 4) is not supported: memwall reads versions 2 and "
                 "3 (re-convert the model with a current llama.cpp)",
                 g->name);
    MW_RETURN_IF(v != 0 && (v & 0xffffu) == 0, err, MW_ERR_UNSUPPORTED,
                 "%s: GGUF version %u (offset 4) looks byte-swapped: a big-endian file? memwall "
                 "reads little-endian versions 2 and 3",
                 g->name, v);
    MW_RETURN_IF(v != 2 && v != 3, err, MW_ERR_UNSUPPORTED,
                 "%s: unsupported GGUF version %u (offset 4): memwall reads versions 2 and 3",
                 g->name, v);
    MW_FORWARD(rd_u64(c, &g->n_tensors, "the tensor count", "", err));
    MW_FORWARD(rd_u64(c, &g->n_kv, "the metadata kv count", "", err));
    MW_RETURN_IF(g->n_kv > left(c) / GGUF_MIN_KV_BYTES, err, MW_ERR_INVALID,
                 "%s: metadata kv count %llu (offset 16) is impossible: each kv takes at least "
                 "%d bytes and only %llu bytes follow the header",
                 g->name, (unsigned long long)g->n_kv, GGUF_MIN_KV_BYTES,
                 (unsigned long long)left(c));
    MW_RETURN_IF(g->n_tensors > left(c) / GGUF_MIN_TENSOR_BYTES, err, MW_ERR_INVALID,
                 "%s: tensor count %llu (offset 8) is impossible: each tensor info takes at "
                 "least %d bytes and only %llu bytes follow the header",
                 g->name, (unsigned long long)g->n_tensors, GGUF_MIN_TENSOR_BYTES,
                 (unsigned long long)left(c));
    return MW_OK;
}

static mw_status parse_kvs(mw_gguf *g, cur *c, mw_err *err)
{
    uint64_t n = g->n_kv;
    g->n_kv = 0; /* counts the parsed ones */
    for (uint64_t i = 0; i < n; i++) {
        void *tab = g->kv;
        MW_FORWARD(grow(&tab, i, n, sizeof *g->kv, g->name, err));
        g->kv = tab;
        mw_gguf_kv *kv = &g->kv[i];
        char w[SHOWN_CAP + 40], b[SHOWN_CAP];
        snprintf(w, sizeof w, "kv %llu", (unsigned long long)i);
        uint64_t at = c->pos;
        MW_FORWARD(rd_str(c, &kv->key, &kv->key_len, "the key of ", w, err));
        MW_RETURN_IF(kv->key_len == 0, err, MW_ERR_INVALID, "%s: kv %llu at offset %llu has an empty key",
                     g->name, (unsigned long long)i, (unsigned long long)at);
        MW_RETURN_IF(kv->key_len > MW_GGUF_MAX_KEY, err, MW_ERR_INVALID,
                     "%s: kv %llu at offset %llu: key of %llu bytes (at most %d)", g->name,
                     (unsigned long long)i, (unsigned long long)at,
                     (unsigned long long)kv->key_len, MW_GGUF_MAX_KEY);
        snprintf(w, sizeof w, "kv %llu (%s)", (unsigned long long)i,
                 shown(kv->key, kv->key_len, b));
        uint32_t type;
        MW_FORWARD(rd_u32(c, &type, "the value type of ", w, err));
        const uint8_t *val = c->p + c->pos;
        MW_FORWARD(parse_value(c, type, 0, w, err));
        decode_value((mw_gguf_type)type, val, &kv->value);
        g->n_kv = i + 1;
    }
    MW_FORWARD(check_keys(g, err));

    g->alignment = GGUF_DEFAULT_ALIGNMENT;
    const mw_gguf_kv *a = mw_gguf_find(g, "general.alignment");
    if (a) {
        uint64_t off = (uint64_t)((const uint8_t *)a->key - g->data - 8);
        MW_RETURN_IF(a->value.type != MW_GGUF_U32, err, MW_ERR_INVALID,
                     "%s: general.alignment (kv at offset %llu) is a %s; it must be a u32",
                     g->name, (unsigned long long)off, mw_gguf_type_name(a->value.type));
        uint64_t al = a->value.v.u;
        MW_RETURN_IF(al == 0 || (al & (al - 1)) != 0, err, MW_ERR_INVALID,
                     "%s: general.alignment (kv at offset %llu) is %llu; it must be a non-zero "
                     "power of two",
                     g->name, (unsigned long long)off, (unsigned long long)al);
        g->alignment = al;
    }
    return MW_OK;
}

/* ---- issue #14, sparse: the bytes of memwall's sparse types --------------
 * (docs/SPARSE.md) 2:4 tensors have fixed blocks; an unstructured (_SU)
 * tensor's rows keep the file's memwall.sparse.keep_q16 share of their k
 * inputs, so its size needs that key: a file without it (or with a bad one)
 * is refused here, naming the tensor and the key. */
static mw_status sparse_bytes(const mw_gguf *g, mw_gguf_tensor *t, uint64_t elems, const char *w,
                              mw_err *err)
{
    const mw_dtype_info *di = mw_dtype_get(t->dtype);
    uint64_t k = t->dims[0], rows = elems / k;
    MW_RETURN_IF(k % MW_SPARSE_BLOCK != 0, err, MW_ERR_INVALID,
                 "%s: %s: rows of %llu inputs are not a multiple of %d (the %s blocks)", g->name,
                 w, (unsigned long long)k, MW_SPARSE_BLOCK, di->name);
    if (mw_sparse_is_24(t->dtype)) return MW_OK; /* mw_dtype_bytes has sized it */
    const mw_gguf_kv *kv = mw_gguf_find(g, MW_GGUF_SPARSE_KEEP_KEY);
    MW_RETURN_IF(!kv, err, MW_ERR_INVALID,
                 "%s: %s is of unstructured sparse type %s but the file has no %s key (the "
                 "values kept per row): not a valid memwall sparse file",
                 g->name, w, di->name, MW_GGUF_SPARSE_KEEP_KEY);
    MW_RETURN_IF(kv->value.type != MW_GGUF_U32 || kv->value.v.u == 0 || kv->value.v.u > 65536,
                 err, MW_ERR_INVALID,
                 "%s: %s (needed by %s, type %s) must be a u32 in 1..65536 (the kept share in "
                 "1/65536 units); it is a %s%s",
                 g->name, MW_GGUF_SPARSE_KEEP_KEY, w, di->name,
                 mw_gguf_type_name(kv->value.type),
                 kv->value.type == MW_GGUF_U32 ? " out of range" : "");
    MW_RETURN_IF(k >= ((uint64_t)1 << 47), err, MW_ERR_INVALID,
                 "%s: %s: rows of %llu inputs are too long for a sparse type", g->name, w,
                 (unsigned long long)k);
    int64_t keep = mw_sparse_row_keep((int64_t)k, (uint32_t)kv->value.v.u);
    MW_RETURN_IF(keep <= 0, err, MW_ERR_INVALID,
                 "%s: %s: %s %u keeps no value of its rows of %llu inputs", g->name, w,
                 MW_GGUF_SPARSE_KEEP_KEY, (unsigned)kv->value.v.u, (unsigned long long)k);
    uint64_t rb = mw_sparse_row_bytes(t->dtype, (int64_t)k, keep);
    MW_RETURN_IF(rb == 0 || rows > (UINT64_MAX - 1) / rb, err, MW_ERR_INVALID,
                 "%s: %s: %llu rows of %s overflow a 64-bit byte size", g->name, w,
                 (unsigned long long)rows, di->name);
    t->bytes = rows * rb;
    return MW_OK;
}

static mw_status parse_tensor_infos(mw_gguf *g, cur *c, mw_err *err)
{
    uint64_t n = g->n_tensors;
    /* checked again now that the kvs are read */
    MW_RETURN_IF(n > left(c) / GGUF_MIN_TENSOR_BYTES, err, MW_ERR_INVALID,
                 "%s: tensor count %llu (offset 8) is impossible: each tensor info takes at "
                 "least %d bytes and only %llu bytes follow the metadata (offset %llu)",
                 g->name, (unsigned long long)n, GGUF_MIN_TENSOR_BYTES,
                 (unsigned long long)left(c), (unsigned long long)c->pos);
    g->n_tensors = 0;
    for (uint64_t i = 0; i < n; i++) {
        void *tab = g->tensors;
        MW_FORWARD(grow(&tab, i, n, sizeof *g->tensors, g->name, err));
        g->tensors = tab;
        mw_gguf_tensor *t = &g->tensors[i];
        memset(t, 0, sizeof *t);
        char w[SHOWN_CAP + 40], b[SHOWN_CAP];
        snprintf(w, sizeof w, "tensor %llu", (unsigned long long)i);
        uint64_t at = c->pos;
        MW_FORWARD(rd_str(c, &t->name, &t->name_len, "the name of ", w, err));
        MW_RETURN_IF(t->name_len == 0, err, MW_ERR_INVALID,
                     "%s: tensor %llu at offset %llu has an empty name", g->name,
                     (unsigned long long)i, (unsigned long long)at);
        MW_RETURN_IF(t->name_len > MW_GGUF_MAX_NAME, err, MW_ERR_INVALID,
                     "%s: tensor %llu at offset %llu: name of %llu bytes (at most %d)", g->name,
                     (unsigned long long)i, (unsigned long long)at,
                     (unsigned long long)t->name_len, MW_GGUF_MAX_NAME);
        MW_RETURN_IF(memchr(t->name, 0, (size_t)t->name_len) != NULL, err, MW_ERR_INVALID,
                     "%s: tensor %llu at offset %llu: name \"%s\" holds a NUL byte", g->name,
                     (unsigned long long)i, (unsigned long long)at,
                     shown(t->name, t->name_len, b));
        const char *nm = shown(t->name, t->name_len, b);
        snprintf(w, sizeof w, "tensor %llu (%s)", (unsigned long long)i, nm);
        at = c->pos;
        MW_FORWARD(rd_u32(c, &t->n_dims, "the dimension count of ", w, err));
        MW_RETURN_IF(t->n_dims == 0 || t->n_dims > 4, err, MW_ERR_INVALID,
                     "%s: %s at offset %llu has %u dimensions (GGUF allows 1 to 4)", g->name, w,
                     (unsigned long long)at, t->n_dims);
        uint64_t elems = 1;
        for (uint32_t d = 0; d < t->n_dims; d++) {
            at = c->pos;
            MW_FORWARD(rd_u64(c, &t->dims[d], "a dimension of ", w, err));
            MW_RETURN_IF(t->dims[d] == 0, err, MW_ERR_INVALID,
                         "%s: %s: dimension %u at offset %llu is 0 (must be at least 1)", g->name,
                         w, d, (unsigned long long)at);
            MW_RETURN_IF(elems > UINT64_MAX / t->dims[d], err, MW_ERR_INVALID,
                         "%s: %s: the element count overflows 64 bits at dimension %u (offset "
                         "%llu, %llu)",
                         g->name, w, d, (unsigned long long)at, (unsigned long long)t->dims[d]);
            elems *= t->dims[d];
        }

        at = c->pos;
        uint32_t ggml;
        MW_FORWARD(rd_u32(c, &ggml, "the type of ", w, err));
        mw_err sub;
        if (mw_dtype_from_ggml(ggml, &t->dtype, &sub) != MW_OK)
            return mw_err_set(err, MW_ERR_UNSUPPORTED, "%s: %s, type at offset %llu: %s", g->name,
                              w, (unsigned long long)at, sub.msg);
        const mw_dtype_info *di = mw_dtype_get(t->dtype);
        MW_RETURN_IF(t->dims[0] % di->block_elems != 0, err, MW_ERR_INVALID,
                     "%s: %s: rows of %llu elements are not a whole number of %s blocks (%u "
                     "elements each)",
                     g->name, w, (unsigned long long)t->dims[0], di->name, di->block_elems);
        t->bytes = mw_dtype_bytes(t->dtype, elems);
        if (mw_dtype_is_sparse(t->dtype)) /* issue #14, sparse */
            MW_FORWARD(sparse_bytes(g, t, elems, w, err));
        MW_RETURN_IF(t->bytes == MW_UNKNOWN, err, MW_ERR_INVALID,
                     "%s: %s: %llu %s elements overflow a 64-bit byte size", g->name, w,
                     (unsigned long long)elems, di->name);

        at = c->pos;
        MW_FORWARD(rd_u64(c, &t->offset, "the data offset of ", w, err));
        MW_RETURN_IF(t->offset % g->alignment != 0, err, MW_ERR_INVALID,
                     "%s: %s: data offset %llu (at offset %llu) is not a multiple of the "
                     "alignment (%llu)",
                     g->name, w, (unsigned long long)t->offset, (unsigned long long)at,
                     (unsigned long long)g->alignment);
        g->n_tensors = i + 1;
    }
    return MW_OK;
}

typedef struct span {
    uint64_t start, end, index;
} span;

static int span_cmp(const void *a, const void *b)
{
    const span *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start ? 1 : 0;
}

static mw_status check_data(mw_gguf *g, uint64_t infos_end, mw_err *err)
{
    g->data_offset = infos_end;
    if (g->n_tensors == 0) return MW_OK;
    MW_RETURN_IF(infos_end > UINT64_MAX - (g->alignment - 1), err, MW_ERR_INVALID,
                 "%s: the data section offset overflows", g->name);
    g->data_offset = (infos_end + g->alignment - 1) & ~(g->alignment - 1);
    uint64_t room = g->size >= g->data_offset ? g->size - g->data_offset : 0;
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        mw_gguf_tensor *t = &g->tensors[i];
        if (g->data_offset > g->size || t->offset > room || t->bytes > room - t->offset) {
            char b[SHOWN_CAP];
            const char *nm = shown(t->name, t->name_len, b);
            if (t->offset <= UINT64_MAX - g->data_offset)
                return mw_err_set(err, MW_ERR_INVALID,
                                  "%s: tensor %llu (%s) data [offset %llu, %llu bytes] runs past "
                                  "the end of the file (%llu bytes)",
                                  g->name, (unsigned long long)i, nm,
                                  (unsigned long long)(g->data_offset + t->offset),
                                  (unsigned long long)t->bytes, (unsigned long long)g->size);
            return mw_err_set(err, MW_ERR_INVALID,
                              "%s: tensor %llu (%s) data [offset %llu + %llu, %llu bytes] runs "
                              "past the end of the file (%llu bytes)",
                              g->name, (unsigned long long)i, nm,
                              (unsigned long long)g->data_offset, (unsigned long long)t->offset,
                              (unsigned long long)t->bytes, (unsigned long long)g->size);
        }
        t->data = g->data + g->data_offset + t->offset;
    }
    MW_FORWARD(check_tensor_names(g, err));

    span *s = mw_malloc((size_t)g->n_tensors * sizeof *s, MW_MEM_OTHER);
    MW_RETURN_IF(!s, err, MW_ERR_NOMEM, "%s: out of memory checking %llu tensors", g->name,
                 (unsigned long long)g->n_tensors);
    for (uint64_t i = 0; i < g->n_tensors; i++)
        s[i] = (span){g->tensors[i].offset, g->tensors[i].offset + g->tensors[i].bytes, i};
    qsort(s, (size_t)g->n_tensors, sizeof *s, span_cmp);
    mw_status st = MW_OK;
    for (uint64_t i = 1; i < g->n_tensors; i++) {
        if (s[i - 1].end > s[i].start) {
            const mw_gguf_tensor *a = &g->tensors[s[i - 1].index], *b = &g->tensors[s[i].index];
            char ba[SHOWN_CAP], bb[SHOWN_CAP];
            st = mw_err_set(err, MW_ERR_INVALID,
                            "%s: tensors %llu (%s) [offset %llu, %llu bytes] and %llu (%s) "
                            "[offset %llu, %llu bytes] overlap",
                            g->name, (unsigned long long)s[i - 1].index,
                            shown(a->name, a->name_len, ba),
                            (unsigned long long)(g->data_offset + a->offset),
                            (unsigned long long)a->bytes, (unsigned long long)s[i].index,
                            shown(b->name, b->name_len, bb),
                            (unsigned long long)(g->data_offset + b->offset),
                            (unsigned long long)b->bytes);
            break;
        }
    }
    mw_free(s);
    return st;
}

static mw_status parse(mw_gguf *g, mw_err *err)
{
    cur c = {g->data, g->size, 0, g->name};
    MW_FORWARD(parse_header(g, &c, err));
    MW_FORWARD(parse_kvs(g, &c, err));
    MW_FORWARD(parse_tensor_infos(g, &c, err));
    return check_data(g, c.pos, err);
}

/* ---- open and close ----------------------------------------------------- */

static mw_gguf *gguf_alloc(const char *name)
{
    mw_gguf *g = mw_calloc(1, sizeof *g, MW_MEM_OTHER);
    if (!g) return NULL;
    g->name = mw_strdup(name, MW_MEM_OTHER);
    if (!g->name) {
        mw_free(g);
        return NULL;
    }
    return g;
}

void mw_gguf_close(mw_gguf *g)
{
    if (!g) return;
    if (g->map) munmap(g->map, (size_t)g->size);
    mw_free(g->kv);
    mw_free(g->tensors);
    mw_free(g->name);
    mw_free(g);
}

mw_status mw_gguf_open_memory(const void *data, size_t size, mw_gguf **out, mw_err *err)
{
    *out = NULL;
    MW_RETURN_IF(!data && size, err, MW_ERR_INVALID, "GGUF image: NULL data");
    mw_gguf *g = gguf_alloc("GGUF image");
    MW_RETURN_IF(!g, err, MW_ERR_NOMEM, "GGUF image: out of memory");
    g->data = data;
    g->size = size;
    mw_status st = parse(g, err);
    if (st != MW_OK) {
        mw_gguf_close(g);
        return st;
    }
    *out = g;
    return MW_OK;
}

mw_status mw_gguf_open(const char *path, mw_gguf **out, mw_err *err)
{
    *out = NULL;
    mw_file_map map;
    MW_FORWARD(mw_file_map_open(path, &map, err));
    MW_RETURN_IF(map.len == 0, err, MW_ERR_INVALID, "%s: empty file (0 bytes), not a GGUF file",
                 path);
    mw_gguf *g = gguf_alloc(path);
    if (!g) {
        mw_file_map_close(&map);
        return mw_err_set(err, MW_ERR_NOMEM, "%s: out of memory", path);
    }
    g->map = map.addr; /* mw_gguf_close unmaps it */
    g->data = map.addr;
    g->size = map.len;
    mw_status st = parse(g, err);
    if (st != MW_OK) {
        mw_gguf_close(g);
        return st;
    }
    *out = g;
    return MW_OK;
}

/* ---- queries ---------------------------------------------------------------- */

uint32_t mw_gguf_version(const mw_gguf *g) { return g->version; }
uint64_t mw_gguf_kv_count(const mw_gguf *g) { return g->n_kv; }
uint64_t mw_gguf_alignment(const mw_gguf *g) { return g->alignment; }
uint64_t mw_gguf_data_offset(const mw_gguf *g) { return g->data_offset; }
uint64_t mw_gguf_tensor_count(const mw_gguf *g) { return g->n_tensors; }

const mw_gguf_kv *mw_gguf_kv_at(const mw_gguf *g, uint64_t i)
{
    return i < g->n_kv ? &g->kv[i] : NULL;
}

const mw_gguf_tensor *mw_gguf_tensor_at(const mw_gguf *g, uint64_t i)
{
    return i < g->n_tensors ? &g->tensors[i] : NULL;
}

const mw_gguf_kv *mw_gguf_find(const mw_gguf *g, const char *key)
{
    size_t len = strlen(key);
    for (uint64_t i = 0; i < g->n_kv; i++) {
        const mw_gguf_kv *kv = &g->kv[i];
        if (kv->key_len == len && memcmp(kv->key, key, len) == 0) return kv;
    }
    return NULL;
}

const mw_gguf_tensor *mw_gguf_find_tensor(const mw_gguf *g, const char *name)
{
    size_t len = strlen(name);
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        const mw_gguf_tensor *t = &g->tensors[i];
        if (t->name_len == len && memcmp(t->name, name, len) == 0) return t;
    }
    return NULL;
}

int mw_gguf_get_u64(const mw_gguf *g, const char *key, uint64_t *out)
{
    const mw_gguf_kv *kv = mw_gguf_find(g, key);
    if (!kv) return 0;
    switch (kv->value.type) {
    case MW_GGUF_U8: case MW_GGUF_U16: case MW_GGUF_U32: case MW_GGUF_U64: case MW_GGUF_BOOL:
        *out = kv->value.v.u;
        return 1;
    case MW_GGUF_I8: case MW_GGUF_I16: case MW_GGUF_I32: case MW_GGUF_I64:
        if (kv->value.v.i < 0) return 0;
        *out = (uint64_t)kv->value.v.i;
        return 1;
    default:
        return 0;
    }
}

int mw_gguf_get_f64(const mw_gguf *g, const char *key, double *out)
{
    const mw_gguf_kv *kv = mw_gguf_find(g, key);
    if (!kv) return 0;
    switch (kv->value.type) {
    case MW_GGUF_F32: case MW_GGUF_F64: *out = kv->value.v.f; return 1;
    case MW_GGUF_U8: case MW_GGUF_U16: case MW_GGUF_U32: case MW_GGUF_U64:
        *out = (double)kv->value.v.u;
        return 1;
    case MW_GGUF_I8: case MW_GGUF_I16: case MW_GGUF_I32: case MW_GGUF_I64:
        *out = (double)kv->value.v.i;
        return 1;
    default:
        return 0;
    }
}

int mw_gguf_get_str(const mw_gguf *g, const char *key, char *buf, size_t cap)
{
    const mw_gguf_kv *kv = mw_gguf_find(g, key);
    if (!kv || kv->value.type != MW_GGUF_STRING) return 0;
    if (cap) {
        uint64_t n = kv->value.v.str.len < cap - 1 ? kv->value.v.str.len : cap - 1;
        memcpy(buf, kv->value.v.str.ptr, (size_t)n);
        buf[n] = '\0';
    }
    return 1;
}

/* ---- the model ---------------------------------------------------------------- */

/* impl is the first member of the mw_gguf */
static void gguf_impl_free(struct mw_model_impl *impl) { mw_gguf_close((mw_gguf *)impl); }

/* llama.cpp's architecture names where memwall's differ. */
static const char *arch_name(const char *gguf_arch)
{
    static const struct { const char *gguf, *ours; } map[] = {
        {"gptneox", "gpt_neox"},
    };
    for (size_t i = 0; i < MW_ARRAY_LEN(map); i++)
        if (!strcmp(gguf_arch, map[i].gguf)) return map[i].ours;
    return gguf_arch;
}

/* "<arch>.<suffix>" as an unsigned 32-bit count. A per-layer array of
 * integers (some models vary head counts by layer) gives its largest
 * element. *found = 0 when absent. */
static mw_status hp_u32(const mw_gguf *g, const char *arch, const char *suffix, uint32_t *out,
                        int *found, mw_err *err)
{
    char key[160];
    snprintf(key, sizeof key, "%s.%s", arch, suffix);
    char kb[SHOWN_CAP]; /* the key for messages: arch comes from the file */
    if (found) *found = 0;
    const mw_gguf_kv *kv = mw_gguf_find(g, key);
    if (!kv) return MW_OK;
    uint64_t off = (uint64_t)((const uint8_t *)kv->key - g->data - 8);
    mw_gguf_value v = kv->value, e;
    uint64_t best = 0;
    uint64_t n = 1;
    const uint8_t *p = NULL;
    mw_gguf_type type = v.type;
    if (v.type == MW_GGUF_ARRAY) {
        type = v.v.arr.type;
        n = v.v.arr.count;
        p = v.v.arr.data;
        MW_RETURN_IF(n == 0, err, MW_ERR_INVALID, "%s: %s (kv at offset %llu) is an empty array",
                     g->name, shown(key, strlen(key), kb), (unsigned long long)off);
    }
    for (uint64_t i = 0; i < n; i++) {
        if (p) p = decode_value(type, p, &e);
        else e = v;
        uint64_t x;
        switch (type) {
        case MW_GGUF_U8: case MW_GGUF_U16: case MW_GGUF_U32: case MW_GGUF_U64:
            x = e.v.u;
            break;
        case MW_GGUF_I8: case MW_GGUF_I16: case MW_GGUF_I32: case MW_GGUF_I64:
            MW_RETURN_IF(e.v.i < 0, err, MW_ERR_INVALID, "%s: %s (kv at offset %llu) is %lld",
                         g->name, shown(key, strlen(key), kb), (unsigned long long)off, (long long)e.v.i);
            x = (uint64_t)e.v.i;
            break;
        default:
            return mw_err_set(err, MW_ERR_INVALID,
                              "%s: %s (kv at offset %llu) is %s %s, expected an integer",
                              g->name, shown(key, strlen(key), kb), (unsigned long long)off,
                              p ? "an array of" : "a", mw_gguf_type_name(type));
        }
        if (x > best) best = x;
    }
    MW_RETURN_IF(best > UINT32_MAX, err, MW_ERR_INVALID,
                 "%s: %s (kv at offset %llu) is %llu, out of range", g->name, shown(key, strlen(key), kb),
                 (unsigned long long)off, (unsigned long long)best);
    *out = (uint32_t)best;
    if (found) *found = 1;
    return MW_OK;
}

static mw_status hp_f64(const mw_gguf *g, const char *arch, const char *suffix, double *out,
                        int *found, mw_err *err)
{
    char key[160];
    snprintf(key, sizeof key, "%s.%s", arch, suffix);
    char kb[SHOWN_CAP]; /* the key for messages: arch comes from the file */
    *found = 0;
    const mw_gguf_kv *kv = mw_gguf_find(g, key);
    if (!kv) return MW_OK;
    MW_RETURN_IF(!mw_gguf_get_f64(g, key, out), err, MW_ERR_INVALID,
                 "%s: %s (kv at offset %llu) is a %s, expected a number", g->name, shown(key, strlen(key), kb),
                 (unsigned long long)((const uint8_t *)kv->key - g->data - 8),
                 mw_gguf_type_name(kv->value.type));
    *found = 1;
    return MW_OK;
}

static int has_tensor(const mw_gguf *g, const char *name)
{
    return mw_gguf_find_tensor(g, name) != NULL;
}

static int has_tensor_prefix(const mw_gguf *g, const char *prefix)
{
    size_t len = strlen(prefix);
    for (uint64_t i = 0; i < g->n_tensors; i++)
        if (g->tensors[i].name_len >= len && !memcmp(g->tensors[i].name, prefix, len)) return 1;
    return 0;
}

static mw_status fill_hparams(const mw_gguf *g, mw_model *m, mw_err *err)
{
    mw_hparams *hp = &m->hp;

    /* the stated type: the one holding the most bytes among the matrices
     * (2-D, or 3-D for merged experts); norms and biases are 1-D */
    uint64_t by_type[MW_DTYPE_COUNT] = {0};
    for (uint64_t i = 0; i < g->n_tensors; i++)
        if (g->tensors[i].n_dims >= 2) by_type[g->tensors[i].dtype] += g->tensors[i].bytes;
    uint64_t best = 0;
    for (int t = 0; t < MW_DTYPE_COUNT; t++) {
        if (by_type[t] > best) {
            best = by_type[t];
            hp->dtype = (mw_dtype)t;
        }
    }

    const mw_gguf_kv *akv = mw_gguf_find(g, "general.architecture");
    if (!akv) return MW_OK; /* tensors only: no hparams */
    uint64_t aoff = (uint64_t)((const uint8_t *)akv->key - g->data - 8);
    MW_RETURN_IF(akv->value.type != MW_GGUF_STRING, err, MW_ERR_INVALID,
                 "%s: general.architecture (kv at offset %llu) is a %s, expected a string",
                 g->name, (unsigned long long)aoff, mw_gguf_type_name(akv->value.type));
    char arch[64];
    MW_RETURN_IF(akv->value.v.str.len == 0 || akv->value.v.str.len >= sizeof arch ||
                     memchr(akv->value.v.str.ptr, 0, (size_t)akv->value.v.str.len),
                 err, MW_ERR_INVALID,
                 "%s: general.architecture (kv at offset %llu) is not a usable name (%llu bytes)",
                 g->name, (unsigned long long)aoff, (unsigned long long)akv->value.v.str.len);
    mw_gguf_get_str(g, "general.architecture", arch, sizeof arch);

    int f_layers, f_embd, f_heads, f_kv, f_hd, f;
    MW_FORWARD(hp_u32(g, arch, "block_count", &hp->n_layers, &f_layers, err));
    MW_FORWARD(hp_u32(g, arch, "embedding_length", &hp->n_embd, &f_embd, err));
    MW_FORWARD(hp_u32(g, arch, "attention.head_count", &hp->n_heads, &f_heads, err));
    MW_FORWARD(hp_u32(g, arch, "attention.head_count_kv", &hp->n_kv_heads, &f_kv, err));
    if (!f_kv) hp->n_kv_heads = hp->n_heads;
    MW_FORWARD(hp_u32(g, arch, "feed_forward_length", &hp->n_ff, NULL, err));
    MW_FORWARD(hp_u32(g, arch, "context_length", &hp->n_ctx_train, NULL, err));
    MW_FORWARD(hp_u32(g, arch, "attention.key_length", &hp->head_dim, &f_hd, err));
    if (!f_hd && hp->n_heads) hp->head_dim = hp->n_embd / hp->n_heads;
    MW_FORWARD(hp_u32(g, arch, "expert_count", &hp->n_experts, NULL, err));
    MW_FORWARD(hp_u32(g, arch, "expert_used_count", &hp->n_experts_used, NULL, err));
    MW_FORWARD(hp_f64(g, arch, "rope.freq_base", &hp->rope_theta, &f, err));
    MW_FORWARD(hp_f64(g, arch, "attention.layer_norm_rms_epsilon", &hp->norm_eps, &f, err));
    if (!f) {
        MW_FORWARD(hp_f64(g, arch, "attention.layer_norm_epsilon", &hp->norm_eps, &f, err));
        hp->layer_norm = f;
    }

    /* vocabulary: the tokenizer's list, else the stated size, else the
     * embedding's rows (GGUF dims [n_embd, n_vocab]) */
    const mw_gguf_kv *tok = mw_gguf_find(g, "tokenizer.ggml.tokens");
    int f_vocab = 0;
    if (tok && tok->value.type == MW_GGUF_ARRAY && tok->value.v.arr.count <= UINT32_MAX) {
        hp->n_vocab = (uint32_t)tok->value.v.arr.count;
        f_vocab = 1;
    }
    if (!f_vocab) MW_FORWARD(hp_u32(g, arch, "vocab_size", &hp->n_vocab, &f_vocab, err));
    const mw_gguf_tensor *emb = mw_gguf_find_tensor(g, "token_embd.weight");
    if (!f_vocab && emb && emb->n_dims == 2 && emb->dims[1] <= UINT32_MAX)
        hp->n_vocab = (uint32_t)emb->dims[1];

    hp->tied_embeddings = !has_tensor(g, "output.weight");
    hp->gated_ffn = has_tensor_prefix(g, "blk.0.ffn_gate");
    hp->attn_bias = has_tensor(g, "blk.0.attn_q.bias") || has_tensor(g, "blk.0.attn_qkv.bias");
    hp->mlp_bias = has_tensor(g, "blk.0.ffn_up.bias") || has_tensor(g, "blk.0.ffn_down.bias");
    hp->learned_pos = has_tensor(g, "position_embd.weight");

    /* Sliding-window attention (issue #13; docs/PLAN.md): llama.cpp writes
     * the window as <arch>.attention.sliding_window and fixes by
     * architecture which layers slide (src/llama-model.cpp: gemma2 every
     * other layer, set_swa_pattern(2); gemma3 five layers of six,
     * set_swa_pattern(6)), keeping a window's cells for those layers (its
     * iSWA cache). Other architectures that state a window keep their whole
     * context in llama.cpp, and in memwall's plan. */
    if (!strcmp(arch, "gemma2") || !strcmp(arch, "gemma3")) {
        MW_FORWARD(hp_u32(g, arch, "attention.sliding_window", &hp->sliding_window, NULL, err));
        hp->swa_period = hp->sliding_window ? (!strcmp(arch, "gemma2") ? 2 : 6) : 0;
    }
    hp->qk_norm = has_tensor(g, "blk.0.attn_q_norm.weight");

    /* llama.cpp files Mixtral under "llama" with experts */
    const char *ours = arch_name(arch);
    if (!strcmp(arch, "llama") && hp->n_experts > 0) ours = "mixtral";
    /* escaped (a name with ESC is no architecture, and reports print it) and
     * cut to what hp.arch holds */
    mw_shown_str(ours, hp->arch, sizeof hp->arch);
    m->has_hparams = f_layers && f_embd && f_heads;
    return MW_OK;
}

mw_status mw_gguf_to_model(mw_gguf *g, const char *path, mw_model **out, mw_err *err)
{
    *out = NULL;
    mw_model *m = mw_model_alloc(MW_SOURCE_GGUF, path);
    if (!m) {
        mw_gguf_close(g);
        return mw_err_set(err, MW_ERR_NOMEM, "%s: out of memory", path);
    }
    g->impl.free = gguf_impl_free;
    m->impl = &g->impl; /* from here on, mw_model_free closes g */
    uint32_t file;
    mw_status st = mw_model_add_file(m, path, &file, err);
    for (uint64_t i = 0; st == MW_OK && i < g->n_tensors; i++) {
        const mw_gguf_tensor *t = &g->tensors[i];
        char name[MW_GGUF_MAX_NAME + 1]; /* checked: at most MW_GGUF_MAX_NAME, no NUL */
        memcpy(name, t->name, (size_t)t->name_len);
        name[t->name_len] = '\0';
        uint64_t shape[4];
        for (uint32_t d = 0; d < t->n_dims; d++) shape[d] = t->dims[t->n_dims - 1 - d];
        st = mw_model_add_tensor(m, name, t->dtype, t->n_dims, shape, g->data_offset + t->offset,
                                 file, err);
        /* issue #14, sparse: an unstructured sparse tensor's size needs the file's keep key */
        if (st == MW_OK && mw_dtype_is_sparse(t->dtype)) m->tensors[m->n_tensors - 1].bytes = t->bytes;
    }
    if (st == MW_OK) st = fill_hparams(g, m, err);
    if (st != MW_OK) {
        mw_model_free(m);
        return st;
    }
    mw_model_finish(m);
    *out = m;
    return MW_OK;
}

mw_status mw_gguf_open_model(const char *path, mw_model **out, mw_err *err)
{
    mw_gguf *g;
    *out = NULL;
    MW_FORWARD(mw_gguf_open(path, &g, err));
    return mw_gguf_to_model(g, path, out, err);
}

const mw_gguf *mw_gguf_of_model(const mw_model *m)
{
    /* impl is the first member of the mw_gguf (mw_gguf_to_model) */
    if (m->source != MW_SOURCE_GGUF || !m->impl || m->impl->free != gguf_impl_free) return NULL;
    return (const mw_gguf *)m->impl;
}
