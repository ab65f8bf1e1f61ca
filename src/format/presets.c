/*
 * presets.c - the config.json of well-known models, built in, so a plan can
 * start from a name ("llama-3-8b") without a download.
 *
 * Each text is the model's config.json as published on the Hugging Face
 * Hub (repository named above it), unchanged but for layout. They go through
 * the same parser as a file (hf_config.c), and the parameter counts the
 * tensors imply (arch.c) are checked in tests/unit/test_arch.c against the
 * published totals.
 */
#include "format/hf_config.h"
#include "common/error.h"

#include <strings.h>

typedef struct preset {
    const char *name;
    const char *config;
} preset;

static const preset presets[] = {
    /* meta-llama/Llama-2-7b-hf: 6,738,415,616 parameters */
    {"llama-2-7b",
     "{\n"
     "  \"architectures\": [\"LlamaForCausalLM\"],\n"
     "  \"bos_token_id\": 1,\n"
     "  \"eos_token_id\": 2,\n"
     "  \"hidden_act\": \"silu\",\n"
     "  \"hidden_size\": 4096,\n"
     "  \"initializer_range\": 0.02,\n"
     "  \"intermediate_size\": 11008,\n"
     "  \"max_position_embeddings\": 4096,\n"
     "  \"model_type\": \"llama\",\n"
     "  \"num_attention_heads\": 32,\n"
     "  \"num_hidden_layers\": 32,\n"
     "  \"num_key_value_heads\": 32,\n"
     "  \"pretraining_tp\": 1,\n"
     "  \"rms_norm_eps\": 1e-05,\n"
     "  \"rope_scaling\": null,\n"
     "  \"tie_word_embeddings\": false,\n"
     "  \"torch_dtype\": \"float16\",\n"
     "  \"transformers_version\": \"4.31.0.dev0\",\n"
     "  \"use_cache\": true,\n"
     "  \"vocab_size\": 32000\n"
     "}\n"},
    /* meta-llama/Meta-Llama-3-8B: 8,030,261,248 parameters */
    {"llama-3-8b",
     "{\n"
     "  \"architectures\": [\"LlamaForCausalLM\"],\n"
     "  \"attention_bias\": false,\n"
     "  \"attention_dropout\": 0.0,\n"
     "  \"bos_token_id\": 128000,\n"
     "  \"eos_token_id\": 128001,\n"
     "  \"hidden_act\": \"silu\",\n"
     "  \"hidden_size\": 4096,\n"
     "  \"initializer_range\": 0.02,\n"
     "  \"intermediate_size\": 14336,\n"
     "  \"max_position_embeddings\": 8192,\n"
     "  \"model_type\": \"llama\",\n"
     "  \"num_attention_heads\": 32,\n"
     "  \"num_hidden_layers\": 32,\n"
     "  \"num_key_value_heads\": 8,\n"
     "  \"pretraining_tp\": 1,\n"
     "  \"rms_norm_eps\": 1e-05,\n"
     "  \"rope_scaling\": null,\n"
     "  \"rope_theta\": 500000.0,\n"
     "  \"tie_word_embeddings\": false,\n"
     "  \"torch_dtype\": \"bfloat16\",\n"
     "  \"transformers_version\": \"4.40.0.dev0\",\n"
     "  \"use_cache\": true,\n"
     "  \"vocab_size\": 128256\n"
     "}\n"},
    /* meta-llama/Meta-Llama-3-70B: 70,553,706,496 parameters */
    {"llama-3-70b",
     "{\n"
     "  \"architectures\": [\"LlamaForCausalLM\"],\n"
     "  \"attention_bias\": false,\n"
     "  \"attention_dropout\": 0.0,\n"
     "  \"bos_token_id\": 128000,\n"
     "  \"eos_token_id\": 128001,\n"
     "  \"hidden_act\": \"silu\",\n"
     "  \"hidden_size\": 8192,\n"
     "  \"initializer_range\": 0.02,\n"
     "  \"intermediate_size\": 28672,\n"
     "  \"max_position_embeddings\": 8192,\n"
     "  \"model_type\": \"llama\",\n"
     "  \"num_attention_heads\": 64,\n"
     "  \"num_hidden_layers\": 80,\n"
     "  \"num_key_value_heads\": 8,\n"
     "  \"pretraining_tp\": 1,\n"
     "  \"rms_norm_eps\": 1e-05,\n"
     "  \"rope_scaling\": null,\n"
     "  \"rope_theta\": 500000.0,\n"
     "  \"tie_word_embeddings\": false,\n"
     "  \"torch_dtype\": \"bfloat16\",\n"
     "  \"transformers_version\": \"4.40.0.dev0\",\n"
     "  \"use_cache\": true,\n"
     "  \"vocab_size\": 128256\n"
     "}\n"},
    /* mistralai/Mistral-7B-v0.1: 7,241,732,096 parameters */
    {"mistral-7b",
     "{\n"
     "  \"architectures\": [\"MistralForCausalLM\"],\n"
     "  \"bos_token_id\": 1,\n"
     "  \"eos_token_id\": 2,\n"
     "  \"hidden_act\": \"silu\",\n"
     "  \"hidden_size\": 4096,\n"
     "  \"initializer_range\": 0.02,\n"
     "  \"intermediate_size\": 14336,\n"
     "  \"max_position_embeddings\": 32768,\n"
     "  \"model_type\": \"mistral\",\n"
     "  \"num_attention_heads\": 32,\n"
     "  \"num_hidden_layers\": 32,\n"
     "  \"num_key_value_heads\": 8,\n"
     "  \"rms_norm_eps\": 1e-05,\n"
     "  \"rope_theta\": 10000.0,\n"
     "  \"sliding_window\": 4096,\n"
     "  \"tie_word_embeddings\": false,\n"
     "  \"torch_dtype\": \"bfloat16\",\n"
     "  \"transformers_version\": \"4.34.0.dev0\",\n"
     "  \"use_cache\": true,\n"
     "  \"vocab_size\": 32000\n"
     "}\n"},
    /* mistralai/Mixtral-8x7B-v0.1: 46,702,792,704 parameters */
    {"mixtral-8x7b",
     "{\n"
     "  \"architectures\": [\"MixtralForCausalLM\"],\n"
     "  \"attention_dropout\": 0.0,\n"
     "  \"bos_token_id\": 1,\n"
     "  \"eos_token_id\": 2,\n"
     "  \"hidden_act\": \"silu\",\n"
     "  \"hidden_size\": 4096,\n"
     "  \"initializer_range\": 0.02,\n"
     "  \"intermediate_size\": 14336,\n"
     "  \"max_position_embeddings\": 32768,\n"
     "  \"model_type\": \"mixtral\",\n"
     "  \"num_attention_heads\": 32,\n"
     "  \"num_experts_per_tok\": 2,\n"
     "  \"num_hidden_layers\": 32,\n"
     "  \"num_key_value_heads\": 8,\n"
     "  \"num_local_experts\": 8,\n"
     "  \"output_router_logits\": false,\n"
     "  \"rms_norm_eps\": 1e-05,\n"
     "  \"rope_theta\": 1000000.0,\n"
     "  \"router_aux_loss_coef\": 0.02,\n"
     "  \"sliding_window\": null,\n"
     "  \"tie_word_embeddings\": false,\n"
     "  \"torch_dtype\": \"bfloat16\",\n"
     "  \"transformers_version\": \"4.36.0.dev0\",\n"
     "  \"use_cache\": true,\n"
     "  \"vocab_size\": 32000\n"
     "}\n"},
    /* Qwen/Qwen2-7B: 7,615,616,512 parameters */
    {"qwen2-7b",
     "{\n"
     "  \"architectures\": [\"Qwen2ForCausalLM\"],\n"
     "  \"attention_dropout\": 0.0,\n"
     "  \"bos_token_id\": 151643,\n"
     "  \"eos_token_id\": 151643,\n"
     "  \"hidden_act\": \"silu\",\n"
     "  \"hidden_size\": 3584,\n"
     "  \"initializer_range\": 0.02,\n"
     "  \"intermediate_size\": 18944,\n"
     "  \"max_position_embeddings\": 131072,\n"
     "  \"max_window_layers\": 28,\n"
     "  \"model_type\": \"qwen2\",\n"
     "  \"num_attention_heads\": 28,\n"
     "  \"num_hidden_layers\": 28,\n"
     "  \"num_key_value_heads\": 4,\n"
     "  \"rms_norm_eps\": 1e-06,\n"
     "  \"rope_theta\": 1000000.0,\n"
     "  \"sliding_window\": 131072,\n"
     "  \"tie_word_embeddings\": false,\n"
     "  \"torch_dtype\": \"bfloat16\",\n"
     "  \"transformers_version\": \"4.37.2\",\n"
     "  \"use_cache\": true,\n"
     "  \"use_sliding_window\": false,\n"
     "  \"vocab_size\": 152064\n"
     "}\n"},
    /* google/gemma-2b: 2,506,172,416 parameters (output tied to the embedding) */
    {"gemma-2b",
     "{\n"
     "  \"architectures\": [\"GemmaForCausalLM\"],\n"
     "  \"attention_bias\": false,\n"
     "  \"attention_dropout\": 0.0,\n"
     "  \"bos_token_id\": 2,\n"
     "  \"eos_token_id\": 1,\n"
     "  \"head_dim\": 256,\n"
     "  \"hidden_act\": \"gelu\",\n"
     "  \"hidden_size\": 2048,\n"
     "  \"initializer_range\": 0.02,\n"
     "  \"intermediate_size\": 16384,\n"
     "  \"max_position_embeddings\": 8192,\n"
     "  \"model_type\": \"gemma\",\n"
     "  \"num_attention_heads\": 8,\n"
     "  \"num_hidden_layers\": 18,\n"
     "  \"num_key_value_heads\": 1,\n"
     "  \"pad_token_id\": 0,\n"
     "  \"rms_norm_eps\": 1e-06,\n"
     "  \"rope_scaling\": null,\n"
     "  \"rope_theta\": 10000.0,\n"
     "  \"torch_dtype\": \"bfloat16\",\n"
     "  \"transformers_version\": \"4.38.0.dev0\",\n"
     "  \"use_cache\": true,\n"
     "  \"vocab_size\": 256000\n"
     "}\n"},
    /* microsoft/Phi-3-mini-4k-instruct: 3,821,079,552 parameters (fused
     * qkv_proj and gate_up_proj) */
    {"phi3-mini",
     "{\n"
     "  \"_name_or_path\": \"Phi-3-mini-4k-instruct\",\n"
     "  \"architectures\": [\"Phi3ForCausalLM\"],\n"
     "  \"attention_dropout\": 0.0,\n"
     "  \"auto_map\": {\n"
     "    \"AutoConfig\": \"configuration_phi3.Phi3Config\",\n"
     "    \"AutoModelForCausalLM\": \"modeling_phi3.Phi3ForCausalLM\"\n"
     "  },\n"
     "  \"bos_token_id\": 1,\n"
     "  \"embd_pdrop\": 0.0,\n"
     "  \"eos_token_id\": 32000,\n"
     "  \"hidden_act\": \"silu\",\n"
     "  \"hidden_size\": 3072,\n"
     "  \"initializer_range\": 0.02,\n"
     "  \"intermediate_size\": 8192,\n"
     "  \"max_position_embeddings\": 4096,\n"
     "  \"model_type\": \"phi3\",\n"
     "  \"num_attention_heads\": 32,\n"
     "  \"num_hidden_layers\": 32,\n"
     "  \"num_key_value_heads\": 32,\n"
     "  \"original_max_position_embeddings\": 4096,\n"
     "  \"pad_token_id\": 32000,\n"
     "  \"resid_pdrop\": 0.0,\n"
     "  \"rms_norm_eps\": 1e-05,\n"
     "  \"rope_scaling\": null,\n"
     "  \"rope_theta\": 10000.0,\n"
     "  \"sliding_window\": 2047,\n"
     "  \"tie_word_embeddings\": false,\n"
     "  \"torch_dtype\": \"bfloat16\",\n"
     "  \"transformers_version\": \"4.40.2\",\n"
     "  \"use_cache\": true,\n"
     "  \"attention_bias\": false,\n"
     "  \"vocab_size\": 32064\n"
     "}\n"},
    /* openai-community/gpt2 (GPT-2 small): 124,439,808 parameters; no
     * torch_dtype (the checkpoint is F32), output tied to wte */
    {"gpt2",
     "{\n"
     "  \"activation_function\": \"gelu_new\",\n"
     "  \"architectures\": [\"GPT2LMHeadModel\"],\n"
     "  \"attn_pdrop\": 0.1,\n"
     "  \"bos_token_id\": 50256,\n"
     "  \"embd_pdrop\": 0.1,\n"
     "  \"eos_token_id\": 50256,\n"
     "  \"initializer_range\": 0.02,\n"
     "  \"layer_norm_epsilon\": 1e-05,\n"
     "  \"model_type\": \"gpt2\",\n"
     "  \"n_ctx\": 1024,\n"
     "  \"n_embd\": 768,\n"
     "  \"n_head\": 12,\n"
     "  \"n_layer\": 12,\n"
     "  \"n_positions\": 1024,\n"
     "  \"resid_pdrop\": 0.1,\n"
     "  \"summary_activation\": null,\n"
     "  \"summary_first_dropout\": 0.1,\n"
     "  \"summary_proj_to_labels\": true,\n"
     "  \"summary_type\": \"cls_index\",\n"
     "  \"summary_use_proj\": true,\n"
     "  \"task_specific_params\": {\n"
     "    \"text-generation\": {\"do_sample\": true, \"max_length\": 50}\n"
     "  },\n"
     "  \"vocab_size\": 50257\n"
     "}\n"},
    /* EleutherAI/pythia-1.4b: 1,414,647,808 parameters (untied embed_out) */
    {"pythia-1.4b",
     "{\n"
     "  \"architectures\": [\"GPTNeoXForCausalLM\"],\n"
     "  \"bos_token_id\": 0,\n"
     "  \"eos_token_id\": 0,\n"
     "  \"hidden_act\": \"gelu\",\n"
     "  \"hidden_size\": 2048,\n"
     "  \"initializer_range\": 0.02,\n"
     "  \"intermediate_size\": 8192,\n"
     "  \"layer_norm_eps\": 1e-05,\n"
     "  \"max_position_embeddings\": 2048,\n"
     "  \"model_type\": \"gpt_neox\",\n"
     "  \"num_attention_heads\": 16,\n"
     "  \"num_hidden_layers\": 24,\n"
     "  \"rotary_emb_base\": 10000,\n"
     "  \"rotary_pct\": 0.25,\n"
     "  \"tie_word_embeddings\": false,\n"
     "  \"torch_dtype\": \"float16\",\n"
     "  \"transformers_version\": \"4.24.0\",\n"
     "  \"use_cache\": true,\n"
     "  \"use_parallel_residual\": true,\n"
     "  \"vocab_size\": 50304\n"
     "}\n"},
};

#define N_PRESETS MW_ARRAY_LEN(presets)

/* The names again, NULL-terminated, for mw_preset_names(). */
static const char *const preset_names[] = {
    "llama-2-7b", "llama-3-8b", "llama-3-70b", "mistral-7b", "mixtral-8x7b",
    "qwen2-7b", "gemma-2b", "phi3-mini", "gpt2", "pythia-1.4b", NULL,
};
_Static_assert(MW_ARRAY_LEN(preset_names) == N_PRESETS + 1, "one name per preset");

const char *const *mw_preset_names(void)
{
    return preset_names;
}

const char *mw_preset_config(const char *name)
{
    if (!name) return NULL;
    for (size_t i = 0; i < N_PRESETS; i++)
        if (!strcasecmp(name, presets[i].name)) return presets[i].config;
    return NULL;
}
