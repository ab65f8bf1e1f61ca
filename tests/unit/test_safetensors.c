/* test_safetensors.c - safetensors files written here (header + buffer):
 * a single file, a sharded model with its index and config.json, and the
 * hostile headers a reader must refuse, each with the message it must give. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "memwall.h"
#include "common/test_hooks.h"
#include "common/error.h"
#include "format/model_build.h"
#include "format/safetensors.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmpdir[64];

/* ---- writing files ---------------------------------------------------------- */

/* An image: u64 LE header length, the header, buf_len bytes of buffer. */
static unsigned char *make_image_n(uint64_t n_field, const char *header, size_t header_len,
                                   size_t buf_len, size_t *size)
{
    *size = 8 + header_len + buf_len;
    unsigned char *p = malloc(*size ? *size : 1);
    assert_non_null(p);
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)(n_field >> (8 * i));
    memcpy(p + 8, header, header_len);
    for (size_t i = 0; i < buf_len; i++) p[8 + header_len + i] = (unsigned char)(i * 7);
    return p;
}

static unsigned char *make_image(const char *header, size_t buf_len, size_t *size)
{
    return make_image_n(strlen(header), header, strlen(header), buf_len, size);
}

static void path_in(char *out, size_t cap, const char *rel)
{
    snprintf(out, cap, "%s/%s", tmpdir, rel);
}

static void write_bytes(const char *rel, const void *data, size_t len)
{
    char path[256];
    path_in(path, sizeof path, rel);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static void write_text(const char *rel, const char *text)
{
    write_bytes(rel, text, strlen(text));
}

static void write_st(const char *rel, const char *header, size_t buf_len)
{
    size_t size;
    unsigned char *img = make_image(header, buf_len, &size);
    write_bytes(rel, img, size);
    free(img);
}

static void make_dir(const char *rel)
{
    char path[256];
    path_in(path, sizeof path, rel);
    assert_int_equal(mkdir(path, 0755), 0);
}

static const mw_tensor_info *find_tensor(const mw_model *m, const char *name)
{
    for (uint32_t i = 0; i < m->n_tensors; i++)
        if (!strcmp(m->tensors[i].name, name)) return &m->tensors[i];
    return NULL;
}

static uint64_t mem_now(void)
{
    mw_mem_stats s;
    mw_mem_get_stats(&s);
    return s.total_current_bytes;
}

/* ---- fixtures ------------------------------------------------------------------ */

/* Five dtypes, listed out of offset order, with metadata, space-padded as
 * the Python writer pads (to a multiple of 8). Buffer: 61 bytes. */
static const char single_header[] =
    "{\"__metadata__\":{\"format\":\"pt\",\"note\":\"x\"},"
    "\"e.u8\":{\"dtype\":\"U8\",\"shape\":[5],\"data_offsets\":[56,61]},"
    "\"a.f32\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]},"
    "\"c.bf16\":{\"dtype\":\"BF16\",\"shape\":[2,2,2],\"data_offsets\":[32,48]},"
    "\"b.f16\":{\"dtype\":\"F16\",\"shape\":[4],\"data_offsets\":[24,32]},"
    "\"d.i64\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[48,56]}}    ";
#define SINGLE_BUF 61

static const char llama_config[] =
    "{\"architectures\":[\"LlamaForCausalLM\"],\"model_type\":\"llama\",\"hidden_size\":64,"
    "\"num_hidden_layers\":2,\"num_attention_heads\":4,\"num_key_value_heads\":2,"
    "\"intermediate_size\":128,\"vocab_size\":100,\"max_position_embeddings\":256,"
    "\"rms_norm_eps\":1e-05,\"torch_dtype\":\"bfloat16\"}";

/* Two shards of a (partial) llama: BF16 embeddings and head, norms. */
static const char shard1_header[] =
    "{\"model.embed_tokens.weight\":{\"dtype\":\"BF16\",\"shape\":[100,64],"
    "\"data_offsets\":[0,12800]},"
    "\"model.layers.0.input_layernorm.weight\":{\"dtype\":\"BF16\",\"shape\":[64],"
    "\"data_offsets\":[12800,12928]}}";
static const char shard2_header[] =
    "{\"__metadata__\":{\"format\":\"pt\"},"
    "\"model.norm.weight\":{\"dtype\":\"F32\",\"shape\":[64],\"data_offsets\":[0,256]},"
    "\"lm_head.weight\":{\"dtype\":\"BF16\",\"shape\":[100,64],\"data_offsets\":[256,13056]}}";
static const char good_index[] =
    "{\"metadata\":{\"total_size\":25984},\"weight_map\":{"
    "\"lm_head.weight\":\"model-00002-of-00002.safetensors\","
    "\"model.embed_tokens.weight\":\"model-00001-of-00002.safetensors\","
    "\"model.layers.0.input_layernorm.weight\":\"model-00001-of-00002.safetensors\","
    "\"model.norm.weight\":\"model-00002-of-00002.safetensors\"}}";

static void write_sharded(const char *dir, const char *index, int with_config)
{
    char rel[128];
    make_dir(dir);
    snprintf(rel, sizeof rel, "%s/model-00001-of-00002.safetensors", dir);
    write_st(rel, shard1_header, 12928);
    snprintf(rel, sizeof rel, "%s/model-00002-of-00002.safetensors", dir);
    write_st(rel, shard2_header, 13056);
    snprintf(rel, sizeof rel, "%s/model.safetensors.index.json", dir);
    write_text(rel, index);
    if (with_config) {
        snprintf(rel, sizeof rel, "%s/config.json", dir);
        write_text(rel, llama_config);
    }
}

static int setup(void **state)
{
    (void)state;
    strcpy(tmpdir, "/tmp/mw-st-XXXXXX");
    assert_non_null(mkdtemp(tmpdir));
    make_dir("single");
    write_st("single/model.safetensors", single_header, SINGLE_BUF);
    write_sharded("sharded", good_index, 1);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

/* ---- good files ------------------------------------------------------------- */

static void single_file(void **state)
{
    (void)state;
    char path[256];
    path_in(path, sizeof path, "single/model.safetensors");
    mw_model *m = NULL;
    mw_err err = {0};
    assert_int_equal(mw_safetensors_open_model(path, &m, &err), MW_OK);
    assert_int_equal(m->source, MW_SOURCE_SAFETENSORS);
    assert_string_equal(m->path, path);
    assert_int_equal(m->n_files, 1);
    assert_string_equal(m->files[0], path);
    assert_int_equal(m->n_tensors, 5);
    assert_int_equal(m->has_hparams, 0); /* no config.json beside it */
    const uint64_t base = 8 + strlen(single_header);
    /* in file order (by offset), offsets absolute */
    static const struct {
        const char *name; mw_dtype dtype; uint32_t n_dims; uint64_t shape[3];
        uint64_t begin, bytes, n;
    } want[] = {
        {"a.f32", MW_DTYPE_F32, 2, {2, 3}, 0, 24, 6},
        {"b.f16", MW_DTYPE_F16, 1, {4}, 24, 8, 4},
        {"c.bf16", MW_DTYPE_BF16, 3, {2, 2, 2}, 32, 16, 8},
        {"d.i64", MW_DTYPE_I64, 0, {0}, 48, 8, 1},
        {"e.u8", MW_DTYPE_U8, 1, {5}, 56, 5, 5},
    };
    for (size_t i = 0; i < MW_ARRAY_LEN(want); i++) {
        const mw_tensor_info *t = &m->tensors[i];
        assert_string_equal(t->name, want[i].name);
        assert_int_equal(t->dtype, want[i].dtype);
        assert_int_equal(t->n_dims, want[i].n_dims);
        for (uint32_t d = 0; d < t->n_dims; d++) assert_true(t->shape[d] == want[i].shape[d]);
        assert_true(t->offset == base + want[i].begin);
        assert_true(t->bytes == want[i].bytes);
        assert_true(t->n_elems == want[i].n);
        assert_int_equal(t->file, 0);
    }
    assert_true(m->n_params == 6 + 4 + 8 + 1 + 5);
    assert_true(m->weights_bytes == SINGLE_BUF);
    assert_int_equal(m->hp.dtype, MW_DTYPE_F32); /* holds the most bytes */
    mw_model_free(m);
}

static void parse_in_memory_and_empty_header(void **state)
{
    (void)state;
    size_t size;
    unsigned char *img = make_image(single_header, SINGLE_BUF, &size);
    mw_model *m = mw_model_alloc(MW_SOURCE_SAFETENSORS, "mem");
    mw_err err = {0};
    assert_int_equal(mw_safetensors_parse(img, size, m, 0, &err), MW_OK);
    assert_int_equal(m->n_tensors, 5);
    mw_model_free(m);
    free(img);

    /* "{}" and no buffer: a valid file without tensors */
    img = make_image("{}", 0, &size);
    m = mw_model_alloc(MW_SOURCE_SAFETENSORS, "mem");
    assert_int_equal(mw_safetensors_parse(img, size, m, 0, &err), MW_OK);
    assert_int_equal(m->n_tensors, 0);
    mw_model_free(m);
    free(img);

    /* empty tensors take no bytes and may share an offset; whitespace padding */
    img = make_image("{\"z\":{\"dtype\":\"F32\",\"shape\":[0,5],\"data_offsets\":[4,4]},"
                     "\"y\":{\"dtype\":\"I32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                     "\"x\":{\"dtype\":\"BOOL\",\"shape\":[0],\"data_offsets\":[4,4]},"
                     "\"w\":{\"dtype\":\"F8_E4M3\",\"shape\":[2],\"data_offsets\":[4,6]}} \n ",
                     6, &size);
    m = mw_model_alloc(MW_SOURCE_SAFETENSORS, "mem");
    assert_int_equal(mw_safetensors_parse(img, size, m, 0, &err), MW_OK);
    assert_int_equal(m->n_tensors, 4);
    assert_string_equal(m->tensors[0].name, "y");
    assert_string_equal(m->tensors[3].name, "w");
    mw_model_free(m);
    free(img);
}

static int maps_of(const char *path)
{
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f) return -1;
    char line[1024];
    int n = 0;
    while (fgets(line, sizeof line, f))
        if (strstr(line, path)) n++;
    fclose(f);
    return n;
}

static void sharded_model(void **state)
{
    (void)state;
    char path[256], s1[256], s2[256];
    path_in(path, sizeof path, "sharded/model.safetensors.index.json");
    path_in(s1, sizeof s1, "sharded/model-00001-of-00002.safetensors");
    path_in(s2, sizeof s2, "sharded/model-00002-of-00002.safetensors");
    mw_model *m = NULL;
    mw_err err = {0};
    mw_status st = mw_safetensors_open_model(path, &m, &err);
    if (st != MW_OK) fail_msg("%s", err.msg);
    assert_int_equal(m->n_files, 2);
    assert_string_equal(m->files[0], s1);
    assert_string_equal(m->files[1], s2);
    assert_int_equal(m->n_tensors, 4);
    const mw_tensor_info *t = find_tensor(m, "model.embed_tokens.weight");
    assert_non_null(t);
    assert_int_equal(t->file, 0);
    assert_true(t->offset == 8 + strlen(shard1_header));
    assert_true(t->shape[0] == 100 && t->shape[1] == 64);
    t = find_tensor(m, "lm_head.weight");
    assert_non_null(t);
    assert_int_equal(t->file, 1);
    assert_true(t->offset == 8 + strlen(shard2_header) + 256);
    t = find_tensor(m, "model.norm.weight");
    assert_non_null(t);
    assert_int_equal(t->dtype, MW_DTYPE_F32);
    assert_non_null(find_tensor(m, "model.layers.0.input_layernorm.weight"));
    assert_true(m->n_params == 6400 + 64 + 64 + 6400);
    assert_true(m->weights_bytes == 12928 + 13056);
    /* config.json beside the index gives the hparams */
    assert_int_equal(m->has_hparams, 1);
    assert_string_equal(m->hp.arch, "llama");
    assert_int_equal(m->hp.n_layers, 2);
    assert_int_equal(m->hp.n_embd, 64);
    assert_int_equal(m->hp.n_heads, 4);
    assert_int_equal(m->hp.n_kv_heads, 2);
    assert_int_equal(m->hp.n_ff, 128);
    assert_int_equal(m->hp.n_vocab, 100);
    assert_int_equal(m->hp.dtype, MW_DTYPE_BF16);
    /* the shards stay mapped as long as the model lives, and no longer */
    assert_int_equal(maps_of(s1), 1);
    assert_int_equal(maps_of(s2), 1);
    mw_model_free(m);
    assert_int_equal(maps_of(s1), 0);
    assert_int_equal(maps_of(s2), 0);
}

/* ---- hostile single files --------------------------------------------------------- */

static void expect_parse_error(const unsigned char *img, size_t size, mw_status want,
                               const char *needle)
{
    /* an exact-size copy: ASan sees any read past the end */
    unsigned char *copy = malloc(size ? size : 1);
    assert_non_null(copy);
    memcpy(copy, img, size);
    mw_model *m = mw_model_alloc(MW_SOURCE_SAFETENSORS, "hostile.safetensors");
    mw_err err = {0};
    mw_status st = mw_safetensors_parse(copy, size, m, 0, &err);
    if (st == MW_OK || (want != MW_OK && st != want) || !strstr(err.msg, needle) ||
        !strstr(err.msg, "hostile.safetensors"))
        fail_msg("want \"%s\" (status %d), got status %d: \"%s\"", needle, want, st, err.msg);
    assert_int_equal(err.status, st);
    mw_model_free(m);
    free(copy);
}

static void expect_header_error(const char *header, size_t buf_len, const char *needle)
{
    size_t size;
    unsigned char *img = make_image(header, buf_len, &size);
    expect_parse_error(img, size, MW_OK /* any error */, needle);
    free(img);
}

#define T(name, dtype, shape, b, e) \
    "\"" name "\":{\"dtype\":\"" dtype "\",\"shape\":" shape ",\"data_offsets\":[" #b "," #e "]}"

static void hostile_lengths(void **state)
{
    (void)state;
    size_t size;
    expect_parse_error((const unsigned char *)"abc", 3, MW_ERR_INVALID, "3 bytes, too short");
    expect_parse_error((const unsigned char *)"", 0, MW_ERR_INVALID, "0 bytes, too short");
    /* N larger than what follows */
    unsigned char *img = make_image_n(100, "{}", 2, 8, &size);
    expect_parse_error(img, size, MW_ERR_INVALID, "header length 100 at byte 0 runs past");
    free(img);
    /* N absurd (> 100 MB), and the top bit set */
    img = make_image_n(200ull << 20, "{}", 2, 0, &size);
    expect_parse_error(img, size, MW_ERR_INVALID, "exceeds the 104857600-byte limit");
    free(img);
    img = make_image_n(UINT64_MAX, "{}", 2, 0, &size);
    expect_parse_error(img, size, MW_ERR_INVALID, "header length 18446744073709551615");
    free(img);
    img = make_image_n(1, "{}", 2, 0, &size);
    expect_parse_error(img, size, MW_ERR_INVALID, "too small");
    free(img);
    img = make_image_n(0, "", 0, 0, &size);
    expect_parse_error(img, size, MW_ERR_INVALID, "too small");
    free(img);
}

static void hostile_json(void **state)
{
    (void)state;
    expect_header_error("{not json}", 0, "not valid JSON");
    expect_header_error("{\"a\":", 0, "not valid JSON");
    expect_header_error("{\"a\":\"\\", 0, "not valid JSON");   /* ends in a backslash */
    expect_header_error("{\"a\":\"\\u12", 0, "not valid JSON"); /* cut escape */
    expect_header_error("[1,2]", 0, "does not start with '{'");
    expect_header_error(" {}", 0, "does not start with '{'");
    expect_header_error("{}x", 0, "unexpected byte 0x78 at file byte 10");
    expect_header_error("{}  {}", 0, "unexpected byte 0x7b");
    expect_header_error("{\"a\":5}", 0, "header entry \"a\" is not an object");
    expect_header_error("{\"a\":[]}", 0, "header entry \"a\" is not an object");
}

static void hostile_entries(void **state)
{
    (void)state;
    expect_header_error("{" T("w", "F4", "[2]", 0, 1) "}", 1, "unknown dtype \"F4\"");
    expect_header_error("{" T("w", "f32", "[2]", 0, 8) "}", 8, "unknown dtype \"f32\"");
    expect_header_error("{\"w\":{\"dtype\":7,\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
                        "\"dtype\" is not a string");
    expect_header_error("{\"w\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "has no \"dtype\"");
    expect_header_error("{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4,
                        "has no \"shape\"");
    expect_header_error("{\"w\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4,
                        "has no \"data_offsets\"");
    expect_header_error("{\"w\":{\"dtype\":\"F32\",\"dtype\":\"F16\",\"shape\":[1],"
                        "\"data_offsets\":[0,4]}}", 4, "has \"dtype\" twice");
    /* shapes */
    expect_header_error("{" T("w", "F32", "[-1]", 0, 4) "}", 4,
                        "tensor \"w\": shape[0] is not a non-negative integer");
    expect_header_error("{" T("w", "F32", "[2, 1.5]", 0, 12) "}", 12, "shape[1] is not a non-neg");
    expect_header_error("{" T("w", "F32", "[1e300]", 0, 4) "}", 4, "shape[0] is not a non-neg");
    expect_header_error("{" T("w", "U8", "[9007199254740992]", 0, 4) "}", 4, "below 2^53");
    expect_header_error("{" T("w", "F32", "[\"2\"]", 0, 8) "}", 8, "not a number");
    expect_header_error("{" T("w", "F32", "3", 0, 12) "}", 12, "\"shape\" is not an array");
    expect_header_error("{" T("w", "U8", "[4294967296,4294967296,4294967296]", 0, 4) "}", 4,
                        "overflows 64 bits");
    expect_header_error("{" T("w", "U8", "[1,1,1,1,1,1,1,1,1]", 0, 1) "}", 1,
                        "more than 8 dimensions");
    /* offsets */
    expect_header_error("{" T("w", "F32", "[2]", 8, 0) "}", 8,
                        "data_offsets [8, 0] are reversed");
    expect_header_error("{" T("w", "F32", "[2]", 0, 8) "}", 4,
                        "data_offsets [0, 8] end past the 4-byte buffer");
    expect_header_error("{" T("w", "F32", "[3]", 0, 8) "}", 8,
                        "data_offsets [0, 8] hold 8 bytes but F32 x [3] needs 12");
    expect_header_error("{" T("w", "BF16", "[2,3]", 0, 8) "}", 8,
                        "hold 8 bytes but BF16 x [2, 3] needs 12");
    expect_header_error("{" T("w", "F32", "[2]", -1, 7) "}", 8, "data_offsets are not");
    expect_header_error("{" T("w", "F32", "[2]", 0.5, 8) "}", 8, "data_offsets are not");
    expect_header_error("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8,9]}}", 9,
                        "is not an array [begin, end]");
    expect_header_error("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8]}}", 8,
                        "is not an array [begin, end]");
    /* the tensors together */
    expect_header_error("{" T("a", "F32", "[2]", 0, 8) "," T("b", "F32", "[2]", 4, 12) "}", 12,
                        "tensor \"b\" [4, 12) overlaps tensor \"a\" [0, 8)");
    expect_header_error("{" T("a", "F32", "[2]", 0, 8) "," T("b", "F32", "[2]", 0, 8) "}", 8,
                        "overlaps");
    expect_header_error("{" T("a", "F32", "[2]", 0, 8) "," T("b", "F32", "[2]", 12, 20) "}", 20,
                        "hole: buffer bytes [8, 12)");
    expect_header_error("{" T("a", "F32", "[2]", 4, 12) "}", 12, "hole: buffer bytes [0, 4)");
    expect_header_error("{" T("a", "F32", "[2]", 0, 8) "}", 12,
                        "buffer bytes [8, 12) (file bytes");
    expect_header_error("{}", 3, "buffer bytes [0, 3)");
    expect_header_error("{" T("a", "F32", "[2]", 0, 8) "," T("a", "F32", "[2]", 8, 16) "}", 16,
                        "tensor \"a\" appears twice");
    /* metadata */
    expect_header_error("{\"__metadata__\":{\"k\":1}}", 0,
                        "\"__metadata__\" entry \"k\" is not a string");
    expect_header_error("{\"__metadata__\":[\"k\"]}", 0, "not an object of strings");
    expect_header_error("{\"__metadata__\":{},\"__metadata__\":{}}", 0,
                        "\"__metadata__\" appears twice");
}

/* Every prefix of a valid file is an error, never a crash or a read past it. */
static void truncation(void **state)
{
    (void)state;
    size_t size;
    unsigned char *img = make_image(single_header, SINGLE_BUF, &size);
    for (size_t len = 0; len < size; len++) {
        unsigned char *cut = malloc(len ? len : 1);
        assert_non_null(cut);
        memcpy(cut, img, len);
        mw_model *m = mw_model_alloc(MW_SOURCE_SAFETENSORS, "cut");
        mw_err err = {0};
        if (mw_safetensors_parse(cut, len, m, 0, &err) == MW_OK)
            fail_msg("a %zu-byte prefix of a %zu-byte file was accepted", len, size);
        assert_true(strlen(err.msg) > 0);
        mw_model_free(m);
        free(cut);
    }
    free(img);

    /* and through files */
    char path[256];
    path_in(path, sizeof path, "cut.safetensors");
    img = make_image(single_header, SINGLE_BUF, &size);
    const size_t cuts[] = {0, 7, 8, 9, 100, size - 1};
    for (size_t i = 0; i < MW_ARRAY_LEN(cuts); i++) {
        write_bytes("cut.safetensors", img, cuts[i]);
        mw_model *m = (mw_model *)1;
        mw_err err = {0};
        assert_int_not_equal(mw_safetensors_open_model(path, &m, &err), MW_OK);
        assert_null(m);
        assert_non_null(strstr(err.msg, "cut.safetensors"));
    }
    free(img);
    unlink(path);
}

/* ---- hostile shard sets --------------------------------------------------------------- */

static void expect_open_error(const char *rel, mw_status want, const char *needle)
{
    char path[256];
    path_in(path, sizeof path, rel);
    mw_model *m = (mw_model *)1;
    mw_err err = {0};
    mw_status st = mw_safetensors_open_model(path, &m, &err);
    if (st == MW_OK || (want != MW_OK && st != want) || !strstr(err.msg, needle))
        fail_msg("%s: want \"%s\", got status %d: \"%s\"", rel, needle, st, err.msg);
    assert_null(m);
}

static void hostile_index(void **state)
{
    (void)state;
    static const struct { const char *dir, *index; mw_status want; const char *needle; } cases[] = {
        {"i_missing",
         "{\"weight_map\":{\"a\":\"model-00001-of-00002.safetensors\",\"b\":\"nope.safetensors\"}}",
         MW_ERR_NOT_FOUND, "i_missing/nope.safetensors"},
        {"i_dotdot", "{\"weight_map\":{\"a\":\"../x.safetensors\"}}", MW_ERR_INVALID,
         "a shard must be a file name"},
        {"i_slash", "{\"weight_map\":{\"a\":\"/etc/passwd\"}}", MW_ERR_INVALID,
         "\"/etc/passwd\": a shard must be"},
        {"i_dots", "{\"weight_map\":{\"a\":\"..\"}}", MW_ERR_INVALID, "a shard must be"},
        {"i_empty_name", "{\"weight_map\":{\"a\":\"\"}}", MW_ERR_INVALID, "a shard must be"},
        {"i_absent",
         "{\"weight_map\":{\"lm_head.weight\":\"model-00002-of-00002.safetensors\","
         "\"model.embed_tokens.weight\":\"model-00001-of-00002.safetensors\","
         "\"model.layers.0.input_layernorm.weight\":\"model-00001-of-00002.safetensors\","
         "\"model.norm.weight\":\"model-00002-of-00002.safetensors\","
         "\"model.layers.1.mlp.weight\":\"model-00001-of-00002.safetensors\"}}",
         MW_ERR_INVALID,
         "weight_map puts tensor \"model.layers.1.mlp.weight\" in "
         "model-00001-of-00002.safetensors, but no shard has it"},
        {"i_unlisted",
         "{\"weight_map\":{\"lm_head.weight\":\"model-00002-of-00002.safetensors\","
         "\"model.embed_tokens.weight\":\"model-00001-of-00002.safetensors\","
         "\"model.layers.0.input_layernorm.weight\":\"model-00001-of-00002.safetensors\"}}",
         MW_ERR_INVALID, "tensor \"model.norm.weight\" is not in the weight_map"},
        {"i_wrong_shard",
         "{\"weight_map\":{\"lm_head.weight\":\"model-00001-of-00002.safetensors\","
         "\"model.embed_tokens.weight\":\"model-00001-of-00002.safetensors\","
         "\"model.layers.0.input_layernorm.weight\":\"model-00001-of-00002.safetensors\","
         "\"model.norm.weight\":\"model-00002-of-00002.safetensors\"}}",
         MW_ERR_INVALID, "but it is in"},
        {"i_dup",
         "{\"weight_map\":{\"a\":\"model-00001-of-00002.safetensors\","
         "\"a\":\"model-00001-of-00002.safetensors\"}}",
         MW_ERR_INVALID, "lists tensor \"a\" twice"},
        {"i_no_map", "{\"metadata\":{}}", MW_ERR_INVALID, "no \"weight_map\" object"},
        {"i_map_array", "{\"weight_map\":[]}", MW_ERR_INVALID, "no \"weight_map\" object"},
        {"i_empty_map", "{\"weight_map\":{}}", MW_ERR_INVALID, "the weight_map is empty"},
        {"i_not_string", "{\"weight_map\":{\"a\":1}}", MW_ERR_INVALID, "is not a string"},
        {"i_not_json", "{\"weight_map\":{", MW_ERR_INVALID, "not valid JSON"},
        {"i_array", "[]", MW_ERR_INVALID, "no \"weight_map\" object"},
        {"i_two_maps", "{\"weight_map\":{},\"weight_map\":{}}", MW_ERR_INVALID,
         "\"weight_map\" appears twice"},
    };
    for (size_t i = 0; i < MW_ARRAY_LEN(cases); i++) {
        write_sharded(cases[i].dir, cases[i].index, 0);
        char rel[128];
        snprintf(rel, sizeof rel, "%s/model.safetensors.index.json", cases[i].dir);
        expect_open_error(rel, cases[i].want, cases[i].needle);
    }

    /* a tensor in two shards */
    make_dir("i_twice");
    write_st("i_twice/s1.safetensors", "{" T("a", "U8", "[1]", 0, 1) "}", 1);
    write_st("i_twice/s2.safetensors", "{" T("a", "U8", "[1]", 0, 1) "}", 1);
    write_text("i_twice/model.safetensors.index.json",
               "{\"weight_map\":{\"a\":\"s1.safetensors\",\"b\":\"s2.safetensors\"}}");
    expect_open_error("i_twice/model.safetensors.index.json", MW_ERR_INVALID,
                      "tensor \"a\" is in two shards");

    /* a bad shard: its error names the shard */
    make_dir("i_bad_shard");
    write_st("i_bad_shard/s1.safetensors", "{" T("a", "U8", "[2]", 0, 1) "}", 1);
    write_text("i_bad_shard/model.safetensors.index.json",
               "{\"weight_map\":{\"a\":\"s1.safetensors\"}}");
    expect_open_error("i_bad_shard/model.safetensors.index.json", MW_ERR_INVALID,
                      "i_bad_shard/s1.safetensors: tensor \"a\"");

    /* a shard that is a folder */
    make_dir("i_dir_shard");
    make_dir("i_dir_shard/s1.safetensors");
    write_text("i_dir_shard/model.safetensors.index.json",
               "{\"weight_map\":{\"a\":\"s1.safetensors\"}}");
    expect_open_error("i_dir_shard/model.safetensors.index.json", MW_ERR_INVALID,
                      "not a regular file");

    /* no such file */
    expect_open_error("nowhere/model.safetensors", MW_ERR_NOT_FOUND, "cannot open");
    expect_open_error("nowhere/model.safetensors.index.json", MW_ERR_NOT_FOUND, "cannot open");
}

static void bad_config_is_an_error(void **state)
{
    (void)state;
    make_dir("badcfg");
    write_st("badcfg/model.safetensors", single_header, SINGLE_BUF);
    write_text("badcfg/config.json", "{\"model_type\": ");
    expect_open_error("badcfg/model.safetensors", MW_OK /* any error */, "config.json");
}

/* Every allocation of an open fails in turn: a clean MW_ERR_NOMEM, nothing
 * leaked, until the open succeeds. */
static void fault_injection(void **state)
{
    (void)state;
    static const char *const rels[] = {"sharded/model.safetensors.index.json",
                                       "single/model.safetensors"};
    for (size_t r = 0; r < MW_ARRAY_LEN(rels); r++) {
        char path[256];
        path_in(path, sizeof path, rels[r]);
        int done = 0;
        for (uint64_t k = 1; k < 10000 && !done; k++) {
            uint64_t before = mem_now();
            mw_model *m = NULL;
            mw_err err = {0};
            mw_mem_fail_after(k);
            mw_status st = mw_safetensors_open_model(path, &m, &err);
            mw_mem_fail_after(0);
            if (st == MW_OK) {
                assert_true(m->n_tensors > 0);
                mw_model_free(m);
                done = 1;
            } else if (st != MW_ERR_NOMEM) {
                fail_msg("%s: allocation %llu failed: status %d, \"%s\"", rels[r],
                         (unsigned long long)k, st, err.msg);
            } else {
                assert_null(m);
                assert_true(strlen(err.msg) > 0);
            }
            assert_true(mem_now() == before);
        }
        assert_true(done);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(single_file),
        cmocka_unit_test(parse_in_memory_and_empty_header),
        cmocka_unit_test(sharded_model),
        cmocka_unit_test(hostile_lengths),
        cmocka_unit_test(hostile_json),
        cmocka_unit_test(hostile_entries),
        cmocka_unit_test(truncation),
        cmocka_unit_test(hostile_index),
        cmocka_unit_test(bad_config_is_an_error),
        cmocka_unit_test(fault_injection),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
