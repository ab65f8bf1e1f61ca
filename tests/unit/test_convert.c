/* test_convert.c - `memwall convert`'s pieces: Hugging Face names to GGUF
 * names, llama.cpp's Q/K row permutation (checked against the reshape it is
 * defined by), general.file_type values, mw_k_quant_row against each
 * quantizer, the GGUF writer's deferred tensors (bytes, a failing fill, a
 * full disk: no file and no temporary left), and mw_convert on the tiny
 * model: F32 copies bit-exact, and a llama.cpp file type's tensor bytes equal
 * the plan's (mw_weight_scheme_model_bytes) exactly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "memwall.h"
#include "convert/convert.h"
#include "common/error.h"
#include "engine/kernels.h"
#include "format/gguf.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "test_tmpdir.h"

MW_TEST_TMPDIR("convert")

static int files_in_tmpdir(void)
{
    DIR *d = opendir(tmpdir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        if (e->d_name[0] != '.') n++;
    if (d) closedir(d);
    return n;
}

static void hf_names(void **state)
{
    (void)state;
    static const struct { const char *hf, *gguf; } cases[] = {
        {"model.embed_tokens.weight", "token_embd.weight"},
        {"model.norm.weight", "output_norm.weight"},
        {"lm_head.weight", "output.weight"},
        {"model.layers.0.input_layernorm.weight", "blk.0.attn_norm.weight"},
        {"model.layers.11.post_attention_layernorm.weight", "blk.11.ffn_norm.weight"},
        {"model.layers.3.self_attn.q_proj.weight", "blk.3.attn_q.weight"},
        {"model.layers.3.self_attn.k_proj.weight", "blk.3.attn_k.weight"},
        {"model.layers.3.self_attn.v_proj.weight", "blk.3.attn_v.weight"},
        {"model.layers.3.self_attn.o_proj.weight", "blk.3.attn_output.weight"},
        {"model.layers.3.self_attn.q_proj.bias", "blk.3.attn_q.bias"},
        {"model.layers.79.mlp.gate_proj.weight", "blk.79.ffn_gate.weight"},
        {"model.layers.79.mlp.up_proj.weight", "blk.79.ffn_up.weight"},
        {"model.layers.79.mlp.down_proj.weight", "blk.79.ffn_down.weight"},
    };
    char out[64];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(mw_convert_hf_name(cases[i].hf, out, sizeof out), 1);
        assert_string_equal(out, cases[i].gguf);
    }
    assert_int_equal(mw_convert_hf_name("model.layers.0.self_attn.rotary_emb.inv_freq", out, sizeof out), 0);
    assert_int_equal(mw_convert_hf_name("model.layers.x.mlp.up_proj.weight", out, sizeof out), -1);
    assert_int_equal(mw_convert_hf_name("model.layers.0.mlp.experts.0.w1.weight", out, sizeof out), -1);
    assert_int_equal(mw_convert_hf_name("transformer.h.0.attn.c_attn.weight", out, sizeof out), -1);
    assert_int_equal(mw_convert_hf_name("model.layers.0.mlp.up_proj.weightx", out, sizeof out), -1);
    assert_int_equal(mw_convert_qk_kind("blk.3.attn_q.weight"), 1);
    assert_int_equal(mw_convert_qk_kind("blk.3.attn_k.bias"), 2);
    assert_int_equal(mw_convert_qk_kind("blk.3.attn_v.weight"), 0);
    assert_int_equal(mw_convert_qk_kind("token_embd.weight"), 0);
}

/* llama.cpp's permute, spelled out: W.reshape(n_head, 2, d/2).swapaxes(1, 2)
 * .reshape(rows): the flattened [h][j][i] order of the HF rows indexed
 * [h][i][j] = h*d + i*d/2 + j. */
static void qk_permutation(void **state)
{
    (void)state;
    const uint32_t heads[] = {1, 2, 6, 8};
    const uint64_t dims[] = {2, 4, 32, 64};
    for (size_t a = 0; a < 4; a++)
        for (size_t b = 0; b < 4; b++) {
            const uint32_t H = heads[a];
            const uint64_t d = dims[b], rows = H * d;
            uint64_t *expect = malloc(rows * sizeof *expect), n = 0;
            int *seen = calloc(rows, sizeof *seen);
            assert_non_null(expect);
            assert_non_null(seen);
            for (uint64_t h = 0; h < H; h++)
                for (uint64_t j = 0; j < d / 2; j++)
                    for (uint64_t i = 0; i < 2; i++) expect[n++] = h * d + i * (d / 2) + j;
            for (uint64_t r = 0; r < rows; r++) {
                uint64_t s = mw_convert_qk_src_row(r, rows, H);
                assert_int_equal(s, expect[r]);
                seen[s]++;
            }
            for (uint64_t r = 0; r < rows; r++) assert_int_equal(seen[r], 1); /* a permutation */
            free(expect);
            free(seen);
        }
    /* two heads of 4: GGUF rows 0..7 come from HF rows 0 2 1 3 4 6 5 7 */
    const uint64_t small[8] = {0, 2, 1, 3, 4, 6, 5, 7};
    for (uint64_t r = 0; r < 8; r++) assert_int_equal(mw_convert_qk_src_row(r, 8, 2), small[r]);
}

/* llama.h enum llama_ftype */
static void file_types(void **state)
{
    (void)state;
    assert_int_equal(mw_convert_file_type("f32"), 0);
    assert_int_equal(mw_convert_file_type("f16"), 1);
    assert_int_equal(mw_convert_file_type("q4_0"), 2);
    assert_int_equal(mw_convert_file_type("q8_0"), 7);
    assert_int_equal(mw_convert_file_type("q4_k_s"), 14);
    assert_int_equal(mw_convert_file_type("Q4_K_M"), 15);
    assert_int_equal(mw_convert_file_type("q5_k_m"), 17);
    assert_int_equal(mw_convert_file_type("q6_k"), 18);
    assert_int_equal(mw_convert_file_type("bf16"), 32);
    assert_int_equal(mw_convert_file_type("nope"), 0xFFFFFFFFu);
}

static void quant_row(void **state)
{
    (void)state;
    const int64_t k = 512;
    float x[512], y[512];
    for (int64_t i = 0; i < k; i++) x[i] = sinf((float)i * 0.37f) * (1.0f + (float)(i % 7));
    uint8_t a[4096], b[4096];
    const mw_dtype types[] = {MW_DTYPE_F32, MW_DTYPE_F16, MW_DTYPE_BF16, MW_DTYPE_Q8_0,
                              MW_DTYPE_Q4_0, MW_DTYPE_Q4_K, MW_DTYPE_Q5_K, MW_DTYPE_Q6_K};
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
        assert_true(mw_k_quant_row_supported(types[t]));
        memset(a, 0xAA, sizeof a);
        memset(b, 0x55, sizeof b);
        mw_k_quant_row(types[t], x, a, k);
        switch (types[t]) {
        case MW_DTYPE_F32: memcpy(b, x, sizeof x); break;
        case MW_DTYPE_F16: mw_k_row_to_f16(x, (uint16_t *)b, k); break;
        case MW_DTYPE_BF16: mw_k_row_to_bf16(x, (uint16_t *)b, k); break;
        case MW_DTYPE_Q8_0: mw_k_quant_row_q8_0(x, b, k); break;
        case MW_DTYPE_Q4_0: mw_k_quant_row_q4_0(x, b, k); break;
        case MW_DTYPE_Q4_K: mw_k_quant_row_q4_k(x, b, k); break;
        case MW_DTYPE_Q5_K: mw_k_quant_row_q5_k(x, b, k); break;
        default: mw_k_quant_row_q6_k(x, b, k); break;
        }
        size_t n = (size_t)mw_dtype_bytes(types[t], (uint64_t)k);
        assert_memory_equal(a, b, n);
        /* and it reads back close to x */
        mw_k_dequant_row(types[t], a, y, k);
        for (int64_t i = 0; i < k; i++) assert_true(fabsf(y[i] - x[i]) < 0.2f * 8.0f);
    }
    mw_k_quant_row(MW_DTYPE_F32, x, a, k);
    mw_k_dequant_row(MW_DTYPE_F32, a, y, k);
    assert_memory_equal(x, y, sizeof x);
    assert_false(mw_k_quant_row_supported(MW_DTYPE_IQ4_XS));
    assert_false(mw_k_quant_row_supported(MW_DTYPE_Q8_K));
}

/* ---- the writer's deferred tensors ----------------------------------------- */

typedef struct fill_ctx {
    uint8_t seed;
    int fail;
    int calls;
} fill_ctx;

static mw_status fill_bytes(void *ctx, void *dst, uint64_t bytes, mw_err *err)
{
    fill_ctx *c = ctx;
    c->calls++;
    if (c->fail) return mw_err_set(err, MW_ERR_INVALID, "fill failed on purpose");
    for (uint64_t i = 0; i < bytes; i++) ((uint8_t *)dst)[i] = (uint8_t)(c->seed + i * 7);
    return MW_OK;
}

static mw_status write_two(const char *path, fill_ctx *a, fill_ctx *b, mw_err *err)
{
    mw_gguf_writer *w = NULL;
    mw_status st = mw_gguf_writer_init(&w, err);
    uint64_t d1[2] = {64, 3}, d2[1] = {5};
    if (st == MW_OK) st = mw_gguf_writer_set_str(w, "general.architecture", "llama", err);
    if (st == MW_OK) st = mw_gguf_writer_add_tensor_fn(w, "a", MW_DTYPE_Q8_0, 2, d1, 0, fill_bytes, a, err);
    if (st == MW_OK) st = mw_gguf_writer_add_tensor_fn(w, "b", MW_DTYPE_F32, 1, d2, 0, fill_bytes, b, err);
    if (st == MW_OK) st = mw_gguf_writer_write(w, path, err);
    mw_gguf_writer_free(w);
    return st;
}

static void deferred_tensors(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s/d.gguf", tmpdir);
    fill_ctx a = {3, 0, 0}, b = {9, 0, 0};
    mw_err err;
    assert_int_equal(write_two(path, &a, &b, &err), MW_OK);
    assert_int_equal(a.calls, 1);
    assert_int_equal(b.calls, 1);
    mw_gguf *g = NULL;
    assert_int_equal(mw_gguf_open(path, &g, &err), MW_OK);
    const mw_gguf_tensor *ta = mw_gguf_find_tensor(g, "a"), *tb = mw_gguf_find_tensor(g, "b");
    assert_non_null(ta);
    assert_non_null(tb);
    assert_int_equal(ta->bytes, 2 * 34 * 3);
    assert_int_equal(tb->bytes, 20);
    for (uint64_t i = 0; i < ta->bytes; i++) assert_int_equal(((const uint8_t *)ta->data)[i], (uint8_t)(3 + i * 7));
    for (uint64_t i = 0; i < tb->bytes; i++) assert_int_equal(((const uint8_t *)tb->data)[i], (uint8_t)(9 + i * 7));
    mw_gguf_close(g);
    unlink(path);

    /* a fill that fails: its error, no file, no temporary */
    b.fail = 1;
    assert_int_equal(write_two(path, &a, &b, &err), MW_ERR_INVALID);
    assert_non_null(strstr(err.msg, "fill failed on purpose"));
    assert_int_equal(files_in_tmpdir(), 0);

    /* a full disk (MEMWALL_FAIL_WRITE): ENOSPC named, nothing left */
    b.fail = 0;
    setenv("MEMWALL_FAIL_WRITE", "100", 1);
    assert_int_not_equal(write_two(path, &a, &b, &err), MW_OK);
    unsetenv("MEMWALL_FAIL_WRITE");
    assert_non_null(strstr(err.msg, "writing"));
    assert_non_null(strstr(err.msg, "No space left on device"));
    assert_int_equal(files_in_tmpdir(), 0);

    /* no fill function */
    mw_gguf_writer *w = NULL;
    uint64_t d[1] = {4};
    assert_int_equal(mw_gguf_writer_init(&w, &err), MW_OK);
    assert_int_equal(mw_gguf_writer_add_tensor_fn(w, "x", MW_DTYPE_F32, 1, d, 0, NULL, NULL, &err), MW_ERR_INVALID);
    mw_gguf_writer_free(w);
}

/* ---- mw_convert on the tiny model ---------------------------------------- */

static void tiny_path(char *buf, size_t cap)
{
    const char *src = getenv("MW_SOURCE_DIR");
    snprintf(buf, cap, "%s/models/tiny.gguf", src ? src : ".");
}

static void convert_tiny(void **state)
{
    (void)state;
    char in[512], out[512];
    tiny_path(in, sizeof in);
    snprintf(out, sizeof out, "%s/t.gguf", tmpdir);
    mw_err err;
    mw_convert_result r;
    /* F32 to F32: every tensor's bytes as they were */
    mw_convert_opts o = {.in = in, .out = out, .dtype = "f32"};
    assert_int_equal(mw_convert(&o, &r, &err), MW_OK);
    mw_gguf *a = NULL, *b = NULL;
    assert_int_equal(mw_gguf_open(in, &a, &err), MW_OK);
    assert_int_equal(mw_gguf_open(out, &b, &err), MW_OK);
    assert_int_equal(mw_gguf_tensor_count(a), mw_gguf_tensor_count(b));
    for (uint64_t i = 0; i < mw_gguf_tensor_count(a); i++) {
        const mw_gguf_tensor *ta = mw_gguf_tensor_at(a, i), *tb = mw_gguf_tensor_at(b, i);
        assert_int_equal(ta->name_len, tb->name_len);
        assert_memory_equal(ta->name, tb->name, ta->name_len);
        assert_int_equal(ta->bytes, tb->bytes);
        assert_memory_equal(ta->data, tb->data, ta->bytes);
    }
    uint64_t ft = 99;
    assert_true(mw_gguf_get_u64(b, "general.file_type", &ft));
    assert_int_equal(ft, 0);
    char name[128];
    assert_true(mw_gguf_get_str(b, "tokenizer.ggml.model", name, sizeof name));
    assert_string_equal(name, "llama");
    mw_gguf_close(a);
    mw_gguf_close(b);
    assert_int_equal(r.n_tensors, 38);
    assert_int_equal(r.bytes_in, r.bytes_out);

    /* q8_0 and q4_0 (llama.cpp's file types): the plan's weight bytes */
    const char *schemes[] = {"q8_0", "q4_0"};
    for (size_t s = 0; s < 2; s++) {
        o.dtype = schemes[s];
        assert_int_equal(mw_convert(&o, &r, &err), MW_OK);
        mw_model *m = NULL;
        mw_weight_scheme ws;
        uint64_t want = 0;
        assert_int_equal(mw_model_open(in, &m, &err), MW_OK);
        assert_int_equal(mw_weight_scheme_parse(schemes[s], &ws, &err), MW_OK);
        assert_int_equal(mw_weight_scheme_model_bytes(&ws, m, &want, &err), MW_OK);
        assert_int_equal(r.bytes_out, want);
        mw_model_free(m);
        assert_int_equal(mw_model_open(out, &m, &err), MW_OK);
        assert_int_equal(m->weights_bytes, want);
        mw_model_free(m);
    }

    /* OUT the input itself: refused, the input untouched */
    struct stat before, after;
    assert_int_equal(stat(in, &before), 0);
    o.out = in;
    assert_int_equal(mw_convert(&o, &r, &err), MW_ERR_INVALID);
    assert_non_null(strstr(err.msg, "is the input file"));
    assert_int_equal(stat(in, &after), 0);
    assert_int_equal(before.st_mtime, after.st_mtime);
    assert_int_equal(before.st_size, after.st_size);

    /* pruning: the blocks' 28 linear weights, stored 2:4 with F16 values */
    o.out = out;
    o.dtype = "f16";
    o.prune_kind = 2;
    assert_int_equal(mw_convert(&o, &r, &err), MW_OK);
    assert_int_equal(r.n_pruned, 28);
    assert_int_equal(r.n_sparse, 28);
    assert_int_equal(r.n_by_type[MW_DTYPE_F16_S24], 28);
    /* Q4_0 values have no sparse type: refused, naming the way out */
    o.dtype = "q4_0";
    assert_int_equal(mw_convert(&o, &r, &err), MW_ERR_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "--densify"));
    o.densify = 1;
    assert_int_equal(mw_convert(&o, &r, &err), MW_OK);
    assert_int_equal(r.n_pruned, 28);
    assert_int_equal(r.n_sparse, 0);
    o.densify = 0;
    o.dtype = "f16";
    o.prune_kind = 1;
    o.prune_ratio = 1.5;
    assert_int_equal(mw_convert(&o, &r, &err), MW_ERR_INVALID);
    o.prune_ratio = 0.5;
    o.prune_score = 1;
    assert_int_equal(mw_convert(&o, &r, &err), MW_ERR_INVALID);
    assert_non_null(strstr(err.msg, "--calib"));
    unlink(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hf_names),
        cmocka_unit_test(qk_permutation),
        cmocka_unit_test(file_types),
        cmocka_unit_test(quant_row),
        cmocka_unit_test(deferred_tensors),
        cmocka_unit_test(convert_tiny),
    };
    return cmocka_run_group_tests(tests, setup_dir, remove_dir);
}
