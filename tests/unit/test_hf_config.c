/* test_hf_config.c - config.json parsing (each model type, from real
 * configs), the messages for what is wrong in one, file reading, presets,
 * and allocation failures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "memwall.h"
#include "common/test_hooks.h"
#include "common/error.h"
#include "format/hf_config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- real configs (Hugging Face Hub, the repository named) ------------- */

/* TinyLlama/TinyLlama-1.1B-Chat-v1.0 */
static const char tinyllama[] =
    "{\"architectures\": [\"LlamaForCausalLM\"], \"attention_bias\": false,"
    " \"bos_token_id\": 1, \"eos_token_id\": 2, \"hidden_act\": \"silu\","
    " \"hidden_size\": 2048, \"initializer_range\": 0.02, \"intermediate_size\": 5632,"
    " \"max_position_embeddings\": 2048, \"model_type\": \"llama\","
    " \"num_attention_heads\": 32, \"num_hidden_layers\": 22, \"num_key_value_heads\": 4,"
    " \"pretraining_tp\": 1, \"rms_norm_eps\": 1e-05, \"rope_scaling\": null,"
    " \"rope_theta\": 10000.0, \"tie_word_embeddings\": false, \"torch_dtype\": \"bfloat16\","
    " \"transformers_version\": \"4.35.0\", \"use_cache\": true, \"vocab_size\": 32000}";

/* mistralai/Mistral-7B-Instruct-v0.2 */
static const char mistral_v02[] =
    "{\n  \"architectures\": [\"MistralForCausalLM\"],\n  \"attention_dropout\": 0.0,\n"
    "  \"bos_token_id\": 1,\n  \"eos_token_id\": 2,\n  \"hidden_act\": \"silu\",\n"
    "  \"hidden_size\": 4096,\n  \"initializer_range\": 0.02,\n  \"intermediate_size\": 14336,\n"
    "  \"max_position_embeddings\": 32768,\n  \"model_type\": \"mistral\",\n"
    "  \"num_attention_heads\": 32,\n  \"num_hidden_layers\": 32,\n"
    "  \"num_key_value_heads\": 8,\n  \"rms_norm_eps\": 1e-05,\n  \"rope_theta\": 1000000.0,\n"
    "  \"sliding_window\": null,\n  \"tie_word_embeddings\": false,\n"
    "  \"torch_dtype\": \"bfloat16\",\n  \"transformers_version\": \"4.36.0\",\n"
    "  \"use_cache\": true,\n  \"vocab_size\": 32000\n}\n";

/* Qwen/Qwen2-0.5B: ties its output to the embedding */
static const char qwen2_05b[] =
    "{\"architectures\": [\"Qwen2ForCausalLM\"], \"attention_dropout\": 0.0,"
    " \"bos_token_id\": 151643, \"eos_token_id\": 151643, \"hidden_act\": \"silu\","
    " \"hidden_size\": 896, \"initializer_range\": 0.02, \"intermediate_size\": 4864,"
    " \"max_position_embeddings\": 131072, \"max_window_layers\": 24, \"model_type\": \"qwen2\","
    " \"num_attention_heads\": 14, \"num_hidden_layers\": 24, \"num_key_value_heads\": 2,"
    " \"rms_norm_eps\": 1e-06, \"rope_theta\": 1000000.0, \"sliding_window\": 131072,"
    " \"tie_word_embeddings\": true, \"torch_dtype\": \"bfloat16\","
    " \"transformers_version\": \"4.40.1\", \"use_cache\": true, \"use_sliding_window\": false,"
    " \"vocab_size\": 151936}";

/* google/gemma-7b: 16 heads of 256 make 4096, wider than hidden_size 3072 */
static const char gemma_7b[] =
    "{\"architectures\": [\"GemmaForCausalLM\"], \"attention_bias\": false,"
    " \"attention_dropout\": 0.0, \"bos_token_id\": 2, \"eos_token_id\": 1, \"head_dim\": 256,"
    " \"hidden_act\": \"gelu\", \"hidden_size\": 3072, \"initializer_range\": 0.02,"
    " \"intermediate_size\": 24576, \"max_position_embeddings\": 8192, \"model_type\": \"gemma\","
    " \"num_attention_heads\": 16, \"num_hidden_layers\": 28, \"num_key_value_heads\": 16,"
    " \"pad_token_id\": 0, \"rms_norm_eps\": 1e-06, \"rope_scaling\": null,"
    " \"rope_theta\": 10000.0, \"torch_dtype\": \"bfloat16\","
    " \"transformers_version\": \"4.38.0.dev0\", \"use_cache\": true, \"vocab_size\": 256000}";

/* microsoft/Phi-3-mini-128k-instruct (long_factor / short_factor shortened) */
static const char phi3_128k[] =
    "{\"_name_or_path\": \"Phi-3-mini-128k-instruct\","
    " \"architectures\": [\"Phi3ForCausalLM\"], \"attention_dropout\": 0.0,"
    " \"auto_map\": {\"AutoConfig\": \"configuration_phi3.Phi3Config\","
    " \"AutoModelForCausalLM\": \"modeling_phi3.Phi3ForCausalLM\"},"
    " \"bos_token_id\": 1, \"embd_pdrop\": 0.0, \"eos_token_id\": 32000,"
    " \"hidden_act\": \"silu\", \"hidden_size\": 3072, \"initializer_range\": 0.02,"
    " \"intermediate_size\": 8192, \"max_position_embeddings\": 131072,"
    " \"model_type\": \"phi3\", \"num_attention_heads\": 32, \"num_hidden_layers\": 32,"
    " \"num_key_value_heads\": 32, \"original_max_position_embeddings\": 4096,"
    " \"pad_token_id\": 32000, \"resid_pdrop\": 0.0, \"rms_norm_eps\": 1e-05,"
    " \"rope_scaling\": {\"long_factor\": [1.0700000524520874, 1.1200000047683716],"
    " \"short_factor\": [1.1, 1.1], \"type\": \"longrope\"},"
    " \"rope_theta\": 10000.0, \"sliding_window\": 262144, \"tie_word_embeddings\": false,"
    " \"torch_dtype\": \"bfloat16\", \"transformers_version\": \"4.40.2\", \"use_cache\": true,"
    " \"attention_bias\": false, \"vocab_size\": 32064}";

/* openai-community/gpt2-medium */
static const char gpt2_medium[] =
    "{\"activation_function\": \"gelu_new\", \"architectures\": [\"GPT2LMHeadModel\"],"
    " \"attn_pdrop\": 0.1, \"bos_token_id\": 50256, \"embd_pdrop\": 0.1,"
    " \"eos_token_id\": 50256, \"initializer_range\": 0.02, \"layer_norm_epsilon\": 1e-05,"
    " \"model_type\": \"gpt2\", \"n_ctx\": 1024, \"n_embd\": 1024, \"n_head\": 16,"
    " \"n_layer\": 24, \"n_positions\": 1024, \"n_special\": 0, \"predict_special_tokens\": true,"
    " \"resid_pdrop\": 0.1, \"summary_activation\": null, \"summary_first_dropout\": 0.1,"
    " \"summary_proj_to_labels\": true, \"summary_type\": \"cls_index\","
    " \"summary_use_proj\": true, \"task_specific_params\": {\"text-generation\":"
    " {\"do_sample\": true, \"max_length\": 50}}, \"vocab_size\": 50257}";

/* EleutherAI/pythia-70m */
static const char pythia_70m[] =
    "{\"architectures\": [\"GPTNeoXForCausalLM\"], \"bos_token_id\": 0, \"eos_token_id\": 0,"
    " \"hidden_act\": \"gelu\", \"hidden_size\": 512, \"initializer_range\": 0.02,"
    " \"intermediate_size\": 2048, \"layer_norm_eps\": 1e-05,"
    " \"max_position_embeddings\": 2048, \"model_type\": \"gpt_neox\","
    " \"num_attention_heads\": 8, \"num_hidden_layers\": 6, \"rotary_emb_base\": 10000,"
    " \"rotary_pct\": 0.25, \"tie_word_embeddings\": false, \"torch_dtype\": \"float16\","
    " \"transformers_version\": \"4.24.0\", \"use_cache\": true,"
    " \"use_parallel_residual\": true, \"vocab_size\": 50304}";

/* mistralai/Mixtral-8x7B-Instruct-v0.1 */
static const char mixtral_instruct[] =
    "{\"architectures\": [\"MixtralForCausalLM\"], \"attention_dropout\": 0.0,"
    " \"bos_token_id\": 1, \"eos_token_id\": 2, \"hidden_act\": \"silu\","
    " \"hidden_size\": 4096, \"initializer_range\": 0.02, \"intermediate_size\": 14336,"
    " \"max_position_embeddings\": 32768, \"model_type\": \"mixtral\","
    " \"num_attention_heads\": 32, \"num_experts_per_tok\": 2, \"num_hidden_layers\": 32,"
    " \"num_key_value_heads\": 8, \"num_local_experts\": 8, \"output_router_logits\": false,"
    " \"rms_norm_eps\": 1e-05, \"rope_theta\": 1000000.0, \"router_aux_loss_coef\": 0.02,"
    " \"sliding_window\": null, \"tie_word_embeddings\": false, \"torch_dtype\": \"bfloat16\","
    " \"transformers_version\": \"4.36.0.dev0\", \"use_cache\": true, \"vocab_size\": 32000}";

static mw_hparams parse_ok(const char *text)
{
    mw_hparams hp;
    mw_err err = {0};
    mw_status st = mw_hf_config_parse(text, strlen(text), "config.json", &hp, &err);
    if (st != MW_OK) fail_msg("%s", err.msg);
    return hp;
}

/* The message of a config that must fail with status. */
static const char *parse_fails(const char *text, mw_status status)
{
    static mw_err err;
    mw_hparams hp;
    memset(&hp, 0x5a, sizeof hp);
    mw_hparams before = hp;
    memset(&err, 0, sizeof err);
    mw_status st = mw_hf_config_parse(text, strlen(text), "cfg.json", &hp, &err);
    if (st != status) fail_msg("status %d (%s) for %s", st, err.msg, text);
    assert_int_equal(err.status, status);
    assert_memory_equal(&hp, &before, sizeof hp); /* untouched on error */
    return err.msg;
}

static void each_model_type(void **state)
{
    (void)state;
    mw_hparams hp = parse_ok(tinyllama);
    assert_string_equal(hp.arch, "llama");
    assert_int_equal(hp.n_layers, 22);
    assert_int_equal(hp.n_embd, 2048);
    assert_int_equal(hp.n_heads, 32);
    assert_int_equal(hp.n_kv_heads, 4);
    assert_int_equal(hp.head_dim, 64);
    assert_int_equal(hp.n_ff, 5632);
    assert_int_equal(hp.n_vocab, 32000);
    assert_int_equal(hp.n_ctx_train, 2048);
    assert_int_equal(hp.dtype, MW_DTYPE_BF16);
    assert_int_equal(hp.gated_ffn, 1);
    assert_int_equal(hp.layer_norm, 0);
    assert_int_equal(hp.attn_bias, 0);
    assert_int_equal(hp.tied_embeddings, 0);
    assert_float_equal(hp.norm_eps, 1e-5, 1e-15);
    assert_float_equal(hp.rope_theta, 10000.0, 1e-9);

    hp = parse_ok(mistral_v02);
    assert_string_equal(hp.arch, "mistral");
    assert_int_equal(hp.n_kv_heads, 8);
    assert_int_equal(hp.n_ctx_train, 32768);
    assert_float_equal(hp.rope_theta, 1e6, 1e-6);

    hp = parse_ok(qwen2_05b);
    assert_string_equal(hp.arch, "qwen2");
    assert_int_equal(hp.head_dim, 64);
    assert_int_equal(hp.n_kv_heads, 2);
    assert_int_equal(hp.attn_bias, 1);
    assert_int_equal(hp.mlp_bias, 0);
    assert_int_equal(hp.tied_embeddings, 1);
    assert_float_equal(hp.norm_eps, 1e-6, 1e-16);

    hp = parse_ok(gemma_7b);
    assert_string_equal(hp.arch, "gemma");
    assert_int_equal(hp.head_dim, 256);
    assert_int_equal(hp.n_embd, 3072);
    assert_int_equal(hp.tied_embeddings, 1); /* GemmaConfig's default */

    hp = parse_ok(phi3_128k);
    assert_string_equal(hp.arch, "phi3");
    assert_int_equal(hp.n_ctx_train, 131072);
    assert_int_equal(hp.n_vocab, 32064);
    assert_int_equal(hp.head_dim, 96);

    hp = parse_ok(gpt2_medium);
    assert_string_equal(hp.arch, "gpt2");
    assert_int_equal(hp.n_layers, 24);
    assert_int_equal(hp.n_embd, 1024);
    assert_int_equal(hp.n_heads, 16);
    assert_int_equal(hp.n_kv_heads, 16);
    assert_int_equal(hp.head_dim, 64);
    assert_int_equal(hp.n_ff, 4096); /* n_inner absent: 4 n_embd */
    assert_int_equal(hp.n_ctx_train, 1024);
    assert_int_equal(hp.dtype, MW_DTYPE_COUNT); /* no torch_dtype: not stated */
    assert_int_equal(hp.tied_embeddings, 1);
    assert_int_equal(hp.learned_pos, 1);
    assert_int_equal(hp.layer_norm, 1);
    assert_int_equal(hp.attn_bias, 1);
    assert_int_equal(hp.mlp_bias, 1);
    assert_int_equal(hp.gated_ffn, 0);
    assert_true(hp.rope_theta == 0);

    hp = parse_ok(pythia_70m);
    assert_string_equal(hp.arch, "gpt_neox");
    assert_int_equal(hp.n_layers, 6);
    assert_int_equal(hp.head_dim, 64);
    assert_int_equal(hp.n_ff, 2048);
    assert_int_equal(hp.dtype, MW_DTYPE_F16);
    assert_int_equal(hp.tied_embeddings, 0);
    assert_int_equal(hp.layer_norm, 1);
    assert_int_equal(hp.attn_bias, 1);
    assert_int_equal(hp.mlp_bias, 1);
    assert_int_equal(hp.gated_ffn, 0);
    assert_float_equal(hp.rope_theta, 10000.0, 1e-9);

    hp = parse_ok(mixtral_instruct);
    assert_string_equal(hp.arch, "mixtral");
    assert_int_equal(hp.n_experts, 8);
    assert_int_equal(hp.n_experts_used, 2);
    assert_int_equal(hp.n_ff, 14336);
}

/* Published totals of these (model cards): parsing and arch.c together. */
static void configs_give_published_counts(void **state)
{
    (void)state;
    static const struct { const char *text; uint64_t params; } known[] = {
        {tinyllama, 1100048384ull},    {mistral_v02, 7241732096ull},
        {gemma_7b, 8537680896ull},     {phi3_128k, 3821079552ull},
        {gpt2_medium, 354823168ull},   {pythia_70m, 70426624ull},
        {mixtral_instruct, 46702792704ull},
    };
    char dir[] = "/tmp/mw_hfcfg_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof path, "%s/config.json", dir);
    for (size_t i = 0; i < MW_ARRAY_LEN(known); i++) {
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs(known[i].text, f);
        fclose(f);
        mw_model *m = NULL;
        mw_err err = {0};
        assert_int_equal(mw_hf_config_open_model(path, &m, &err), MW_OK);
        assert_int_equal(m->source, MW_SOURCE_HF_CONFIG);
        assert_string_equal(m->path, path);
        assert_int_equal(m->has_hparams, 1);
        assert_int_equal(m->n_files, 0);
        assert_true(m->n_tensors > 0);
        if (m->n_params != known[i].params)
            fail_msg("%s: %llu parameters, published %llu", m->hp.arch,
                     (unsigned long long)m->n_params, (unsigned long long)known[i].params);
        mw_model_free(m);
    }
    unlink(path);
    rmdir(dir);
}

/* issue #13, dense: qwen3's q/k norms, rope_scaling objects and nulls,
 * gemma2/gemma3 sliding windows (their defaults, sliding_window_pattern and
 * layer_types), gemma3's text_config, and the bad values. */
#define G3 "{\"model_type\": \"gemma3_text\", "
static void dense_architectures_parse(void **state)
{
    (void)state;
    mw_hparams hp = parse_ok("{\"model_type\": \"qwen3\", \"hidden_size\": 2560, "
                             "\"num_hidden_layers\": 36, \"num_attention_heads\": 32, "
                             "\"num_key_value_heads\": 8, \"head_dim\": 128, "
                             "\"intermediate_size\": 9728, \"vocab_size\": 151936, "
                             "\"rope_scaling\": null, \"sliding_window\": null, "
                             "\"tie_word_embeddings\": true}");
    assert_int_equal(hp.head_dim, 128); /* explicit, not 2560 / 32 = 80 */
    assert_int_equal(hp.qk_norm, 1);
    assert_int_equal(hp.ffn_norms, 0);
    assert_int_equal(hp.attn_bias, 0);
    assert_int_equal(hp.sliding_window, 0); /* qwen3: null, and not planned */
    assert_string_equal(hp.rope_scaling, "");
    assert_int_equal(hp.tied_embeddings, 1);

    /* llama 3.1's rope_scaling */
    hp = parse_ok("{\"model_type\": \"llama\", \"hidden_size\": 4096, \"num_hidden_layers\": 32, "
                  "\"num_attention_heads\": 32, \"num_key_value_heads\": 8, "
                  "\"intermediate_size\": 14336, \"vocab_size\": 128256, "
                  "\"max_position_embeddings\": 131072, \"rope_scaling\": {\"factor\": 8.0, "
                  "\"low_freq_factor\": 1.0, \"high_freq_factor\": 4.0, "
                  "\"original_max_position_embeddings\": 8192, \"rope_type\": \"llama3\"}}");
    assert_string_equal(hp.rope_scaling, "llama3");
    assert_true(hp.rope_factor == 8.0);
    assert_int_equal(hp.rope_orig_ctx, 8192);
    assert_int_equal(hp.n_ctx_train, 131072);
    assert_int_equal(hp.sliding_window, 0);
#define L3 "{\"model_type\": \"llama\", \"hidden_size\": 64, \"num_hidden_layers\": 2, " \
           "\"num_attention_heads\": 4, \"intermediate_size\": 128, \"vocab_size\": 100, "
    /* the older "type" key, phi3's longrope without a factor, rope_parameters */
    hp = parse_ok(L3 "\"rope_scaling\": {\"type\": \"linear\", \"factor\": 2}}");
    assert_string_equal(hp.rope_scaling, "linear");
    hp = parse_ok(L3 "\"rope_scaling\": {\"type\": \"longrope\", \"long_factor\": [1.0], "
                     "\"short_factor\": [1.0]}}");
    assert_string_equal(hp.rope_scaling, "longrope");
    assert_true(hp.rope_factor == 0);
    hp = parse_ok(L3 "\"rope_parameters\": {\"rope_type\": \"yarn\", \"factor\": 4.0, "
                     "\"rope_theta\": 1e6}}");
    assert_string_equal(hp.rope_scaling, "yarn");
    assert_true(hp.rope_theta == 1e6);
    hp = parse_ok(L3 "\"rope_parameters\": {\"rope_theta\": 5e5}}");
    assert_string_equal(hp.rope_scaling, "");
    hp = parse_ok(L3 "\"rope_scaling\": {\"rope_type\": \"default\"}}");
    assert_string_equal(hp.rope_scaling, "");
    const char *msg = parse_fails(L3 "\"rope_scaling\": {\"rope_type\": \"ntk\", \"factor\": 2}}",
                                  MW_ERR_UNSUPPORTED);
    assert_non_null(strstr(msg, "rope_scaling.rope_type \"ntk\" is not known (default, linear"));
    msg = parse_fails(L3 "\"rope_scaling\": {\"rope_type\": \"llama3\"}}", MW_ERR_INVALID);
    assert_non_null(strstr(msg, "rope_scaling of type llama3 has no factor"));
    msg = parse_fails(L3 "\"rope_scaling\": {\"factor\": 2}}", MW_ERR_INVALID);
    assert_non_null(strstr(msg, "rope_scaling has no rope_type"));
    msg = parse_fails(L3 "\"rope_scaling\": 8}", MW_ERR_INVALID);
    assert_non_null(strstr(msg, "rope_scaling must be an object or null, found 8"));
    msg = parse_fails(L3 "\"rope_scaling\": {\"rope_type\": \"linear\", \"factor\": -1}}",
                      MW_ERR_INVALID);
    assert_non_null(strstr(msg, "factor must be a positive number, found -1"));
    msg = parse_fails(L3 "\"rope_scaling\": {\"rope_type\": \"linear\", \"factor\": 2, "
                         "\"original_max_position_embeddings\": 0}}",
                      MW_ERR_INVALID);
    assert_non_null(strstr(msg, "rope_scaling.original_max_position_embeddings must be a "
                                "positive 32-bit integer, found 0"));
    /* Phi-3.5-mini's published config: longrope with its 48-value arrays,
     * its sliding_window 262144 not read (as llama.cpp) */
    const char *phi = mw_preset_config("phi-3.5-mini");
    assert_non_null(phi);
    hp = parse_ok(phi);
    assert_string_equal(hp.rope_scaling, "longrope");
    assert_int_equal(hp.sliding_window, 0);
    assert_int_equal(hp.n_ctx_train, 131072);
    msg = parse_fails(L3 "\"head_dim\": 0}", MW_ERR_INVALID);
    assert_non_null(strstr(msg, "head_dim must be a positive integer, found 0"));

    /* gemma2: every other layer local, the window 4096 by default */
    hp = parse_ok("{\"model_type\": \"gemma2\", \"hidden_size\": 2304, \"num_hidden_layers\": 26, "
                  "\"num_attention_heads\": 8, \"num_key_value_heads\": 4, \"head_dim\": 256, "
                  "\"intermediate_size\": 9216, \"vocab_size\": 256000}");
    assert_int_equal(hp.sliding_window, 4096);
    assert_int_equal(hp.swa_period, 2);
    assert_int_equal(hp.ffn_norms, 1);
    assert_int_equal(hp.qk_norm, 0);
    assert_int_equal(hp.tied_embeddings, 1);

    /* gemma3_text: Gemma3TextConfig's defaults fill what is left out */
    hp = parse_ok(G3 "\"hidden_size\": 2560, \"num_hidden_layers\": 34}");
    assert_int_equal(hp.n_heads, 8);
    assert_int_equal(hp.n_kv_heads, 4);
    assert_int_equal(hp.head_dim, 256);
    assert_int_equal(hp.n_vocab, 262208);
    assert_int_equal(hp.n_ff, 9216);
    assert_int_equal(hp.n_ctx_train, 131072);
    assert_int_equal(hp.sliding_window, 4096);
    assert_int_equal(hp.swa_period, 6);
    assert_int_equal(hp.qk_norm, 1);
    assert_int_equal(hp.ffn_norms, 1);
    assert_true(hp.rope_theta == 1e6);
    hp = parse_ok(G3 "\"sliding_window\": 512, \"_sliding_window_pattern\": 3}");
    assert_int_equal(hp.sliding_window, 512);
    assert_int_equal(hp.swa_period, 3);
    /* layer_types as transformers >= 4.53 writes them */
    hp = parse_ok(G3 "\"num_hidden_layers\": 4, \"layer_types\": [\"sliding_attention\", "
                     "\"full_attention\", \"sliding_attention\", \"full_attention\"]}");
    assert_int_equal(hp.swa_period, 2);
    hp = parse_ok(G3 "\"num_hidden_layers\": 2, \"layer_types\": [\"sliding_attention\", "
                     "\"sliding_attention\"]}");
    assert_int_equal(hp.swa_period, 0); /* every layer local */
    assert_int_equal(hp.sliding_window, 4096);
    hp = parse_ok(G3 "\"num_hidden_layers\": 2, \"layer_types\": [\"full_attention\", "
                     "\"full_attention\"]}");
    assert_int_equal(hp.sliding_window, 0); /* no local layer */
    msg = parse_fails(G3 "\"num_hidden_layers\": 3, \"layer_types\": [\"full_attention\", "
                         "\"sliding_attention\", \"sliding_attention\"]}",
                      MW_ERR_UNSUPPORTED);
    assert_non_null(strstr(msg, "layer_types[1] breaks the pattern of a global layer every 1"));
    msg = parse_fails(G3 "\"num_hidden_layers\": 2, \"layer_types\": [\"full_attention\"]}",
                      MW_ERR_INVALID);
    assert_non_null(strstr(msg, "layer_types must be an array of num_hidden_layers (2)"));
    msg = parse_fails(G3 "\"num_hidden_layers\": 1, \"layer_types\": [\"chunked\"]}",
                      MW_ERR_UNSUPPORTED);
    assert_non_null(strstr(msg, "layer_types[0] is \"chunked\""));
    msg = parse_fails(G3 "\"sliding_window\": 0, \"sliding_window_pattern\": 6}", MW_ERR_INVALID);
    assert_non_null(strstr(msg, "sliding_window must be a positive integer, found 0"));
    msg = parse_fails(G3 "\"sliding_window_pattern\": 0}", MW_ERR_INVALID);
    assert_non_null(strstr(msg, "sliding_window_pattern must be a positive integer, found 0"));

    /* gemma3 (multimodal): the language model is text_config; torch_dtype
     * is the top level's */
    hp = parse_ok("{\"model_type\": \"gemma3\", \"torch_dtype\": \"bfloat16\", \"text_config\": "
                  "{\"model_type\": \"gemma3_text\", \"hidden_size\": 2560, "
                  "\"num_hidden_layers\": 34, \"sliding_window\": 1024, \"rope_scaling\": "
                  "{\"factor\": 8.0, \"rope_type\": \"linear\"}}, \"vision_config\": {}}");
    assert_string_equal(hp.arch, "gemma3");
    assert_int_equal(hp.dtype, MW_DTYPE_BF16);
    assert_int_equal(hp.n_embd, 2560);
    assert_int_equal(hp.sliding_window, 1024);
    assert_int_equal(hp.swa_period, 6);
    assert_string_equal(hp.rope_scaling, "linear");
    msg = parse_fails("{\"model_type\": \"gemma3\"}", MW_ERR_INVALID);
    assert_non_null(strstr(msg, "model_type \"gemma3\" needs a text_config object"));
    msg = parse_fails("{\"model_type\": \"gemma3\", \"text_config\": [1]}", MW_ERR_INVALID);
    assert_non_null(strstr(msg, "found an array"));
}
#undef G3
#undef L3

static void unknown_or_missing_model_type(void **state)
{
    (void)state;
    const char *msg = parse_fails("{\"model_type\": \"falcon\", \"hidden_size\": 4544}",
                                  MW_ERR_UNSUPPORTED);
    assert_string_equal(msg, "cfg.json: model_type \"falcon\" is not supported (supported: "
                             "llama, mistral, qwen2, gemma, phi3, gpt2, gpt_neox, mixtral, "
                             "qwen2_moe, qwen3_moe, deepseek_v2, deepseek_v3, qwen3, gemma2, gemma3, "
                             "gemma3_text)");
    msg = parse_fails("{\"hidden_size\": 4096}", MW_ERR_INVALID);
    assert_non_null(strstr(msg, "cfg.json: model_type is missing"));
    msg = parse_fails("{\"model_type\": null}", MW_ERR_INVALID);
    assert_non_null(strstr(msg, "model_type is missing"));
    msg = parse_fails("{\"model_type\": 7}", MW_ERR_INVALID);
    assert_string_equal(msg, "cfg.json: model_type must be a string, found 7");
    msg = parse_fails("{\"model_type\": \"Llama\"}", MW_ERR_UNSUPPORTED); /* case matters */
    assert_non_null(strstr(msg, "\"Llama\" is not supported"));
    /* control bytes in a value do not reach the message */
    msg = parse_fails("{\"model_type\": \"a\\nb\\u0001c\"}", MW_ERR_UNSUPPORTED);
    assert_non_null(strstr(msg, "model_type \"a?b?c\" is not supported"));
}

/* A llama config with key set to value (NULL: left out). */
static const char *llama_with(const char *key, const char *value)
{
    static const char *const keys[] = {"hidden_size", "num_hidden_layers",
                                       "num_attention_heads", "num_key_value_heads",
                                       "intermediate_size", "vocab_size",
                                       "max_position_embeddings"};
    static const char *const values[] = {"4096", "32", "32", "8", "14336", "128256", "8192"};
    static char buf[1024];
    size_t n = (size_t)snprintf(buf, sizeof buf, "{\"model_type\": \"llama\"");
    int seen = 0;
    for (size_t i = 0; i < MW_ARRAY_LEN(keys); i++) {
        const char *v = values[i];
        if (!strcmp(keys[i], key)) {
            seen = 1;
            v = value;
        }
        if (v) n += (size_t)snprintf(buf + n, sizeof buf - n, ", \"%s\": %s", keys[i], v);
    }
    if (!seen && value) n += (size_t)snprintf(buf + n, sizeof buf - n, ", \"%s\": %s", key, value);
    snprintf(buf + n, sizeof buf - n, "}");
    return buf;
}

static void numbers_are_checked(void **state)
{
    (void)state;
    static const struct { const char *key, *value, *msg; } bad[] = {
        {"num_attention_heads", "\"abc\"",
         "cfg.json: num_attention_heads must be a positive integer, found \"abc\""},
        {"num_attention_heads", "\"32\"",
         "cfg.json: num_attention_heads must be a positive integer, found \"32\""},
        {"hidden_size", "0", "cfg.json: hidden_size must be a positive integer, found 0"},
        {"hidden_size", "-4096", "cfg.json: hidden_size must be a positive integer, found -4096"},
        {"vocab_size", "1.5", "cfg.json: vocab_size must be a positive integer, found 1.5"},
        {"vocab_size", "true", "cfg.json: vocab_size must be a positive integer, found true"},
        {"vocab_size", "[32000]", "cfg.json: vocab_size must be a positive integer, found an array"},
        {"vocab_size", "{}", "cfg.json: vocab_size must be a positive integer, found an object"},
        {"vocab_size", "1e999", "cfg.json: vocab_size must be a positive integer, found inf"},
        {"intermediate_size", "4294967296",
         "cfg.json: intermediate_size must be at most 4294967295, found 4294967296"},
        {"num_hidden_layers", NULL,
         "cfg.json: num_hidden_layers is missing (model_type \"llama\" needs it)"},
        {"vocab_size", "null", "cfg.json: vocab_size is missing (model_type \"llama\" needs it)"},
        {"max_position_embeddings", "-1",
         "cfg.json: max_position_embeddings must be a positive integer, found -1"},
        {"num_key_value_heads", "0",
         "cfg.json: num_key_value_heads must be a positive integer, found 0"},
        {"num_key_value_heads", "5",
         "cfg.json: num_attention_heads 32 is not a multiple of num_key_value_heads 5"},
        {"num_key_value_heads", "64",
         "cfg.json: num_key_value_heads 64 exceeds num_attention_heads 32"},
        {"num_attention_heads", "48",
         "cfg.json: hidden_size 4096 is not a multiple of num_attention_heads 48 (and no "
         "head_dim is given)"},
        {"head_dim", "0", "cfg.json: head_dim must be a positive integer, found 0"},
        {"rope_theta", "-1", "cfg.json: rope_theta must be a positive number, found -1"},
        {"rope_theta", "\"1e4\"", "cfg.json: rope_theta must be a positive number, found \"1e4\""},
        {"rms_norm_eps", "0", "cfg.json: rms_norm_eps must be a positive number, found 0"},
        {"tie_word_embeddings", "\"false\"",
         "cfg.json: tie_word_embeddings must be true or false, found \"false\""},
        {"tie_word_embeddings", "0", "cfg.json: tie_word_embeddings must be true or false, found 0"},
        {"torch_dtype", "16",
         "cfg.json: torch_dtype must be a string such as \"bfloat16\", found 16"},
    };
    for (size_t i = 0; i < MW_ARRAY_LEN(bad); i++) {
        const char *msg = parse_fails(llama_with(bad[i].key, bad[i].value), MW_ERR_INVALID);
        if (strcmp(msg, bad[i].msg)) fail_msg("%s=%s: got \"%s\"", bad[i].key, bad[i].value, msg);
    }
    const char *msg = parse_fails(llama_with("torch_dtype", "\"float8_e4m3fn\""),
                                  MW_ERR_UNSUPPORTED);
    assert_string_equal(msg, "cfg.json: torch_dtype \"float8_e4m3fn\" is not supported "
                             "(bfloat16, float16, float32)");

    /* what is fine: integral floats, a head_dim that does not divide, defaults */
    mw_hparams hp = parse_ok(llama_with("hidden_size", "4096.0"));
    assert_int_equal(hp.n_embd, 4096);
    hp = parse_ok(llama_with("head_dim", "160")); /* Mistral-Nemo: 32 x 160 != 5120 */
    assert_int_equal(hp.head_dim, 160);
    hp = parse_ok(llama_with("num_key_value_heads", NULL));
    assert_int_equal(hp.n_kv_heads, 32);
    hp = parse_ok(llama_with("max_position_embeddings", NULL));
    assert_int_equal(hp.n_ctx_train, 0); /* not given */
    assert_int_equal(hp.dtype, MW_DTYPE_COUNT);
    assert_float_equal(hp.rope_theta, 10000.0, 1e-9);
    assert_float_equal(hp.norm_eps, 1e-6, 1e-16);
    hp = parse_ok(llama_with("intermediate_size", "4294967295"));
    assert_true(hp.n_ff == UINT32_MAX);
    hp = parse_ok(llama_with("dtype", "\"float16\"")); /* transformers >= 4.56 */
    assert_int_equal(hp.dtype, MW_DTYPE_F16);
    hp = parse_ok(llama_with("rope_parameters", "{\"rope_theta\": 500000.0, \"rope_type\": "
                                                "\"default\"}"));
    assert_float_equal(hp.rope_theta, 500000.0, 1e-9);
    hp = parse_ok(llama_with("attention_bias", "true"));
    assert_int_equal(hp.attn_bias, 1);
    hp = parse_ok(llama_with("mlp_bias", "true"));
    assert_int_equal(hp.mlp_bias, 1);
}

static void other_types_check_their_keys(void **state)
{
    (void)state;
    const char *msg = parse_fails("{\"model_type\": \"gpt2\", \"n_embd\": 768, \"n_layer\": 12,"
                                  " \"n_head\": 12, \"vocab_size\": 50257}", MW_ERR_INVALID);
    assert_string_equal(msg, "cfg.json: n_positions is missing (model_type \"gpt2\" needs it)");
    msg = parse_fails("{\"model_type\": \"gpt2\", \"n_embd\": 768, \"n_layer\": 12,"
                      " \"n_head\": 7, \"n_positions\": 1024, \"vocab_size\": 50257}",
                      MW_ERR_INVALID);
    assert_string_equal(msg, "cfg.json: n_embd 768 is not a multiple of n_head 7");
    msg = parse_fails("{\"model_type\": \"gpt2\", \"n_embd\": 1073741824, \"n_layer\": 1,"
                      " \"n_head\": 1, \"n_positions\": 1, \"vocab_size\": 1}", MW_ERR_INVALID);
    assert_non_null(strstr(msg, "n_inner defaults to 4 x n_embd"));
    mw_hparams hp = parse_ok("{\"model_type\": \"gpt2\", \"n_embd\": 768, \"n_layer\": 12,"
                             " \"n_head\": 12, \"n_positions\": 1024, \"vocab_size\": 50257,"
                             " \"n_inner\": 1000, \"tie_word_embeddings\": false}");
    assert_int_equal(hp.n_ff, 1000);
    assert_int_equal(hp.tied_embeddings, 0);

    msg = parse_fails("{\"model_type\": \"gpt_neox\", \"hidden_size\": 512,"
                      " \"num_hidden_layers\": 6, \"num_attention_heads\": 8,"
                      " \"vocab_size\": 50304}", MW_ERR_INVALID);
    assert_string_equal(msg, "cfg.json: intermediate_size is missing (model_type \"gpt_neox\" "
                             "needs it)");
    hp = parse_ok("{\"model_type\": \"gpt_neox\", \"hidden_size\": 512, \"num_hidden_layers\": 6,"
                  " \"num_attention_heads\": 8, \"intermediate_size\": 2048,"
                  " \"vocab_size\": 50304, \"attention_bias\": false, \"rope_theta\": 5e5}");
    assert_int_equal(hp.attn_bias, 0);
    assert_int_equal(hp.mlp_bias, 1);
    assert_float_equal(hp.rope_theta, 5e5, 1e-9);

    static const char mixtral_fmt[] =
        "{\"model_type\": \"mixtral\", \"hidden_size\": 4096, \"num_hidden_layers\": 32,"
        " \"num_attention_heads\": 32, \"intermediate_size\": 14336, \"vocab_size\": 32000%s}";
    char text[512];
    snprintf(text, sizeof text, mixtral_fmt, ", \"num_experts_per_tok\": 2");
    msg = parse_fails(text, MW_ERR_INVALID);
    assert_string_equal(msg, "cfg.json: num_local_experts is missing (model_type \"mixtral\" "
                             "needs it)");
    snprintf(text, sizeof text, mixtral_fmt,
             ", \"num_local_experts\": 2, \"num_experts_per_tok\": 3");
    msg = parse_fails(text, MW_ERR_INVALID);
    assert_string_equal(msg, "cfg.json: num_experts_per_tok 3 exceeds num_local_experts 2");
    snprintf(text, sizeof text, mixtral_fmt, ", \"num_local_experts\": 8, "
                                             "\"num_experts_per_tok\": 2");
    hp = parse_ok(text);
    assert_float_equal(hp.rope_theta, 1e6, 1e-6); /* MixtralConfig's default */
    assert_float_equal(hp.norm_eps, 1e-5, 1e-15);

    /* gemma without head_dim: GemmaConfig's 256, not hidden / heads */
    hp = parse_ok("{\"model_type\": \"gemma\", \"hidden_size\": 2048, \"num_hidden_layers\": 18,"
                  " \"num_attention_heads\": 8, \"intermediate_size\": 16384,"
                  " \"vocab_size\": 256000, \"tie_word_embeddings\": false}");
    assert_int_equal(hp.head_dim, 256);
    assert_int_equal(hp.tied_embeddings, 0);
}

static void json_itself_is_checked(void **state)
{
    (void)state;
    const char *msg = parse_fails("{\"model_type\": \"llama\",", MW_ERR_INVALID);
    assert_non_null(strstr(msg, "cfg.json: not valid JSON (error at byte"));
    msg = parse_fails("", MW_ERR_INVALID);
    assert_non_null(strstr(msg, "not valid JSON"));
    msg = parse_fails("[1, 2]", MW_ERR_INVALID);
    assert_non_null(strstr(msg, "the top level is not a JSON object"));
    msg = parse_fails("\"llama\"", MW_ERR_INVALID);
    assert_non_null(strstr(msg, "the top level is not a JSON object"));

    char text[1100];
    snprintf(text, sizeof text, "%s x", llama_with("vocab_size", "32000"));
    msg = parse_fails(text, MW_ERR_INVALID);
    assert_non_null(strstr(msg, "unexpected bytes after the JSON object, at byte"));
    snprintf(text, sizeof text, "%s{}", llama_with("vocab_size", "32000"));
    parse_fails(text, MW_ERR_INVALID);

    /* a key given twice: cJSON would take the first, Python the last */
    msg = parse_fails("{\"model_type\": \"llama\", \"hidden_size\": 4096, \"hidden_size\": 8192}",
                      MW_ERR_INVALID);
    assert_string_equal(msg, "cfg.json: key hidden_size is given twice; which one is meant?");

    /* the text need not end in NUL: only len bytes are read */
    snprintf(text, sizeof text, "%s garbage", llama_with("vocab_size", "32000"));
    size_t len = strlen(llama_with("vocab_size", "32000"));
    mw_hparams hp;
    assert_int_equal(mw_hf_config_parse(text, len, NULL, &hp, NULL), MW_OK);
    assert_int_equal(hp.n_vocab, 32000);
    /* a NULL err is allowed on failure too, and where defaults to config.json */
    assert_int_equal(mw_hf_config_parse("{", 1, NULL, &hp, NULL), MW_ERR_INVALID);
    mw_err err;
    mw_hf_config_parse("[]", 2, NULL, &hp, &err);
    assert_non_null(strstr(err.msg, "config.json: "));
    /* trailing whitespace and a byte-order mark are fine */
    snprintf(text, sizeof text, "\xEF\xBB\xBF%s \r\n\t", llama_with("vocab_size", "7"));
    hp = parse_ok(text);
    assert_int_equal(hp.n_vocab, 7);
}

static void files_are_read(void **state)
{
    (void)state;
    char dir[] = "/tmp/mw_hfcfg_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[96];
    mw_hparams hp;
    mw_err err = {0};

    snprintf(path, sizeof path, "%s/missing.json", dir);
    assert_int_equal(mw_hf_config_read(path, &hp, &err), MW_ERR_NOT_FOUND);
    assert_non_null(strstr(err.msg, path));
    static mw_model sentinel;
    mw_model *m = &sentinel; /* must become NULL */
    assert_int_equal(mw_hf_config_open_model(path, &m, &err), MW_ERR_NOT_FOUND);
    assert_null(m);

    assert_int_equal(mw_hf_config_read(dir, &hp, &err), MW_ERR_INVALID); /* a directory */
    assert_non_null(strstr(err.msg, dir));
    assert_non_null(strstr(err.msg, "is a directory, not a regular file"));

    snprintf(path, sizeof path, "%s/big.json", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, (4 << 20) + 1), 0);
    close(fd);
    assert_int_equal(mw_hf_config_read(path, &hp, &err), MW_ERR_INVALID);
    assert_non_null(strstr(err.msg, "4194305 bytes is too big for a config.json"));
    unlink(path);

    /* exactly 4 MiB is allowed: the config padded with spaces */
    snprintf(path, sizeof path, "%s/padded.json", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    const char *cfg = llama_with("vocab_size", "32000");
    fputs(cfg, f);
    for (size_t i = strlen(cfg); i < (4u << 20); i++) fputc(' ', f);
    fclose(f);
    assert_int_equal(mw_hf_config_read(path, &hp, &err), MW_OK);
    assert_int_equal(hp.n_vocab, 32000);
    unlink(path);

    /* errors name the file */
    snprintf(path, sizeof path, "%s/config.json", dir);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(llama_with("hidden_size", "\"abc\""), f);
    fclose(f);
    assert_int_equal(mw_hf_config_open_model(path, &m, &err), MW_ERR_INVALID);
    char want[160];
    snprintf(want, sizeof want, "%s: hidden_size must be a positive integer, found \"abc\"", path);
    assert_string_equal(err.msg, want);
    unlink(path);

    /* pipes are refused before a read (a named one with no writer would
     * block the open forever): one with data, and a FIFO with no writer */
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    cfg = llama_with("vocab_size", "100");
    assert_true(write(fds[1], cfg, strlen(cfg)) == (ssize_t)strlen(cfg));
    close(fds[1]);
    snprintf(path, sizeof path, "/proc/self/fd/%d", fds[0]);
    assert_int_equal(mw_hf_config_read(path, &hp, &err), MW_ERR_INVALID);
    assert_non_null(strstr(err.msg, "is a FIFO (named pipe), not a regular file"));
    close(fds[0]);
    snprintf(path, sizeof path, "%s/config.json", dir);
    assert_int_equal(mkfifo(path, 0600), 0);
    assert_int_equal(mw_hf_config_read(path, &hp, &err), MW_ERR_INVALID);
    assert_non_null(strstr(err.msg, path));
    assert_non_null(strstr(err.msg, "is a FIFO (named pipe), not a regular file"));
    unlink(path);
    rmdir(dir);
}

static void presets_list_and_open(void **state)
{
    (void)state;
    const char *const *names = mw_preset_names();
    assert_non_null(names);
    size_t n = 0;
    for (; names[n]; n++) {
        const char *text = mw_preset_config(names[n]);
        if (!text) fail_msg("preset %s has no config", names[n]);
        mw_model *m = NULL;
        mw_err err = {0};
        assert_int_equal(mw_preset_open_model(names[n], &m, &err), MW_OK);
        assert_int_equal(m->source, MW_SOURCE_PRESET);
        assert_string_equal(m->path, names[n]);
        assert_int_equal(m->has_hparams, 1);
        assert_true(m->n_params > 0 && m->weights_bytes > 0);
        mw_model_free(m);
    }
    assert_true(n >= 9);
    static const char *const required[] = {"llama-2-7b", "llama-3-8b", "mistral-7b", "gpt2",
                                           "qwen2-7b", "gemma-2b", "phi3-mini", "mixtral-8x7b",
                                           "pythia-1.4b"};
    for (size_t i = 0; i < MW_ARRAY_LEN(required); i++)
        assert_non_null(mw_preset_config(required[i]));
    assert_non_null(mw_preset_config("Llama-3-8B")); /* names ignore case */

    assert_null(mw_preset_config("llama-9-1t"));
    assert_null(mw_preset_config(NULL));
    static mw_model sentinel;
    mw_model *m = &sentinel; /* must become NULL */
    mw_err err = {0};
    assert_int_equal(mw_preset_open_model("llama-9-1t", &m, &err), MW_ERR_NOT_FOUND);
    assert_null(m);
    assert_non_null(strstr(err.msg, "no preset named \"llama-9-1t\" (presets: llama-2-7b, "));
    assert_non_null(strstr(err.msg, "pythia-1.4b, "));
    assert_non_null(strstr(err.msg, "qwen3-235b-a22b, llama-3.1-8b, "));
    assert_non_null(strstr(err.msg, "qwen3-1.7b)")); /* the last: none cut off */
}

/* ---- MoE and MLA (issue #13) ---- */

/* DeepSeek-V2-Lite's keys (q_lora_rank null) with one key replaced. */
static const char *deepseek_with(const char *key, const char *value)
{
    static char buf[2048];
    static const char *const keys[][2] = {
        {"model_type", "\"deepseek_v2\""}, {"hidden_size", "2048"},
        {"num_hidden_layers", "27"}, {"num_attention_heads", "16"},
        {"num_key_value_heads", "16"}, {"intermediate_size", "10944"},
        {"vocab_size", "102400"}, {"max_position_embeddings", "163840"},
        {"q_lora_rank", "null"}, {"kv_lora_rank", "512"}, {"qk_nope_head_dim", "128"},
        {"qk_rope_head_dim", "64"}, {"v_head_dim", "128"}, {"n_routed_experts", "64"},
        {"num_experts_per_tok", "6"}, {"moe_intermediate_size", "1408"},
        {"n_shared_experts", "2"}, {"first_k_dense_replace", "1"}, {"moe_layer_freq", "1"},
        {"num_nextn_predict_layers", "0"}, {"torch_dtype", "\"bfloat16\""},
    };
    size_t n = 0;
    n += (size_t)snprintf(buf + n, sizeof buf - n, "{");
    for (size_t i = 0; i < MW_ARRAY_LEN(keys); i++) {
        const char *v = !strcmp(keys[i][0], key) ? value : keys[i][1];
        if (!v) continue; /* left out */
        n += (size_t)snprintf(buf + n, sizeof buf - n, "%s\"%s\": %s", n > 1 ? ", " : "",
                              keys[i][0], v);
    }
    snprintf(buf + n, sizeof buf - n, "}");
    return buf;
}

static void moe_and_mla_keys(void **state)
{
    (void)state;
    mw_hparams hp = parse_ok(deepseek_with("", NULL));
    assert_string_equal(hp.arch, "deepseek_v2");
    assert_int_equal(hp.q_lora_rank, 0); /* null: a plain q_proj */
    assert_int_equal(hp.kv_lora_rank, 512);
    assert_int_equal(hp.qk_nope_dim, 128);
    assert_int_equal(hp.qk_rope_dim, 64);
    assert_int_equal(hp.v_head_dim, 128);
    assert_int_equal(hp.head_dim, 192); /* a query's and a key's width */
    assert_int_equal(hp.n_experts, 64);
    assert_int_equal(hp.n_experts_used, 6);
    assert_int_equal(hp.n_ff, 10944);
    assert_int_equal(hp.n_ff_expert, 1408);
    assert_int_equal(hp.n_shared_experts, 2);
    assert_int_equal(hp.n_ff_shared, 2 * 1408);
    assert_int_equal(hp.moe_first_dense, 1);
    assert_int_equal(hp.moe_every, 1);
    assert_int_equal(hp.n_mtp_layers, 0);
    assert_false(hp.expert_bias);
    assert_int_equal(hp.dtype, MW_DTYPE_BF16);
    /* V3: the router's correction bias, an MTP layer, a q LoRA */
    const char *text = mw_preset_config("deepseek-v3");
    hp = parse_ok(text);
    assert_string_equal(hp.arch, "deepseek_v3");
    assert_true(hp.expert_bias);
    assert_int_equal(hp.q_lora_rank, 1536);
    assert_int_equal(hp.n_mtp_layers, 1);
    assert_int_equal(hp.moe_first_dense, 3);
    assert_int_equal(hp.n_ff_shared, 2048);
    /* absent counts take DeepseekV2Config's defaults */
    hp = parse_ok(deepseek_with("n_shared_experts", NULL));
    assert_int_equal(hp.n_ff_shared, 0);
    hp = parse_ok(deepseek_with("first_k_dense_replace", NULL));
    assert_int_equal(hp.moe_first_dense, 0);

    /* qwen3_moe: head_dim given, q/k norms, no shared expert */
    hp = parse_ok(mw_preset_config("qwen3-30b-a3b"));
    assert_int_equal(hp.head_dim, 128);
    assert_int_equal(hp.n_ff_expert, 768);
    assert_int_equal(hp.n_ff_shared, 0);
    assert_true(hp.qk_norm);
    assert_false(hp.attn_bias);
    assert_int_equal(hp.moe_dense_layers[0], 0);
    /* qwen2_moe: shared expert and its gate, q/k/v biases, mlp_only_layers */
    hp = parse_ok("{\"model_type\": \"qwen2_moe\", \"hidden_size\": 2048, "
                  "\"num_hidden_layers\": 24, \"num_attention_heads\": 16, "
                  "\"intermediate_size\": 5632, \"vocab_size\": 151936, \"num_experts\": 60, "
                  "\"num_experts_per_tok\": 4, \"moe_intermediate_size\": 1408, "
                  "\"shared_expert_intermediate_size\": 5632, \"decoder_sparse_step\": 1, "
                  "\"mlp_only_layers\": [0, 23]}");
    assert_int_equal(hp.n_ff_shared, 5632);
    assert_true(hp.shared_expert_gate);
    assert_true(hp.attn_bias);
    assert_true(hp.moe_dense_layers[0] == (1ull | 1ull << 23));
}

static void bad_moe_and_mla_configs(void **state)
{
    (void)state;
    const char *msg = parse_fails(deepseek_with("n_routed_experts", "0"), MW_ERR_INVALID);
    assert_non_null(strstr(msg, "cfg.json: n_routed_experts must be a positive integer, found 0"));
    msg = parse_fails(deepseek_with("n_routed_experts", NULL), MW_ERR_INVALID);
    assert_non_null(strstr(msg, "n_routed_experts is missing"));
    msg = parse_fails(deepseek_with("num_experts_per_tok", "65"), MW_ERR_INVALID);
    assert_non_null(strstr(msg, "num_experts_per_tok 65 exceeds n_routed_experts 64"));
    msg = parse_fails(deepseek_with("kv_lora_rank", "0"), MW_ERR_INVALID);
    assert_non_null(strstr(msg, "kv_lora_rank must be a positive integer, found 0"));
    msg = parse_fails(deepseek_with("kv_lora_rank", NULL), MW_ERR_INVALID);
    assert_non_null(strstr(msg, "kv_lora_rank is missing"));
    msg = parse_fails(deepseek_with("kv_lora_rank", "null"), MW_ERR_INVALID);
    assert_non_null(strstr(msg, "multi-head latent attention"));
    msg = parse_fails(deepseek_with("q_lora_rank", "-1"), MW_ERR_INVALID);
    assert_non_null(strstr(msg, "q_lora_rank must be a positive integer, found -1"));
    msg = parse_fails(deepseek_with("qk_rope_head_dim", NULL), MW_ERR_INVALID);
    assert_non_null(strstr(msg, "qk_rope_head_dim is missing"));
    msg = parse_fails(deepseek_with("first_k_dense_replace", "28"), MW_ERR_INVALID);
    assert_non_null(strstr(msg, "first_k_dense_replace 28 exceeds num_hidden_layers 27"));
    msg = parse_fails(deepseek_with("n_shared_experts", "-2"), MW_ERR_INVALID);
    assert_non_null(strstr(msg, "n_shared_experts must be a whole number"));
    msg = parse_fails(deepseek_with("moe_layer_freq", "0"), MW_ERR_INVALID);
    assert_non_null(strstr(msg, "moe_layer_freq must be a positive integer"));

    static const char qwen[] =
        "{\"model_type\": \"qwen3_moe\", \"hidden_size\": 64, \"num_hidden_layers\": 2, "
        "\"num_attention_heads\": 4, \"intermediate_size\": 96, \"vocab_size\": 100, "
        "\"num_experts\": 4, \"num_experts_per_tok\": %s, \"moe_intermediate_size\": 32, "
        "\"mlp_only_layers\": %s}";
    char buf[512];
    snprintf(buf, sizeof buf, qwen, "5", "[]");
    msg = parse_fails(buf, MW_ERR_INVALID);
    assert_non_null(strstr(msg, "num_experts_per_tok 5 exceeds num_experts 4"));
    snprintf(buf, sizeof buf, qwen, "2", "[2]");
    msg = parse_fails(buf, MW_ERR_INVALID);
    assert_non_null(strstr(msg, "mlp_only_layers[0] must be a layer number below "
                                "num_hidden_layers 2, found 2"));
    snprintf(buf, sizeof buf, qwen, "2", "3");
    msg = parse_fails(buf, MW_ERR_INVALID);
    assert_non_null(strstr(msg, "mlp_only_layers must be a list"));
    snprintf(buf, sizeof buf, qwen, "2", "[\"1\"]");
    msg = parse_fails(buf, MW_ERR_INVALID);
    assert_non_null(strstr(msg, "found \"1\""));
    snprintf(buf, sizeof buf, qwen, "2", "[1]");
    mw_hparams hp = parse_ok(buf);
    assert_true(hp.moe_dense_layers[0] == 2);
}

/* Every allocation of opening a preset (and a config file) made to fail in
 * turn: a clean MW_ERR_NOMEM, no model, nothing left allocated. */
static void allocation_failures_are_clean(void **state)
{
    (void)state;
    char dir[] = "/tmp/mw_hfcfg_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof path, "%s/config.json", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(qwen2_05b, f);
    fclose(f);

    static const char *const presets[] = {"gpt2", "mixtral-8x7b", NULL};
    for (size_t p = 0; p < MW_ARRAY_LEN(presets); p++) {
        int ok = 0;
        uint64_t k;
        for (k = 1; k < 20000 && !ok; k++) {
            mw_mem_stats before, after;
            mw_mem_get_stats(&before);
            static mw_model sentinel;
            mw_model *m = &sentinel; /* must become NULL on failure */
            mw_err err = {0};
            mw_mem_fail_after(k);
            mw_status st = presets[p] ? mw_preset_open_model(presets[p], &m, &err)
                                      : mw_hf_config_open_model(path, &m, &err);
            mw_mem_fail_after(0);
            if (st == MW_OK) {
                ok = 1;
                assert_non_null(m);
                mw_model_free(m);
            } else {
                if (st != MW_ERR_NOMEM)
                    fail_msg("%s, allocation %llu failed: %s (%s)",
                             presets[p] ? presets[p] : path, (unsigned long long)k,
                             mw_status_name(st), err.msg);
                assert_int_equal(err.status, MW_ERR_NOMEM);
                assert_null(m);
            }
            mw_mem_get_stats(&after);
            assert_true(after.total_current_bytes == before.total_current_bytes);
        }
        assert_true(ok);
        assert_true(k > 10); /* the loop did reach past the first allocations */
    }
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(each_model_type),
        cmocka_unit_test(configs_give_published_counts),
        cmocka_unit_test(unknown_or_missing_model_type),
        cmocka_unit_test(dense_architectures_parse),
        cmocka_unit_test(numbers_are_checked),
        cmocka_unit_test(other_types_check_their_keys),
        cmocka_unit_test(json_itself_is_checked),
        cmocka_unit_test(files_are_read),
        cmocka_unit_test(presets_list_and_open),
        cmocka_unit_test(allocation_failures_are_clean),
        cmocka_unit_test(moe_and_mla_keys),
        cmocka_unit_test(bad_moe_and_mla_configs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

