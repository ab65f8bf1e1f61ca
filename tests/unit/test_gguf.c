/* test_gguf.c - the GGUF reader and writer: round trips of every value type
 * and several tensor types, a llama-like model's hparams, hostile files
 * (each rejected with its own message), every truncation of a valid file,
 * and allocation failures.
 *
 * MW_GGUF_SEED_DIR=DIR runs only seeds_for_the_fuzzer, which writes the
 * fuzz seeds there (fuzz/corpus/gguf/ was made so). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "memwall.h"
#include "common/test_hooks.h"
#include "common/error.h"
#include "format/gguf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "test_tmpdir.h"

MW_TEST_TMPDIR("gguf")

/* ---- helpers ------------------------------------------------------------ */

static const char *tmp_path(const char *name)
{
    static char buf[4][400];
    static int next;
    char *p = buf[next++ % 4];
    snprintf(p, sizeof buf[0], "%s/%s", tmpdir, name);
    return p;
}

/* The whole file, malloc'ed; *n its size. */
static uint8_t *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *p = malloc(len > 0 ? (size_t)len : 1);
    assert_non_null(p);
    assert_int_equal(fread(p, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    *n = (size_t)len;
    return p;
}

static void spit(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    fclose(f);
}

static uint64_t mem_now(void)
{
    mw_mem_stats s;
    mw_mem_get_stats(&s);
    return s.total_current_bytes;
}

static uint64_t mem_allocations(void)
{
    mw_mem_stats s;
    mw_mem_get_stats(&s);
    return s.allocations;
}

/* A byte builder for hand-made (hostile) files. */
typedef struct bld {
    uint8_t b[16384];
    size_t n;
} bld;

static void b_bytes(bld *b, const void *p, size_t n)
{
    assert_true(b->n + n <= sizeof b->b);
    memcpy(b->b + b->n, p, n);
    b->n += n;
}
static void b_u8(bld *b, uint8_t v) { b_bytes(b, &v, 1); }
static void b_u32(bld *b, uint32_t v) { b_bytes(b, &v, 4); }
static void b_u64(bld *b, uint64_t v) { b_bytes(b, &v, 8); }
static void b_str(bld *b, const char *s)
{
    b_u64(b, strlen(s));
    b_bytes(b, s, strlen(s));
}
static void b_zeros(bld *b, size_t n)
{
    while (n--) b_u8(b, 0);
}
static void b_pad(bld *b, size_t align) { b_zeros(b, (align - b->n % align) % align); }
static void b_hdr(bld *b, uint32_t version, uint64_t n_tensors, uint64_t n_kv)
{
    b->n = 0;
    b_bytes(b, "GGUF", 4);
    b_u32(b, version);
    b_u64(b, n_tensors);
    b_u64(b, n_kv);
}
static void b_key(bld *b, const char *key, uint32_t type)
{
    b_str(b, key);
    b_u32(b, type);
}
static void b_tensor(bld *b, const char *name, uint32_t n_dims, const uint64_t *dims,
                     uint32_t ggml, uint64_t offset)
{
    b_str(b, name);
    b_u32(b, n_dims);
    for (uint32_t i = 0; i < n_dims; i++) b_u64(b, dims[i]);
    b_u32(b, ggml);
    b_u64(b, offset);
}

/* The image must be rejected with a message holding `want`. The bytes are
 * copied to a buffer of exactly their size so ASan sees any over-read. */
static void expect_bad_image(const void *data, size_t n, const char *want, int line)
{
    uint8_t *copy = malloc(n ? n : 1);
    assert_non_null(copy);
    if (n) memcpy(copy, data, n);
    mw_gguf *g = NULL;
    mw_err err = {0};
    mw_status st = mw_gguf_open_memory(n ? copy : NULL, n, &g, &err);
    if (st == MW_OK || !strstr(err.msg, want))
        print_error("line %d: got %s \"%s\", want an error holding \"%s\"\n", line,
                    mw_status_name(st), err.msg, want);
    if (st == MW_OK) mw_gguf_close(g);
    free(copy);
    assert_int_not_equal(st, MW_OK);
    assert_null(g);
    assert_non_null(strstr(err.msg, want));
}
#define EXPECT_BAD(bp, want) expect_bad_image((bp)->b, (bp)->n, (want), __LINE__)

static void expect_ok_image(const bld *b, int line)
{
    mw_gguf *g = NULL;
    mw_err err = {0};
    mw_status st = mw_gguf_open_memory(b->b, b->n, &g, &err);
    if (st != MW_OK) print_error("line %d: %s\n", line, err.msg);
    assert_int_equal(st, MW_OK);
    mw_gguf_close(g);
}
#define EXPECT_OK(bp) expect_ok_image((bp), __LINE__)

static void check_ok(mw_status st, const mw_err *err, int line)
{
    if (st != MW_OK) print_error("line %d: %s\n", line, err->msg);
    assert_int_equal(st, MW_OK);
}
#define OK(expr) check_ok((expr), &err, __LINE__)

/* Tensor data: a byte pattern per tensor, big enough for every test tensor. */
static uint8_t pattern[6][512];
static uint8_t zeros[1 << 15];

static void fill_patterns(void)
{
    for (int t = 0; t < 6; t++)
        for (int i = 0; i < 512; i++) pattern[t][i] = (uint8_t)(i * 7 + t * 31 + 1);
}

/* ---- round trips ------------------------------------------------------------ */

static const struct {
    const char *name;
    mw_dtype dtype;
    uint32_t n_dims;
    uint64_t dims[4];
    uint64_t bytes;
} rt_tensors[] = {
    {"f32.weight", MW_DTYPE_F32, 2, {8, 4}, 128},
    {"f16.weight", MW_DTYPE_F16, 2, {16, 2}, 64},
    {"bf16.bias", MW_DTYPE_BF16, 1, {4}, 8},
    {"q8_0.weight", MW_DTYPE_Q8_0, 2, {64, 2}, 136},
    {"q4_0.weight", MW_DTYPE_Q4_0, 3, {32, 3, 1}, 54},
    {"q4_k.weight", MW_DTYPE_Q4_K, 4, {256, 1, 2, 1}, 288},
};

/* An array of arrays: [[1, 2, 3] (u32), ["x", "yz"] (string)]. */
static void nested_value(bld *b)
{
    b->n = 0;
    b_u32(b, MW_GGUF_ARRAY);
    b_u64(b, 2);
    b_u32(b, MW_GGUF_U32);
    b_u64(b, 3);
    b_u32(b, 1);
    b_u32(b, 2);
    b_u32(b, 3);
    b_u32(b, MW_GGUF_STRING);
    b_u64(b, 2);
    b_str(b, "x");
    b_str(b, "yz");
}

static void write_all_types(mw_gguf_writer *w, uint32_t align)
{
    mw_err err;
    if (align != 32) OK(mw_gguf_writer_set_u32(w, "general.alignment", align, &err));
    uint8_t u8 = 200;
    int8_t i8 = -100;
    uint16_t u16 = 60000;
    int16_t i16 = -30000;
    int64_t i64 = -(1ll << 40);
    double f64 = 3.25;
    OK(mw_gguf_writer_set_scalar(w, "t.u8", MW_GGUF_U8, &u8, &err));
    OK(mw_gguf_writer_set_scalar(w, "t.i8", MW_GGUF_I8, &i8, &err));
    OK(mw_gguf_writer_set_scalar(w, "t.u16", MW_GGUF_U16, &u16, &err));
    OK(mw_gguf_writer_set_scalar(w, "t.i16", MW_GGUF_I16, &i16, &err));
    OK(mw_gguf_writer_set_u32(w, "t.u32", 4000000000u, &err));
    OK(mw_gguf_writer_set_i32(w, "t.i32", -2000000000, &err));
    OK(mw_gguf_writer_set_f32(w, "t.f32", 1.5f, &err));
    OK(mw_gguf_writer_set_bool(w, "t.bool", 1, &err));
    OK(mw_gguf_writer_set_str(w, "t.string", "hello, gguf", &err));
    OK(mw_gguf_writer_set_str(w, "t.empty", "", &err));
    OK(mw_gguf_writer_set_u64(w, "t.u64", (1ull << 40) + 3, &err));
    OK(mw_gguf_writer_set_scalar(w, "t.i64", MW_GGUF_I64, &i64, &err));
    OK(mw_gguf_writer_set_scalar(w, "t.f64", MW_GGUF_F64, &f64, &err));

    static const uint8_t a_u8[3] = {1, 2, 255};
    static const int8_t a_i8[3] = {-1, 0, 1};
    static const uint16_t a_u16[3] = {1, 2, 65535};
    static const int16_t a_i16[3] = {-2, 0, 2};
    static const uint32_t a_u32[3] = {7, 8, 9};
    static const int32_t a_i32[3] = {-7, 8, -9};
    static const float a_f32[3] = {0.5f, -1.0f, 2.0f};
    static const uint8_t a_bool[3] = {1, 0, 1};
    static const uint64_t a_u64[3] = {1, 1ull << 50, 3};
    static const int64_t a_i64[3] = {-1, -(1ll << 50), 3};
    static const double a_f64[3] = {0.25, -0.5, 1e300};
    static const struct { const char *key; mw_gguf_type t; const void *v; } arrays[] = {
        {"a.u8", MW_GGUF_U8, a_u8},     {"a.i8", MW_GGUF_I8, a_i8},
        {"a.u16", MW_GGUF_U16, a_u16},  {"a.i16", MW_GGUF_I16, a_i16},
        {"a.u32", MW_GGUF_U32, a_u32},  {"a.i32", MW_GGUF_I32, a_i32},
        {"a.f32", MW_GGUF_F32, a_f32},  {"a.bool", MW_GGUF_BOOL, a_bool},
        {"a.u64", MW_GGUF_U64, a_u64},  {"a.i64", MW_GGUF_I64, a_i64},
        {"a.f64", MW_GGUF_F64, a_f64},
    };
    for (size_t i = 0; i < MW_ARRAY_LEN(arrays); i++)
        OK(mw_gguf_writer_set_array(w, arrays[i].key, arrays[i].t, arrays[i].v, 3, &err));
    OK(mw_gguf_writer_set_array(w, "a.none", MW_GGUF_U32, NULL, 0, &err));
    static const char *const strs[] = {"a", "bc", "", "d\xc3\xa9"};
    OK(mw_gguf_writer_set_str_array(w, "a.string", strs, 4, &err));
    bld nb;
    nested_value(&nb);
    OK(mw_gguf_writer_set_raw(w, "a.nested", MW_GGUF_ARRAY, nb.b, nb.n, &err));

    for (size_t i = 0; i < MW_ARRAY_LEN(rt_tensors); i++)
        OK(mw_gguf_writer_add_tensor(w, rt_tensors[i].name, rt_tensors[i].dtype,
                                     rt_tensors[i].n_dims, rt_tensors[i].dims, pattern[i], &err));
}

static const mw_gguf_kv *must_find(const mw_gguf *g, const char *key, mw_gguf_type type)
{
    const mw_gguf_kv *kv = mw_gguf_find(g, key);
    if (!kv) print_error("missing key %s\n", key);
    assert_non_null(kv);
    assert_int_equal(kv->value.type, type);
    assert_int_equal(kv->key_len, strlen(key));
    assert_memory_equal(kv->key, key, strlen(key));
    return kv;
}

static void check_all_types(const mw_gguf *g, uint32_t align)
{
    assert_int_equal(mw_gguf_version(g), 3);
    assert_int_equal(mw_gguf_alignment(g), align);
    /* insertion order */
    uint64_t first = align != 32 ? 1 : 0;
    assert_int_equal(mw_gguf_kv_count(g), first + 13 + 11 + 3);
    const mw_gguf_kv *kv0 = mw_gguf_kv_at(g, first);
    assert_int_equal(kv0->key_len, 4);
    assert_memory_equal(kv0->key, "t.u8", 4);
    assert_null(mw_gguf_kv_at(g, mw_gguf_kv_count(g)));
    const mw_gguf_kv *last = mw_gguf_kv_at(g, mw_gguf_kv_count(g) - 1);
    assert_memory_equal(last->key, "a.nested", 8);

    assert_int_equal(must_find(g, "t.u8", MW_GGUF_U8)->value.v.u, 200);
    assert_int_equal(must_find(g, "t.i8", MW_GGUF_I8)->value.v.i, -100);
    assert_int_equal(must_find(g, "t.u16", MW_GGUF_U16)->value.v.u, 60000);
    assert_int_equal(must_find(g, "t.i16", MW_GGUF_I16)->value.v.i, -30000);
    assert_int_equal(must_find(g, "t.u32", MW_GGUF_U32)->value.v.u, 4000000000u);
    assert_int_equal(must_find(g, "t.i32", MW_GGUF_I32)->value.v.i, -2000000000);
    assert_float_equal(must_find(g, "t.f32", MW_GGUF_F32)->value.v.f, 1.5, 0);
    assert_int_equal(must_find(g, "t.bool", MW_GGUF_BOOL)->value.v.u, 1);
    const mw_gguf_kv *s = must_find(g, "t.string", MW_GGUF_STRING);
    assert_int_equal(s->value.v.str.len, 11);
    assert_memory_equal(s->value.v.str.ptr, "hello, gguf", 11);
    assert_int_equal(must_find(g, "t.empty", MW_GGUF_STRING)->value.v.str.len, 0);
    assert_true(must_find(g, "t.u64", MW_GGUF_U64)->value.v.u == (1ull << 40) + 3);
    assert_true(must_find(g, "t.i64", MW_GGUF_I64)->value.v.i == -(1ll << 40));
    assert_float_equal(must_find(g, "t.f64", MW_GGUF_F64)->value.v.f, 3.25, 0);

    /* typed getters */
    uint64_t u;
    double f;
    char buf[8];
    assert_true(mw_gguf_get_u64(g, "t.u32", &u) && u == 4000000000u);
    assert_true(mw_gguf_get_u64(g, "t.u8", &u) && u == 200);
    assert_false(mw_gguf_get_u64(g, "t.i8", &u)); /* negative */
    assert_false(mw_gguf_get_u64(g, "t.string", &u));
    assert_false(mw_gguf_get_u64(g, "t.missing", &u));
    assert_true(mw_gguf_get_f64(g, "t.f32", &f) && f == 1.5);
    assert_true(mw_gguf_get_f64(g, "t.i32", &f) && f == -2000000000.0);
    assert_false(mw_gguf_get_f64(g, "t.string", &f));
    assert_true(mw_gguf_get_str(g, "t.string", buf, sizeof buf));
    assert_string_equal(buf, "hello, "); /* truncated to the buffer */
    assert_false(mw_gguf_get_str(g, "t.u8", buf, sizeof buf));
    assert_null(mw_gguf_find(g, "t.u"));   /* a prefix is not a key */
    assert_null(mw_gguf_find(g, "t.u8x"));

    /* numeric arrays */
    static const char *const akeys[] = {"a.u8", "a.i8", "a.u16", "a.i16", "a.u32", "a.i32",
                                        "a.f32", "a.bool", "a.u64", "a.i64", "a.f64"};
    static const mw_gguf_type atypes[] = {MW_GGUF_U8, MW_GGUF_I8, MW_GGUF_U16, MW_GGUF_I16,
                                          MW_GGUF_U32, MW_GGUF_I32, MW_GGUF_F32, MW_GGUF_BOOL,
                                          MW_GGUF_U64, MW_GGUF_I64, MW_GGUF_F64};
    static const double expect[][3] = {{1, 2, 255}, {-1, 0, 1}, {1, 2, 65535}, {-2, 0, 2},
                                       {7, 8, 9}, {-7, 8, -9}, {0.5, -1, 2}, {1, 0, 1},
                                       {1, (double)(1ull << 50), 3},
                                       {-1, -(double)(1ll << 50), 3}, {0.25, -0.5, 1e300}};
    for (size_t k = 0; k < MW_ARRAY_LEN(akeys); k++) {
        const mw_gguf_kv *a = must_find(g, akeys[k], MW_GGUF_ARRAY);
        assert_int_equal(a->value.v.arr.type, atypes[k]);
        assert_int_equal(a->value.v.arr.count, 3);
        const uint8_t *p = a->value.v.arr.data;
        for (int i = 0; i < 3; i++) {
            mw_gguf_value e;
            p = mw_gguf_array_elem(a->value.v.arr.type, p, &e);
            assert_int_equal(e.type, atypes[k]);
            double got = atypes[k] == MW_GGUF_F32 || atypes[k] == MW_GGUF_F64 ? e.v.f
                         : (atypes[k] == MW_GGUF_I8 || atypes[k] == MW_GGUF_I16 ||
                            atypes[k] == MW_GGUF_I32 || atypes[k] == MW_GGUF_I64)
                             ? (double)e.v.i
                             : (double)e.v.u;
            assert_float_equal(got, expect[k][i], 0);
        }
    }
    assert_int_equal(must_find(g, "a.none", MW_GGUF_ARRAY)->value.v.arr.count, 0);

    /* strings */
    const mw_gguf_kv *sa = must_find(g, "a.string", MW_GGUF_ARRAY);
    assert_int_equal(sa->value.v.arr.type, MW_GGUF_STRING);
    assert_int_equal(sa->value.v.arr.count, 4);
    static const char *const strs[] = {"a", "bc", "", "d\xc3\xa9"};
    const uint8_t *p = sa->value.v.arr.data;
    for (int i = 0; i < 4; i++) {
        mw_gguf_value e;
        p = mw_gguf_array_elem(MW_GGUF_STRING, p, &e);
        assert_int_equal(e.v.str.len, strlen(strs[i]));
        assert_memory_equal(e.v.str.ptr, strs[i], strlen(strs[i]));
    }

    /* nested: [[1, 2, 3], ["x", "yz"]] */
    const mw_gguf_kv *n = must_find(g, "a.nested", MW_GGUF_ARRAY);
    assert_int_equal(n->value.v.arr.type, MW_GGUF_ARRAY);
    assert_int_equal(n->value.v.arr.count, 2);
    mw_gguf_value a0, a1, e;
    p = mw_gguf_array_elem(MW_GGUF_ARRAY, n->value.v.arr.data, &a0);
    p = mw_gguf_array_elem(MW_GGUF_ARRAY, p, &a1);
    assert_ptr_equal(p, (const uint8_t *)last->key + last->key_len + 4 + 12 + 12 + 12 + 12 + 9 + 10);
    assert_int_equal(a0.v.arr.type, MW_GGUF_U32);
    assert_int_equal(a0.v.arr.count, 3);
    const uint8_t *q = a0.v.arr.data;
    for (uint64_t i = 0; i < 3; i++) {
        q = mw_gguf_array_elem(MW_GGUF_U32, q, &e);
        assert_int_equal(e.v.u, i + 1);
    }
    assert_int_equal(a1.v.arr.type, MW_GGUF_STRING);
    assert_int_equal(a1.v.arr.count, 2);
    q = mw_gguf_array_elem(MW_GGUF_STRING, a1.v.arr.data, &e);
    assert_memory_equal(e.v.str.ptr, "x", 1);
    mw_gguf_array_elem(MW_GGUF_STRING, q, &e);
    assert_int_equal(e.v.str.len, 2);
    assert_memory_equal(e.v.str.ptr, "yz", 2);

    /* tensors: order, shapes, offsets as llama.cpp wants them (each after
     * the padded sizes of the ones before), bytes */
    assert_int_equal(mw_gguf_tensor_count(g), MW_ARRAY_LEN(rt_tensors));
    assert_int_equal(mw_gguf_data_offset(g) % align, 0);
    uint64_t off = 0;
    for (size_t i = 0; i < MW_ARRAY_LEN(rt_tensors); i++) {
        const mw_gguf_tensor *t = mw_gguf_tensor_at(g, i);
        assert_non_null(t);
        assert_int_equal(t->name_len, strlen(rt_tensors[i].name));
        assert_memory_equal(t->name, rt_tensors[i].name, t->name_len);
        assert_int_equal(t->dtype, rt_tensors[i].dtype);
        assert_int_equal(t->n_dims, rt_tensors[i].n_dims);
        for (uint32_t d = 0; d < t->n_dims; d++) assert_int_equal(t->dims[d], rt_tensors[i].dims[d]);
        assert_int_equal(t->bytes, rt_tensors[i].bytes);
        uint64_t elems = 1;
        for (uint32_t d = 0; d < t->n_dims; d++) elems *= t->dims[d];
        assert_int_equal(t->bytes, mw_dtype_bytes(t->dtype, elems));
        assert_int_equal(t->offset, off);
        assert_int_equal(t->offset % align, 0);
        assert_memory_equal(t->data, pattern[i], t->bytes);
        assert_ptr_equal(mw_gguf_find_tensor(g, rt_tensors[i].name), t);
        off += (t->bytes + align - 1) / align * align;
    }
    assert_null(mw_gguf_tensor_at(g, MW_ARRAY_LEN(rt_tensors)));
    assert_null(mw_gguf_find_tensor(g, "f32"));
}

static void roundtrip(uint32_t align)
{
    mw_err err;
    mw_gguf_writer *w;
    char name[64];
    snprintf(name, sizeof name, "all-%u.gguf", align);
    const char *path = tmp_path(name);
    uint64_t before = mem_now();
    OK(mw_gguf_writer_init(&w, &err));
    write_all_types(w, align);
    OK(mw_gguf_writer_write(w, path, &err));
    mw_gguf_writer_free(w);
    char tmp[512];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    assert_int_equal(access(tmp, F_OK), -1); /* renamed */
    assert_int_equal(access(path, F_OK), 0);

    mw_gguf *g;
    OK(mw_gguf_open(path, &g, &err));
    check_all_types(g, align);
    mw_gguf_close(g);

    /* the same bytes from memory */
    size_t n;
    uint8_t *img = slurp(path, &n);
    assert_int_equal(n % align, 0); /* the last tensor is padded too */
    OK(mw_gguf_open_memory(img, n, &g, &err));
    check_all_types(g, align);
    mw_gguf_close(g);
    free(img);
    assert_int_equal(mem_now(), before);
}

static void roundtrip_align32(void **state)
{
    (void)state;
    roundtrip(32);
}

static void roundtrip_align64(void **state)
{
    (void)state;
    roundtrip(64);
}

/* Arrays nest up to MW_GGUF_MAX_DEPTH levels; one more is refused. */
static void nesting_depth(void **state)
{
    (void)state;
    bld b;
    for (int levels = 1; levels <= MW_GGUF_MAX_DEPTH + 1; levels++) {
        b_hdr(&b, 3, 0, 1);
        b_key(&b, "deep", MW_GGUF_ARRAY);
        for (int l = 1; l < levels; l++) {
            b_u32(&b, MW_GGUF_ARRAY);
            b_u64(&b, 1);
        }
        b_u32(&b, MW_GGUF_U32);
        b_u64(&b, 2);
        b_u32(&b, 11);
        b_u32(&b, 12);
        if (levels > MW_GGUF_MAX_DEPTH) {
            EXPECT_BAD(&b, "arrays nested deeper than 8 levels");
            continue;
        }
        mw_gguf *g;
        mw_err err;
        OK(mw_gguf_open_memory(b.b, b.n, &g, &err));
        const mw_gguf_kv *kv = mw_gguf_find(g, "deep");
        assert_non_null(kv);
        mw_gguf_value v = kv->value;
        for (int l = 1; l < levels; l++) {
            assert_int_equal(v.v.arr.type, MW_GGUF_ARRAY);
            assert_int_equal(v.v.arr.count, 1);
            mw_gguf_array_elem(MW_GGUF_ARRAY, v.v.arr.data, &v);
        }
        assert_int_equal(v.v.arr.type, MW_GGUF_U32);
        mw_gguf_value e;
        mw_gguf_array_elem(MW_GGUF_U32, mw_gguf_array_elem(MW_GGUF_U32, v.v.arr.data, &e), &e);
        assert_int_equal(e.v.u, 12);
        mw_gguf_close(g);
    }
}

/* ---- models ------------------------------------------------------------------ */

typedef struct llama_spec {
    const char *arch;
    uint32_t n_layers, n_embd, n_heads, n_kv_heads, n_ff, n_vocab;
    mw_dtype mat, emb;
    int output;                  /* an output.weight tensor */
    int tokens;                  /* tokenizer.ggml.tokens */
    int kv_key;                  /* head_count_kv present */
    int rms;                     /* rms epsilon, else layer_norm_epsilon */
    uint32_t experts;            /* expert_count (0: none) */
    uint32_t sliding_window;     /* attention.sliding_window (0: none) */
} llama_spec;

static void add_t(mw_gguf_writer *w, const char *name, mw_dtype dt, uint64_t d0, uint64_t d1)
{
    mw_err err;
    uint64_t dims[2] = {d0, d1};
    assert_true(mw_dtype_bytes(dt, d0 * d1) <= sizeof zeros);
    OK(mw_gguf_writer_add_tensor(w, name, dt, d1 ? 2 : 1, dims, zeros, &err));
}

static void write_llama(const char *path, const llama_spec *s)
{
    mw_err err;
    mw_gguf_writer *w;
    char key[128];
    OK(mw_gguf_writer_init(&w, &err));
    OK(mw_gguf_writer_set_str(w, "general.architecture", s->arch, &err));
    OK(mw_gguf_writer_set_str(w, "general.name", "tiny test model", &err));
#define AKEY(k) (snprintf(key, sizeof key, "%s.%s", s->arch, k), key)
    OK(mw_gguf_writer_set_u32(w, AKEY("context_length"), 256, &err));
    OK(mw_gguf_writer_set_u32(w, AKEY("embedding_length"), s->n_embd, &err));
    OK(mw_gguf_writer_set_u32(w, AKEY("block_count"), s->n_layers, &err));
    OK(mw_gguf_writer_set_u32(w, AKEY("feed_forward_length"), s->n_ff, &err));
    OK(mw_gguf_writer_set_u32(w, AKEY("attention.head_count"), s->n_heads, &err));
    if (s->kv_key)
        OK(mw_gguf_writer_set_u32(w, AKEY("attention.head_count_kv"), s->n_kv_heads, &err));
    OK(mw_gguf_writer_set_f32(w, AKEY("rope.freq_base"), 10000.0f, &err));
    OK(mw_gguf_writer_set_f32(w, s->rms ? AKEY("attention.layer_norm_rms_epsilon")
                                        : AKEY("attention.layer_norm_epsilon"),
                              1e-5f, &err));
    if (s->experts) {
        OK(mw_gguf_writer_set_u32(w, AKEY("expert_count"), s->experts, &err));
        OK(mw_gguf_writer_set_u32(w, AKEY("expert_used_count"), 2, &err));
    }
    if (s->sliding_window)
        OK(mw_gguf_writer_set_u32(w, AKEY("attention.sliding_window"), s->sliding_window, &err));
#undef AKEY
    if (s->tokens) {
        OK(mw_gguf_writer_set_str(w, "tokenizer.ggml.model", "llama", &err));
        const char **toks = malloc(s->n_vocab * sizeof *toks);
        char(*text)[12] = malloc(s->n_vocab * sizeof *text);
        for (uint32_t i = 0; i < s->n_vocab; i++) {
            snprintf(text[i], sizeof text[i], "t%u", i);
            toks[i] = text[i];
        }
        OK(mw_gguf_writer_set_str_array(w, "tokenizer.ggml.tokens", toks, s->n_vocab, &err));
        free(toks);
        free(text);
    }
    uint32_t e = s->n_embd, kvd = s->n_kv_heads * (s->n_embd / s->n_heads);
    add_t(w, "token_embd.weight", s->emb, e, s->n_vocab);
    for (uint32_t l = 0; l < s->n_layers; l++) {
        char n[64];
#define T(suffix, d0, d1) (snprintf(n, sizeof n, "blk.%u.%s", l, suffix), add_t(w, n, (d1) ? s->mat : MW_DTYPE_F32, d0, d1))
        T("attn_norm.weight", e, 0);
        T("attn_q.weight", e, e);
        T("attn_k.weight", e, kvd);
        T("attn_v.weight", e, kvd);
        T("attn_output.weight", e, e);
        T("ffn_norm.weight", e, 0);
        T("ffn_gate.weight", e, s->n_ff);
        T("ffn_up.weight", e, s->n_ff);
        T("ffn_down.weight", s->n_ff, e);
#undef T
    }
    add_t(w, "output_norm.weight", MW_DTYPE_F32, e, 0);
    if (s->output) add_t(w, "output.weight", s->mat, e, s->n_vocab);
    OK(mw_gguf_writer_write(w, path, &err));
    mw_gguf_writer_free(w);
}

static const llama_spec tiny_llama = {
    .arch = "llama", .n_layers = 2, .n_embd = 64, .n_heads = 4, .n_kv_heads = 2, .n_ff = 128,
    .n_vocab = 100, .mat = MW_DTYPE_Q8_0, .emb = MW_DTYPE_F16, .output = 1, .tokens = 1,
    .kv_key = 1, .rms = 1,
};

static const mw_tensor_info *model_tensor(const mw_model *m, const char *name)
{
    for (uint32_t i = 0; i < m->n_tensors; i++)
        if (!strcmp(m->tensors[i].name, name)) return &m->tensors[i];
    print_error("no tensor %s\n", name);
    fail();
    return NULL;
}

static void model_llama(void **state)
{
    (void)state;
    const char *path = tmp_path("llama.gguf");
    write_llama(path, &tiny_llama);
    uint64_t before = mem_now();
    mw_model *m;
    mw_err err;
    OK(mw_gguf_open_model(path, &m, &err));
    assert_int_equal(m->source, MW_SOURCE_GGUF);
    assert_string_equal(m->path, path);
    assert_int_equal(m->n_files, 1);
    assert_string_equal(m->files[0], path);
    assert_true(m->has_hparams);
    const mw_hparams *hp = &m->hp;
    assert_string_equal(hp->arch, "llama");
    assert_int_equal(hp->n_layers, 2);
    assert_int_equal(hp->n_embd, 64);
    assert_int_equal(hp->n_heads, 4);
    assert_int_equal(hp->n_kv_heads, 2);
    assert_int_equal(hp->head_dim, 16);
    assert_int_equal(hp->n_ff, 128);
    assert_int_equal(hp->n_vocab, 100);
    assert_int_equal(hp->n_ctx_train, 256);
    assert_int_equal(hp->n_experts, 0);
    assert_float_equal(hp->rope_theta, 10000.0, 0);
    assert_float_equal(hp->norm_eps, 1e-5, 1e-12);
    assert_false(hp->layer_norm);
    assert_false(hp->tied_embeddings);
    assert_true(hp->gated_ffn);
    assert_false(hp->attn_bias);
    assert_int_equal(hp->dtype, MW_DTYPE_Q8_0);

    /* 3 + 9 per layer; shapes in PyTorch order */
    assert_int_equal(m->n_tensors, 3 + 9 * 2);
    const mw_tensor_info *k = model_tensor(m, "blk.1.attn_k.weight");
    assert_int_equal(k->n_dims, 2);
    assert_int_equal(k->shape[0], 32);
    assert_int_equal(k->shape[1], 64);
    assert_int_equal(k->dtype, MW_DTYPE_Q8_0);
    assert_int_equal(k->bytes, 2176);
    const mw_tensor_info *down = model_tensor(m, "blk.0.ffn_down.weight");
    assert_int_equal(down->shape[0], 64);
    assert_int_equal(down->shape[1], 128);
    const mw_tensor_info *emb = model_tensor(m, "token_embd.weight");
    assert_int_equal(emb->shape[0], 100);
    assert_int_equal(emb->shape[1], 64);
    assert_int_equal(emb->dtype, MW_DTYPE_F16);
    const mw_tensor_info *norm = model_tensor(m, "output_norm.weight");
    assert_int_equal(norm->n_dims, 1);
    assert_int_equal(norm->shape[0], 64);

    /* per layer: norms 2*64, q 64*64, k v 64*32, o 64*64, ffn 3*64*128 */
    assert_int_equal(m->n_params, 86848);
    /* F16 embedding 12800 + Q8_0 output 6800 + F32 norm 256
     * + 2 * (norms 512 + q 4352 + k 2176 + v 2176 + o 4352 + ffn 3 * 8704) */
    assert_int_equal(m->weights_bytes, 99216);

    /* offsets are absolute: they match the reader's data pointers */
    mw_gguf *g;
    OK(mw_gguf_open(path, &g, &err));
    size_t n;
    uint8_t *img = slurp(path, &n);
    for (uint64_t i = 0; i < mw_gguf_tensor_count(g); i++) {
        const mw_gguf_tensor *t = mw_gguf_tensor_at(g, i);
        const mw_tensor_info *mt = &m->tensors[i];
        assert_int_equal(mt->name[t->name_len], '\0');
        assert_memory_equal(mt->name, t->name, t->name_len);
        assert_int_equal(mt->offset, mw_gguf_data_offset(g) + t->offset);
        assert_int_equal(mt->bytes, t->bytes);
        assert_true(mt->offset + mt->bytes <= n);
        assert_int_equal(mt->file, 0);
    }
    free(img);
    mw_gguf_close(g);
    mw_model_free(m);
    assert_int_equal(mem_now(), before);
}

static void model_variants(void **state)
{
    (void)state;
    mw_model *m;
    mw_err err;

    /* gptneox: LayerNorm, no tokenizer (vocab from token_embd), no
     * head_count_kv (= head_count), no output.weight (tied) */
    llama_spec s = tiny_llama;
    s.arch = "gptneox";
    s.n_kv_heads = s.n_heads;
    s.output = 0;
    s.tokens = 0;
    s.kv_key = 0;
    s.rms = 0;
    s.n_vocab = 96;
    s.mat = MW_DTYPE_F16;
    s.emb = MW_DTYPE_F32;
    const char *path = tmp_path("neox.gguf");
    write_llama(path, &s);
    OK(mw_gguf_open_model(path, &m, &err));
    assert_string_equal(m->hp.arch, "gpt_neox");
    assert_true(m->hp.layer_norm);
    assert_float_equal(m->hp.norm_eps, 1e-5, 1e-12);
    assert_true(m->hp.tied_embeddings);
    assert_int_equal(m->hp.n_vocab, 96);
    assert_int_equal(m->hp.n_kv_heads, 4);
    assert_int_equal(m->hp.dtype, MW_DTYPE_F16);
    assert_true(m->has_hparams);
    mw_model_free(m);

    /* gemma3 and gemma2 files: the window of llama.cpp's key, the layers
     * llama.cpp's patterns pick (five of six slide; every other one); a
     * llama file stating a window keeps its whole context, as llama.cpp */
    s = tiny_llama;
    s.arch = "gemma3";
    s.n_layers = 12;
    s.sliding_window = 32;
    path = tmp_path("gemma3.gguf");
    write_llama(path, &s);
    OK(mw_gguf_open_model(path, &m, &err));
    assert_string_equal(m->hp.arch, "gemma3");
    assert_int_equal(m->hp.sliding_window, 32);
    assert_int_equal(m->hp.swa_period, 6);
    mw_plan_opts po;
    mw_plan_opts_init(&po);
    po.ctx = 200;
    mw_plan pl;
    OK(mw_plan_compute(m, &po, &pl, &err));
    assert_int_equal(pl.kv_sliding_layers, 10);
    assert_int_equal(pl.kv_global_layers, 2);
    /* per layer and token: K and V of 2 heads x 16, f16: 128 B; 10 layers
     * hold 32 tokens, 2 hold 200 */
    assert_int_equal(pl.bytes[MW_COMP_KV_CACHE], 128ull * (10 * 32 + 2 * 200));
    mw_model_free(m);
    s.arch = "gemma2";
    path = tmp_path("gemma2.gguf");
    write_llama(path, &s);
    OK(mw_gguf_open_model(path, &m, &err));
    assert_int_equal(m->hp.swa_period, 2);
    OK(mw_plan_compute(m, &po, &pl, &err));
    assert_int_equal(pl.kv_sliding_layers, 6);
    mw_model_free(m);
    s.arch = "llama";
    path = tmp_path("llama_window.gguf");
    write_llama(path, &s);
    OK(mw_gguf_open_model(path, &m, &err));
    assert_int_equal(m->hp.sliding_window, 0);
    mw_model_free(m);

    /* llama with experts is Mixtral */
    s = tiny_llama;
    s.experts = 8;
    path = tmp_path("moe.gguf");
    write_llama(path, &s);
    OK(mw_gguf_open_model(path, &m, &err));
    assert_string_equal(m->hp.arch, "mixtral");
    assert_int_equal(m->hp.n_experts, 8);
    assert_int_equal(m->hp.n_experts_used, 2);
    mw_model_free(m);

    /* unknown architectures keep their name; tensors alone give no hparams */
    mw_gguf_writer *w;
    OK(mw_gguf_writer_init(&w, &err));
    OK(mw_gguf_writer_set_str(w, "general.architecture", "mamba", &err));
    add_t(w, "a.weight", MW_DTYPE_BF16, 32, 4);
    add_t(w, "b.weight", MW_DTYPE_F32, 32, 0);
    path = tmp_path("mamba.gguf");
    OK(mw_gguf_writer_write(w, path, &err));
    mw_gguf_writer_free(w);
    OK(mw_gguf_open_model(path, &m, &err));
    assert_string_equal(m->hp.arch, "mamba");
    assert_false(m->has_hparams);
    assert_int_equal(m->hp.dtype, MW_DTYPE_BF16);
    assert_int_equal(m->n_params, 32 * 4 + 32);
    assert_int_equal(m->weights_bytes, 32 * 4 * 2 + 32 * 4);
    mw_model_free(m);

    /* a hyperparameter of the wrong type is an error naming the key */
    OK(mw_gguf_writer_init(&w, &err));
    OK(mw_gguf_writer_set_str(w, "general.architecture", "llama", &err));
    OK(mw_gguf_writer_set_str(w, "llama.block_count", "32", &err));
    path = tmp_path("badhp.gguf");
    OK(mw_gguf_writer_write(w, path, &err));
    mw_gguf_writer_free(w);
    assert_int_equal(mw_gguf_open_model(path, &m, &err), MW_ERR_INVALID);
    assert_null(m);
    assert_non_null(strstr(err.msg, "llama.block_count"));
    assert_non_null(strstr(err.msg, "is a string, expected an integer"));
}

/* ---- hostile files ------------------------------------------------------------ */

static void hostile_header(void **state)
{
    (void)state;
    bld b;
    expect_bad_image(NULL, 0, "empty file", __LINE__);
    b_hdr(&b, 3, 0, 0);
    b.b[3] = 'X';
    EXPECT_BAD(&b, "bad magic at offset 0");
    b.n = 3;
    EXPECT_BAD(&b, "bad magic");
    b_hdr(&b, 1, 0, 0);
    EXPECT_BAD(&b, "GGUF version 1 (offset 4) is not supported");
    b_hdr(&b, 4, 0, 0);
    EXPECT_BAD(&b, "unsupported GGUF version 4");
    b_hdr(&b, 0, 0, 0);
    EXPECT_BAD(&b, "unsupported GGUF version 0");
    b_hdr(&b, 0x03000000, 0, 0);
    EXPECT_BAD(&b, "big-endian");
    b_hdr(&b, 3, 0, 0);
    b.n = 20;
    EXPECT_BAD(&b, "truncated: the metadata kv count at offset 16");
    b_hdr(&b, 3, 0, 1ull << 60);
    EXPECT_BAD(&b, "metadata kv count 1152921504606846976 (offset 16) is impossible");
    b_hdr(&b, 3, 0, 3);
    b_key(&b, "k", MW_GGUF_U8);
    b_u8(&b, 1);
    EXPECT_BAD(&b, "metadata kv count 3 (offset 16) is impossible");
    b_hdr(&b, 3, UINT64_MAX, 0);
    EXPECT_BAD(&b, "tensor count 18446744073709551615 (offset 8) is impossible");
    /* v2 is read like v3 */
    b_hdr(&b, 2, 0, 1);
    b_key(&b, "general.name", MW_GGUF_STRING);
    b_str(&b, "v2");
    EXPECT_OK(&b);
}

static void hostile_metadata(void **state)
{
    (void)state;
    bld b;
    /* a string longer than the file */
    b_hdr(&b, 3, 0, 1);
    b_key(&b, "general.name", MW_GGUF_STRING);
    b_u64(&b, 1000000);
    b_bytes(&b, "abcdefgh", 8);
    EXPECT_BAD(&b, "the string of kv 0 (general.name) at offset 48 has length 1000000, more than "
                   "the 8 bytes left");
    /* a key longer than the file */
    b_hdr(&b, 3, 0, 1);
    b_u64(&b, 1ull << 63);
    b_zeros(&b, 16);
    EXPECT_BAD(&b, "the key of kv 0 at offset 24 has length 9223372036854775808");
    /* empty key */
    b_hdr(&b, 3, 0, 1);
    b_key(&b, "", MW_GGUF_U8);
    b_u8(&b, 0);
    b_zeros(&b, 4);
    EXPECT_BAD(&b, "kv 0 at offset 24 has an empty key");
    /* bools */
    b_hdr(&b, 3, 0, 1);
    b_key(&b, "flag", MW_GGUF_BOOL);
    b_u8(&b, 2);
    EXPECT_BAD(&b, "kv 0 (flag): bool at offset 40 is 2 (must be 0 or 1)");
    b_hdr(&b, 3, 0, 1);
    b_key(&b, "flags", MW_GGUF_ARRAY);
    b_u32(&b, MW_GGUF_BOOL);
    b_u64(&b, 3);
    b_u8(&b, 0);
    b_u8(&b, 1);
    b_u8(&b, 7);
    EXPECT_BAD(&b, "bool 2 of the array at offset 41 is 7");
    /* unknown types */
    b_hdr(&b, 3, 0, 1);
    b_key(&b, "odd", 13);
    b_u64(&b, 0);
    EXPECT_BAD(&b, "kv 0 (odd): unknown value type 13 before offset 39");
    b_hdr(&b, 3, 0, 1);
    b_key(&b, "odd", MW_GGUF_ARRAY);
    b_u32(&b, 99);
    b_u64(&b, 0);
    EXPECT_BAD(&b, "array at offset 39 has unknown element type 99");
    /* array counts bounded by the bytes left */
    b_hdr(&b, 3, 0, 1);
    b_key(&b, "many", MW_GGUF_ARRAY);
    b_u32(&b, MW_GGUF_U32);
    b_u64(&b, 1ull << 40);
    b_u32(&b, 1);
    EXPECT_BAD(&b, "claims 1099511627776 u32 elements (at least 4 bytes each) but only 4 bytes");
    b_hdr(&b, 3, 0, 1);
    b_key(&b, "many", MW_GGUF_ARRAY);
    b_u32(&b, MW_GGUF_STRING);
    b_u64(&b, UINT64_MAX);
    b_zeros(&b, 16);
    EXPECT_BAD(&b, "claims 18446744073709551615 string elements");
    b_hdr(&b, 3, 0, 1);
    b_key(&b, "many", MW_GGUF_ARRAY);
    b_u32(&b, MW_GGUF_ARRAY);
    b_u64(&b, 2);
    b_u32(&b, MW_GGUF_U8);
    b_u64(&b, 0);
    EXPECT_BAD(&b, "claims 2 array elements (at least 12 bytes each) but only 12 bytes");
    /* truncated scalar */
    b_hdr(&b, 3, 0, 1);
    b_key(&b, "big", MW_GGUF_U64);
    b_u32(&b, 0);
    EXPECT_BAD(&b, "truncated: the u64 value of kv 0 (big) at offset 39 needs 8 bytes, only 4 left");
    /* duplicate keys */
    b_hdr(&b, 3, 0, 3);
    b_key(&b, "general.name", MW_GGUF_STRING);
    b_str(&b, "a");
    b_key(&b, "general.other", MW_GGUF_U8);
    b_u8(&b, 1);
    b_key(&b, "general.name", MW_GGUF_U32);
    b_u32(&b, 1);
    EXPECT_BAD(&b, "duplicate key \"general.name\": kv 2 repeats kv 0");
    /* names in messages are made printable */
    b_hdr(&b, 3, 0, 1);
    b_key(&b, "bad\033[31mkey", MW_GGUF_BOOL);
    b_u8(&b, 9);
    EXPECT_BAD(&b, "kv 0 (bad?[31mkey)");
}

static void alignment_kv(bld *b, uint32_t type, uint64_t value)
{
    b_hdr(b, 3, 0, 1);
    b_key(b, "general.alignment", type);
    if (type == MW_GGUF_U64) b_u64(b, value);
    else b_u32(b, (uint32_t)value);
}

static void hostile_alignment(void **state)
{
    (void)state;
    bld b;
    alignment_kv(&b, MW_GGUF_U32, 0);
    EXPECT_BAD(&b, "general.alignment (kv at offset 24) is 0; it must be a non-zero power of two");
    alignment_kv(&b, MW_GGUF_U32, 3);
    EXPECT_BAD(&b, "general.alignment (kv at offset 24) is 3;");
    alignment_kv(&b, MW_GGUF_U64, 64);
    EXPECT_BAD(&b, "general.alignment (kv at offset 24) is a u64; it must be a u32");
    alignment_kv(&b, MW_GGUF_I32, 64);
    EXPECT_BAD(&b, "is a i32; it must be a u32");
    alignment_kv(&b, MW_GGUF_U32, 64);
    EXPECT_OK(&b);
    /* a tensor offset must be a multiple of the file's alignment */
    b_hdr(&b, 3, 1, 1);
    b_key(&b, "general.alignment", MW_GGUF_U32);
    b_u32(&b, 64);
    b_tensor(&b, "w", 1, (uint64_t[]){8}, 0, 32);
    b_pad(&b, 64);
    b_zeros(&b, 96);
    EXPECT_BAD(&b, "tensor 0 (w): data offset 32 (at offset");
    EXPECT_BAD(&b, "is not a multiple of the alignment (64)");
}

/* One tensor w (1 kv-less file), then padding to 32 and `data` zero bytes. */
static void one_tensor(bld *b, uint32_t n_dims, const uint64_t *dims, uint32_t ggml,
                       uint64_t offset, size_t data)
{
    b_hdr(b, 3, 1, 0);
    b_tensor(b, "w", n_dims, dims, ggml, offset);
    b_pad(b, 32);
    b_zeros(b, data);
}

static void hostile_tensors(void **state)
{
    (void)state;
    bld b;
    one_tensor(&b, 2, (uint64_t[]){8, 2}, 0, 0, 64);
    EXPECT_OK(&b);
    one_tensor(&b, 2, (uint64_t[]){8, 2}, 4, 0, 64);
    EXPECT_BAD(&b, "tensor 0 (w), type at offset 53: unknown ggml tensor type 4");
    one_tensor(&b, 2, (uint64_t[]){8, 2}, 1000, 0, 64);
    EXPECT_BAD(&b, "unknown ggml tensor type 1000");
    one_tensor(&b, 0, NULL, 0, 0, 64);
    EXPECT_BAD(&b, "tensor 0 (w) at offset 33 has 0 dimensions (GGUF allows 1 to 4)");
    one_tensor(&b, 5, (uint64_t[]){1, 1, 1, 1, 1}, 0, 0, 64);
    EXPECT_BAD(&b, "tensor 0 (w) at offset 33 has 5 dimensions");
    one_tensor(&b, 2, (uint64_t[]){8, 0}, 0, 0, 64);
    EXPECT_BAD(&b, "tensor 0 (w): dimension 1 at offset 45 is 0 (must be at least 1)");
    one_tensor(&b, 3, (uint64_t[]){1ull << 32, 1ull << 31, 2}, 0, 0, 64);
    EXPECT_BAD(&b, "tensor 0 (w): the element count overflows 64 bits at dimension 2");
    one_tensor(&b, 1, (uint64_t[]){1ull << 62}, 0, 0, 64);
    EXPECT_BAD(&b, "tensor 0 (w): 4611686018427387904 F32 elements overflow a 64-bit byte size");
    one_tensor(&b, 2, (uint64_t[]){16, 4}, 8, 0, 64);
    EXPECT_BAD(&b, "tensor 0 (w): rows of 16 elements are not a whole number of Q8_0 blocks (32 "
                   "elements each)");
    /* K-quants: rows of 256 (Q4_K is ggml type 12, Q6_K 14) */
    one_tensor(&b, 2, (uint64_t[]){128, 4}, 12, 0, 288);
    EXPECT_BAD(&b, "tensor 0 (w): rows of 128 elements are not a whole number of Q4_K blocks (256 "
                   "elements each)");
    one_tensor(&b, 2, (uint64_t[]){256, 2}, 12, 0, 288);
    EXPECT_OK(&b);
    one_tensor(&b, 2, (uint64_t[]){256, 2}, 14, 0, 419); /* 2 x 210 bytes needed */
    EXPECT_BAD(&b, "tensor 0 (w) data [offset 96, 420 bytes] runs past the end of the file");
    one_tensor(&b, 2, (uint64_t[]){256, 2}, 14, 0, 420);
    EXPECT_OK(&b);
    one_tensor(&b, 1, (uint64_t[]){8}, 0, 16, 64);
    EXPECT_BAD(&b, "tensor 0 (w): data offset 16 (at offset 49) is not a multiple of the alignment "
                   "(32)");
    one_tensor(&b, 2, (uint64_t[]){8, 2}, 0, 0, 63);
    EXPECT_BAD(&b, "tensor 0 (w) data [offset 96, 64 bytes] runs past the end of the file (159 "
                   "bytes)");
    one_tensor(&b, 2, (uint64_t[]){8, 2}, 0, 32, 64);
    EXPECT_BAD(&b, "tensor 0 (w) data [offset 128, 64 bytes] runs past the end");
    one_tensor(&b, 1, (uint64_t[]){8}, 0, UINT64_MAX - 31, 64);
    EXPECT_BAD(&b, "tensor 0 (w) data [offset 64 + 18446744073709551584, 32 bytes] runs past");
    /* the data section itself past the end: padding cut */
    one_tensor(&b, 1, (uint64_t[]){8}, 0, 0, 0);
    b.n = 60;
    EXPECT_BAD(&b, "runs past the end of the file (60 bytes)");

    /* two tensors */
    b_hdr(&b, 3, 2, 0);
    b_tensor(&b, "a", 1, (uint64_t[]){16}, 0, 0);
    b_tensor(&b, "b", 1, (uint64_t[]){16}, 0, 32);
    b_pad(&b, 32);
    b_zeros(&b, 96);
    EXPECT_BAD(&b, "tensors 0 (a) [offset 96, 64 bytes] and 1 (b) [offset 128, 64 bytes] overlap");
    b_hdr(&b, 3, 2, 0);
    b_tensor(&b, "a", 1, (uint64_t[]){16}, 0, 64);
    b_tensor(&b, "b", 1, (uint64_t[]){8}, 0, 96);
    b_pad(&b, 32);
    b_zeros(&b, 160);
    EXPECT_BAD(&b, "tensors 0 (a) [offset 160, 64 bytes] and 1 (b) [offset 192, 32 bytes] overlap");
    b_hdr(&b, 3, 2, 0);
    b_tensor(&b, "b", 1, (uint64_t[]){8}, 0, 32);
    b_tensor(&b, "a", 1, (uint64_t[]){8}, 0, 0); /* out of order but disjoint: fine */
    b_pad(&b, 32);
    b_zeros(&b, 64);
    EXPECT_OK(&b);
    b_hdr(&b, 3, 2, 0);
    b_tensor(&b, "a", 1, (uint64_t[]){8}, 0, 0);
    b_tensor(&b, "a", 1, (uint64_t[]){8}, 0, 32);
    b_pad(&b, 32);
    b_zeros(&b, 64);
    EXPECT_BAD(&b, "duplicate tensor name \"a\": tensor 1 repeats tensor 0 (tensor info at offset 57)");
    b_hdr(&b, 3, 1, 0);
    b_tensor(&b, "", 1, (uint64_t[]){8}, 0, 0);
    b_pad(&b, 32);
    b_zeros(&b, 32);
    EXPECT_BAD(&b, "tensor 0 at offset 24 has an empty name");
    b_hdr(&b, 3, 1, 0);
    b_u64(&b, 3);
    b_bytes(&b, "a\0b", 3);
    b_u32(&b, 1);
    b_u64(&b, 8);
    b_u32(&b, 0);
    b_u64(&b, 0);
    b_pad(&b, 32);
    b_zeros(&b, 32);
    EXPECT_BAD(&b, "name \"a?b\" holds a NUL byte");
    char longname[MW_GGUF_MAX_NAME + 2];
    memset(longname, 'n', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    b_hdr(&b, 3, 1, 0);
    b_tensor(&b, longname, 1, (uint64_t[]){8}, 0, 0);
    b_pad(&b, 32);
    b_zeros(&b, 32);
    EXPECT_BAD(&b, "tensor 0 at offset 24: name of 257 bytes (at most 256)");
}

/* A small valid file whose last tensor ends the file: every prefix of it
 * lacks something. */
static void write_small(const char *path)
{
    mw_err err;
    mw_gguf_writer *w;
    OK(mw_gguf_writer_init(&w, &err));
    OK(mw_gguf_writer_set_str(w, "general.architecture", "llama", &err));
    OK(mw_gguf_writer_set_u32(w, "llama.block_count", 1, &err));
    OK(mw_gguf_writer_set_bool(w, "t.flag", 1, &err));
    OK(mw_gguf_writer_set_f32(w, "t.eps", 1e-6f, &err));
    static const char *const toks[] = {"<s>", "</s>", "a", "b"};
    OK(mw_gguf_writer_set_str_array(w, "tokenizer.ggml.tokens", toks, 4, &err));
    static const uint8_t bools[] = {1, 0};
    OK(mw_gguf_writer_set_array(w, "t.bools", MW_GGUF_BOOL, bools, 2, &err));
    bld nb;
    nested_value(&nb);
    OK(mw_gguf_writer_set_raw(w, "t.nested", MW_GGUF_ARRAY, nb.b, nb.n, &err));
    OK(mw_gguf_writer_add_tensor(w, "token_embd.weight", MW_DTYPE_F16, 2, (uint64_t[]){4, 3},
                                 pattern[0], &err));
    OK(mw_gguf_writer_add_tensor(w, "output.weight", MW_DTYPE_F32, 2, (uint64_t[]){4, 2},
                                 pattern[1], &err));
    OK(mw_gguf_writer_write(w, path, &err));
    mw_gguf_writer_free(w);
}

static void truncated_everywhere(void **state)
{
    (void)state;
    const char *path = tmp_path("small.gguf");
    write_small(path);
    size_t n;
    uint8_t *img = slurp(path, &n);
    mw_gguf *g;
    mw_err err;
    OK(mw_gguf_open_memory(img, n, &g, &err));
    assert_int_equal(mw_gguf_tensor_count(g), 2);
    mw_gguf_close(g);
    uint64_t before = mem_now();
    for (size_t len = 0; len < n; len++) {
        uint8_t *cut = malloc(len ? len : 1);
        memcpy(cut, img, len);
        err.msg[0] = '\0';
        g = NULL;
        mw_status st = mw_gguf_open_memory(cut, len, &g, &err);
        if (st == MW_OK) {
            print_error("a prefix of %zu of %zu bytes was accepted\n", len, n);
            mw_gguf_close(g);
        }
        assert_int_not_equal(st, MW_OK);
        assert_null(g);
        assert_true(strlen(err.msg) > 0);
        free(cut);
    }
    /* the same through files */
    for (size_t len = 0; len < n; len += 7) {
        spit(tmp_path("cut.gguf"), img, len);
        assert_int_not_equal(mw_gguf_open(tmp_path("cut.gguf"), &g, &err), MW_OK);
        assert_non_null(strstr(err.msg, tmp_path("cut.gguf")));
    }
    assert_int_equal(mem_now(), before);
    free(img);
}

static void open_errors(void **state)
{
    (void)state;
    mw_gguf *g;
    mw_model *m;
    mw_err err;
    const char *missing = tmp_path("missing.gguf");
    assert_int_equal(mw_gguf_open(missing, &g, &err), MW_ERR_NOT_FOUND);
    assert_non_null(strstr(err.msg, missing));
    assert_int_equal(mw_gguf_open_model(missing, &m, &err), MW_ERR_NOT_FOUND);
    assert_null(m);
    assert_int_not_equal(mw_gguf_open(tmpdir, &g, &err), MW_OK);
    assert_non_null(strstr(err.msg, "not a regular file"));
    spit(tmp_path("empty.gguf"), "", 0);
    assert_int_equal(mw_gguf_open(tmp_path("empty.gguf"), &g, &err), MW_ERR_INVALID);
    assert_non_null(strstr(err.msg, "empty.gguf: empty file (0 bytes)"));
    spit(tmp_path("text.gguf"), "{\"not\": \"gguf\"}", 15);
    assert_int_equal(mw_gguf_open_model(tmp_path("text.gguf"), &m, &err), MW_ERR_INVALID);
    assert_non_null(strstr(err.msg, "text.gguf: not a GGUF file: bad magic"));
}

/* ---- the writer's own checks ------------------------------------------------------ */

static void writer_rejects(void **state)
{
    (void)state;
    mw_err err;
    mw_gguf_writer *w;
    uint64_t before = mem_now();
    OK(mw_gguf_writer_init(&w, &err));
    OK(mw_gguf_writer_set_u32(w, "a", 1, &err));
    assert_int_equal(mw_gguf_writer_set_str(w, "a", "x", &err), MW_ERR_INVALID);
    assert_non_null(strstr(err.msg, "duplicate key \"a\""));
    assert_int_equal(mw_gguf_writer_set_u32(w, "", 1, &err), MW_ERR_INVALID);
    assert_int_equal(mw_gguf_writer_set_u32(w, "general.alignment", 48, &err), MW_ERR_INVALID);
    assert_non_null(strstr(err.msg, "not a non-zero power of two"));
    assert_int_equal(mw_gguf_writer_set_u64(w, "general.alignment", 64, &err), MW_ERR_INVALID);
    assert_non_null(strstr(err.msg, "general.alignment must be a u32"));
    uint8_t two = 2;
    assert_int_equal(mw_gguf_writer_set_scalar(w, "b", MW_GGUF_BOOL, &two, &err), MW_ERR_INVALID);
    assert_int_equal(mw_gguf_writer_set_scalar(w, "b", MW_GGUF_STRING, "x", &err), MW_ERR_INVALID);
    assert_int_equal(mw_gguf_writer_set_array(w, "b", MW_GGUF_STRING, "x", 1, &err),
                     MW_ERR_INVALID);
    static const uint8_t junk[] = {9, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0};
    assert_int_equal(mw_gguf_writer_set_raw(w, "b", MW_GGUF_ARRAY, junk, sizeof junk, &err),
                     MW_ERR_INVALID);
    assert_non_null(strstr(err.msg, "claims 1 array elements"));
    assert_int_equal(mw_gguf_writer_set_raw(w, "b", MW_GGUF_U32, junk, sizeof junk, &err),
                     MW_ERR_INVALID);
    assert_non_null(strstr(err.msg, "a u32 takes 4 bytes but 12 were given"));

    uint64_t dims[2] = {32, 2};
    OK(mw_gguf_writer_add_tensor(w, "t", MW_DTYPE_Q8_0, 2, dims, zeros, &err));
    assert_int_equal(mw_gguf_writer_add_tensor(w, "t", MW_DTYPE_F32, 2, dims, zeros, &err),
                     MW_ERR_INVALID);
    assert_non_null(strstr(err.msg, "duplicate tensor name \"t\""));
    assert_int_equal(mw_gguf_writer_set_u32(w, "general.alignment", 64, &err), MW_ERR_INVALID);
    assert_non_null(strstr(err.msg, "before adding tensors"));
    dims[0] = 16;
    assert_int_equal(mw_gguf_writer_add_tensor(w, "q", MW_DTYPE_Q8_0, 2, dims, zeros, &err),
                     MW_ERR_INVALID);
    assert_non_null(strstr(err.msg, "not whole Q8_0 blocks"));
    dims[0] = 128;
    assert_int_equal(mw_gguf_writer_add_tensor(w, "k", MW_DTYPE_Q5_K, 2, dims, zeros, &err),
                     MW_ERR_INVALID);
    assert_non_null(strstr(err.msg, "not whole Q5_K blocks"));
    dims[0] = 16;
    assert_int_equal(mw_gguf_writer_add_tensor(w, "u", MW_DTYPE_U16, 2, dims, zeros, &err),
                     MW_ERR_INVALID);
    assert_non_null(strstr(err.msg, "no ggml id"));
    assert_int_equal(mw_gguf_writer_add_tensor(w, "z", MW_DTYPE_F32, 5, dims, zeros, &err),
                     MW_ERR_INVALID);
    char longname[80];
    memset(longname, 'x', 64);
    longname[64] = '\0';
    assert_int_equal(mw_gguf_writer_add_tensor(w, longname, MW_DTYPE_F32, 1, dims, zeros, &err),
                     MW_ERR_INVALID);
    assert_non_null(strstr(err.msg, "longer than 63 bytes"));

    const char *bad = "/nonexistent-memwall-dir/x.gguf";
    assert_int_equal(mw_gguf_writer_write(w, bad, &err), MW_ERR_NOT_FOUND);
    assert_non_null(strstr(err.msg, "/nonexistent-memwall-dir/x.gguf: cannot create a temporary file"));

    /* what was accepted is still written */
    const char *path = tmp_path("rejects.gguf");
    OK(mw_gguf_writer_write(w, path, &err));
    mw_gguf_writer_free(w);
    mw_gguf *g;
    OK(mw_gguf_open(path, &g, &err));
    assert_int_equal(mw_gguf_kv_count(g), 1);
    assert_int_equal(mw_gguf_tensor_count(g), 1);
    assert_int_equal(mw_gguf_tensor_at(g, 0)->bytes, 68);
    mw_gguf_close(g);
    mw_gguf_writer_free(NULL);
    mw_gguf_close(NULL);
    assert_int_equal(mem_now(), before);
}

/* Many entries: parsing stays fast (no quadratic step) and a duplicate at
 * the very end is still found. */
typedef struct dbuf {
    uint8_t *p;
    size_t n, cap;
} dbuf;

static void d_put(dbuf *d, const void *v, size_t n)
{
    if (d->n + n > d->cap) {
        d->cap = (d->n + n) * 2;
        d->p = realloc(d->p, d->cap);
        assert_non_null(d->p);
    }
    memcpy(d->p + d->n, v, n);
    d->n += n;
}

static void d_str(dbuf *d, const char *s)
{
    uint64_t n = strlen(s);
    d_put(d, &n, 8);
    d_put(d, s, n);
}

static void many_image(dbuf *d, uint64_t n, int dup_key, int dup_tensor)
{
    d->n = 0;
    uint32_t v3 = 3, u8t = MW_GGUF_U8, one = 1, f32 = 0;
    uint64_t dim = 8;
    d_put(d, "GGUF", 4);
    d_put(d, &v3, 4);
    d_put(d, &n, 8);
    d_put(d, &n, 8);
    char name[32];
    for (uint64_t i = 0; i < n; i++) {
        snprintf(name, sizeof name, "k.%llu", (unsigned long long)(dup_key && i == n - 1 ? 0 : i));
        d_str(d, name);
        d_put(d, &u8t, 4);
        d_put(d, &one, 1);
    }
    for (uint64_t i = 0; i < n; i++) {
        snprintf(name, sizeof name, "t.%llu", (unsigned long long)(dup_tensor && i == n - 1 ? 0 : i));
        d_str(d, name);
        d_put(d, &one, 4);
        d_put(d, &dim, 8);
        d_put(d, &f32, 4);
        uint64_t off = i * 32;
        d_put(d, &off, 8);
    }
    static const uint8_t z[32];
    d_put(d, z, (32 - d->n % 32) % 32);
    for (uint64_t i = 0; i < n; i++) d_put(d, z, 32);
}

static void many_entries(void **state)
{
    (void)state;
    dbuf d = {0};
    const uint64_t n = 50000;
    mw_gguf *g;
    mw_err err;
    many_image(&d, n, 0, 0);
    OK(mw_gguf_open_memory(d.p, d.n, &g, &err));
    assert_int_equal(mw_gguf_kv_count(g), n);
    assert_int_equal(mw_gguf_tensor_count(g), n);
    assert_non_null(mw_gguf_find(g, "k.49999"));
    assert_int_equal(mw_gguf_tensor_at(g, n - 1)->offset, (n - 1) * 32);
    mw_gguf_close(g);
    many_image(&d, n, 1, 0);
    expect_bad_image(d.p, d.n, "duplicate key \"k.0\": kv 49999 repeats kv 0", __LINE__);
    many_image(&d, n, 0, 1);
    expect_bad_image(d.p, d.n, "duplicate tensor name \"t.0\": tensor 49999 repeats tensor 0",
                     __LINE__);
    free(d.p);
}

/* ---- allocation failures ------------------------------------------------------------ */

static void fault_injection_open_model(void **state)
{
    (void)state;
    const char *path = tmp_path("fi.gguf");
    write_llama(path, &tiny_llama);
    mw_model *m;
    mw_err err;
    uint64_t before = mem_now(), a0 = mem_allocations();
    OK(mw_gguf_open_model(path, &m, &err));
    mw_model_free(m);
    uint64_t n = mem_allocations() - a0;
    assert_true(n >= 5);
    for (uint64_t k = 1; k <= n; k++) {
        mw_mem_fail_after(k);
        mw_status st = mw_gguf_open_model(path, &m, &err);
        mw_mem_fail_after(0);
        if (st != MW_ERR_NOMEM) print_error("k=%llu: %s %s\n", (unsigned long long)k,
                                            mw_status_name(st), err.msg);
        assert_int_equal(st, MW_ERR_NOMEM);
        assert_null(m);
        assert_true(strlen(err.msg) > 0);
        assert_int_equal(mem_now(), before);
    }
    mw_mem_fail_after(n + 1);
    OK(mw_gguf_open_model(path, &m, &err));
    mw_mem_fail_after(0);
    mw_model_free(m);
    assert_int_equal(mem_now(), before);
}

static void fault_injection_writer(void **state)
{
    (void)state;
    const char *path = tmp_path("fiw.gguf");
    mw_err err;
    uint64_t before = mem_now();
    for (uint64_t k = 1;; k++) {
        mw_gguf_writer *w = NULL;
        mw_mem_fail_after(k);
        mw_status st = mw_gguf_writer_init(&w, &err);
        if (st == MW_OK) {
            uint8_t u8 = 3;
            static const char *const s[] = {"x", "y"};
            static const uint32_t a[] = {1, 2};
            bld nb;
            nested_value(&nb);
            st = mw_gguf_writer_set_str(w, "general.architecture", "llama", &err);
            if (st == MW_OK) st = mw_gguf_writer_set_scalar(w, "u8", MW_GGUF_U8, &u8, &err);
            if (st == MW_OK) st = mw_gguf_writer_set_str_array(w, "s", s, 2, &err);
            if (st == MW_OK) st = mw_gguf_writer_set_array(w, "a", MW_GGUF_U32, a, 2, &err);
            if (st == MW_OK) st = mw_gguf_writer_set_raw(w, "n", MW_GGUF_ARRAY, nb.b, nb.n, &err);
            for (int i = 0; i < 20 && st == MW_OK; i++) {
                char name[16];
                snprintf(name, sizeof name, "t%d", i);
                st = mw_gguf_writer_add_tensor(w, name, MW_DTYPE_F32, 1, (uint64_t[]){8}, zeros,
                                               &err);
            }
            if (st == MW_OK) st = mw_gguf_writer_write(w, path, &err);
        }
        mw_mem_fail_after(0);
        mw_gguf_writer_free(w);
        assert_int_equal(mem_now(), before);
        if (st == MW_OK) {
            assert_true(k > 5);
            break;
        }
        assert_int_equal(st, MW_ERR_NOMEM);
        assert_true(k < 1000);
    }
    mw_gguf *g;
    OK(mw_gguf_open(path, &g, &err));
    assert_int_equal(mw_gguf_tensor_count(g), 20);
    assert_int_equal(mw_gguf_kv_count(g), 5);
    mw_gguf_close(g);
}

/* ---- fuzz seeds --------------------------------------------------------------------- */

static void seeds_for_the_fuzzer(void **state)
{
    (void)state;
    const char *dir = getenv("MW_GGUF_SEED_DIR");
    char path[512];
    mw_err err;
    size_t n;
    uint8_t *img;

    /* small: kvs of several kinds, nested arrays, two tensors */
    write_small(tmp_path("seed.gguf"));
    img = slurp(tmp_path("seed.gguf"), &n);
    snprintf(path, sizeof path, "%s/small.gguf", dir);
    spit(path, img, n);
    assert_true(n < 4096);
    free(img);

    /* every value type, alignment 64 */
    mw_gguf_writer *w;
    OK(mw_gguf_writer_init(&w, &err));
    write_all_types(w, 64);
    OK(mw_gguf_writer_write(w, tmp_path("seed.gguf"), &err));
    mw_gguf_writer_free(w);
    img = slurp(tmp_path("seed.gguf"), &n);
    snprintf(path, sizeof path, "%s/all_types_align64.gguf", dir);
    spit(path, img, n);
    assert_true(n < 4096);
    free(img);

    /* a tiny llama: hparams, tokenizer, blk.* tensors */
    llama_spec s = tiny_llama;
    s.n_layers = 1;
    s.n_embd = 8;
    s.n_heads = 2;
    s.n_kv_heads = 1;
    s.n_ff = 16;
    s.n_vocab = 6;
    s.mat = MW_DTYPE_F16;
    write_llama(tmp_path("seed.gguf"), &s);
    img = slurp(tmp_path("seed.gguf"), &n);
    snprintf(path, sizeof path, "%s/tiny_llama.gguf", dir);
    spit(path, img, n);
    assert_true(n < 4096);
    free(img);

    /* 8-deep nested arrays, no tensors; a v2 header */
    bld b;
    b_hdr(&b, 2, 0, 2);
    b_key(&b, "deep", MW_GGUF_ARRAY);
    for (int l = 1; l < MW_GGUF_MAX_DEPTH; l++) {
        b_u32(&b, MW_GGUF_ARRAY);
        b_u64(&b, 1);
    }
    b_u32(&b, MW_GGUF_STRING);
    b_u64(&b, 2);
    b_str(&b, "ab");
    b_str(&b, "c");
    b_key(&b, "general.alignment", MW_GGUF_U32);
    b_u32(&b, 16);
    snprintf(path, sizeof path, "%s/nested_v2.gguf", dir);
    spit(path, b.b, b.n);

    /* quantized tensors at several offsets */
    b_hdr(&b, 3, 3, 0);
    b_tensor(&b, "q4k", 2, (uint64_t[]){256, 1}, 12, 0);
    b_tensor(&b, "q8", 1, (uint64_t[]){32}, 8, 160);
    b_tensor(&b, "mx", 4, (uint64_t[]){32, 1, 1, 1}, 39, 224);
    b_pad(&b, 32);
    b_zeros(&b, 256);
    EXPECT_OK(&b);
    snprintf(path, sizeof path, "%s/quant.gguf", dir);
    spit(path, b.b, b.n);
}

int main(void)
{
    fill_patterns();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(roundtrip_align32),
        cmocka_unit_test(roundtrip_align64),
        cmocka_unit_test(nesting_depth),
        cmocka_unit_test(model_llama),
        cmocka_unit_test(model_variants),
        cmocka_unit_test(hostile_header),
        cmocka_unit_test(hostile_metadata),
        cmocka_unit_test(hostile_alignment),
        cmocka_unit_test(hostile_tensors),
        cmocka_unit_test(truncated_everywhere),
        cmocka_unit_test(open_errors),
        cmocka_unit_test(writer_rejects),
        cmocka_unit_test(many_entries),
        cmocka_unit_test(fault_injection_open_model),
        cmocka_unit_test(fault_injection_writer),
    };
    const char *seeds = getenv("MW_GGUF_SEED_DIR");
    if (seeds && *seeds) {
        const struct CMUnitTest gen[] = {cmocka_unit_test(seeds_for_the_fuzzer)};
        return cmocka_run_group_tests(gen, setup_dir, remove_dir);
    }
    return cmocka_run_group_tests(tests, setup_dir, remove_dir);
}
