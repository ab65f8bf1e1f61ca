/*
 * convert.h - the converter's pieces that tests check on their own
 * (internal to src/convert and its unit tests; the API is memwall.h).
 */
#ifndef MW_CONVERT_CONVERT_H
#define MW_CONVERT_CONVERT_H

#include "memwall.h"

/*! mw_convert_hf_name() : the GGUF name of a Hugging Face llama tensor
 *  (model.layers.3.self_attn.q_proj.weight -> blk.3.attn_q.weight).
 *  @return 1 and out set; 0 the tensor is dropped (rotary_emb.inv_freq);
 *  -1 a name convert does not know. */
int mw_convert_hf_name(const char *hf, char *out, size_t cap);

/* Which Q/K projection a GGUF name is: 1 attn_q, 2 attn_k, 0 neither. */
int mw_convert_qk_kind(const char *gguf_name);

/*! mw_convert_qk_src_row() : the row of the Hugging Face matrix that goes to
 *  row r of the GGUF one, for n_rows = n_head * head_dim rows: llama.cpp's
 *  converter (convert_hf_to_gguf.py, LlamaModel.permute: q_proj with
 *  n_head, k_proj with n_head_kv) reshapes each head's rows [2, d/2] to
 *  [d/2, 2], so GGUF row h*d + 2j + i is HF row h*d + i*d/2 + j. */
uint64_t mw_convert_qk_src_row(uint64_t r, uint64_t n_rows, uint32_t n_head);

/* llama.cpp's general.file_type (LLAMA_FTYPE_*, llama.h) for a type or a
 * file type name; 0xFFFFFFFF when none. */
uint32_t mw_convert_file_type(const char *name);

/*! mw_convert_hf_vocab() : the vocabulary of a Hugging Face model in dir
 *  as tokenizer.ggml.* keys: from tokenizer.json when it holds a byte-level
 *  BPE model (*kind "tokenizer.json"), else llama.cpp-loadable placeholder
 *  pieces of hp->n_vocab ids and a warning (*kind "placeholder"). */
struct mw_gguf_writer;
mw_status mw_convert_hf_vocab(const char *dir, const mw_hparams *hp, struct mw_gguf_writer *w, const char **kind,
                              void (*warn)(const char *line, void *user), void *warn_user, mw_err *err);

#endif /* MW_CONVERT_CONVERT_H */
