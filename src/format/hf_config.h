/*
 * hf_config.h - Hugging Face config.json -> mw_hparams, and the built-in
 * presets (config.json texts of well-known models).
 *
 * Supported model_type values: llama, mistral, qwen2, gemma, phi3, gpt2,
 * gpt_neox, mixtral; qwen3, gemma2, gemma3 (its text_config) and
 * gemma3_text. Anything else is explained (which type, which are
 * supported), not guessed.
 */
#ifndef MW_FORMAT_HF_CONFIG_H
#define MW_FORMAT_HF_CONFIG_H

#include "memwall.h"

/* Parses config.json text (len bytes). `where` names it in errors. */
mw_status mw_hf_config_parse(const char *text, size_t len, const char *where,
                             mw_hparams *hp, mw_err *err);

/* Reads and parses a config.json file (at most 4 MiB). */
mw_status mw_hf_config_read(const char *path, mw_hparams *hp, mw_err *err);

/* The config.json text of a preset; NULL when no preset has that name. */
const char *mw_preset_config(const char *name);

/* mw_model_open for a config.json or a preset: hparams, and the tensor list
 * the architecture implies (format/arch.h) at hp.dtype, so n_params and
 * weights_bytes are filled. */
mw_status mw_hf_config_open_model(const char *path, mw_model **out, mw_err *err);
mw_status mw_preset_open_model(const char *name, mw_model **out, mw_err *err);
#endif /* MW_FORMAT_HF_CONFIG_H */
