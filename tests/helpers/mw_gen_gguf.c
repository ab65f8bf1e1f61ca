/*
 * mw_gen_gguf.c - writes a llama-architecture GGUF file of a given shape
 * with memwall's own GGUF writer: the "model file a user brings" of the
 * sweep tests (tests/cli/sweep_gguf.sh), at a real model's size.
 *
 *     mw-gen-gguf [--layers N] [--embd N] [--heads N] [--kv-heads N]
 *                 [--ff N] [--vocab N] [--ctx N] [--dtype TYPE]
 *                 [--vocab-meta | --test-vocab | --test-vocab-bpe PRE]
 *                 [--prune RATIO|2:4 [--sparse]]
 *                 OUT.gguf
 *
 * --prune (issue #14, sparse) zeroes the smallest weights by magnitude in
 * every row of every matrix: RATIO of each row (0 < RATIO < 1; the row
 * keeps mw_sparse_row_keep(k, mw_sparse_keep_q16(RATIO)) values, ties to
 * the lower index) or 2 of each group of 4 inputs. Alone, the file is dense
 * (TYPE f32, f16 or q8_0) with the zeros; with --sparse the matrices other
 * than token_embd are stored in memwall's sparse type of TYPE
 * (docs/SPARSE.md) - the same weights, so the two files give the same
 * logits to rounding (Q8: each 64-block's scale differs from Q8_0's).
 *
 * TYPE: f16 (default), f32, q8_0, q4_0, q4_1, q5_0, q5_1, q4_k, q5_k, q6_k for every matrix,
 * or q4_k_m, a mix like llama.cpp's Q4_K_M: token_embd and ffn_down in
 * Q6_K, attn_v in Q8_0, the other matrices in Q4_K (norms are always F32).
 * The block types need embd and ff to be multiples of their block (32, or
 * 256 for the K-quants).
 *
 * The default shape is SmolLM-135M's (30 layers, width 576, 9 heads / 3 KV
 * heads of 64, FFN 1536, vocabulary 49152, output tied to the embedding):
 * 134,515,008 parameters, 269 MB in F16. The weights are small
 * deterministic values (one buffer shared by every tensor): what is
 * measured here is memory, not text.
 *
 * --vocab-meta adds the demo model's minimal SentencePiece-style vocabulary
 * (tokenizer.ggml.*, mw_llama_write_vocab): llama.cpp refuses a GGUF without
 * tokenizer.ggml.model, so tests/llamacpp/sweep.sh needs it. It adds about
 * 1 MB of metadata for 49152 ids; the tensors are the same.
 *
 * --test-vocab adds instead a vocabulary that merges: <unk> <s> </s>, the
 * 256 byte tokens <0x00>..<0xFF> (ids 3-258), then from id 259 the pieces
 * of TEST_PIECES below with their scores (so "hello world" is 1 272 277),
 * then a user-defined token "<mw_user>" and a control token "<|mw_ctl|>",
 * then fillers; tests/cli/tokenize.sh and tests/llamacpp/tokenize.sh use it.
 *
 * --test-vocab-bpe PRE adds instead a byte-level BPE vocabulary
 * (tokenizer.ggml.model "gpt2", tokenizer.ggml.pre PRE: default, gpt-2,
 * llama3 or qwen2) whose merges are learned here, at generation time, from
 * BPE_TEXT below (English and code) cut into words by PRE's pre-tokenizer:
 * ids 0-255 are the 256 byte characters (GPT-2's mapping) in byte order,
 * then one token per merge (up to 400, the most frequent pair first, ties
 * to the lower ids), then the control tokens <|endoftext|> (BOS and EOS),
 * <|im_start|>, <|im_end|> and the user-defined tokens <|im and
 * <mw_user>, then fillers up to --vocab.
 */
#include "memwall.h"
#include "format/gguf.h"
#include "engine/kernels.h"
#include "engine/llama.h"
#include "format/pretok.h"
#include "engine/sparse.h"

#include <math.h>

#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct shape {
    uint32_t layers, embd, heads, kv_heads, ff, vocab, ctx;
} shape;

/* ---- issue #14, sparse: --prune and --sparse --------------------------- */
static double g_prune_ratio;   /* 0: none */
static int g_prune_24, g_sparse;

static const float *g_rowv;    /* qsort: the row being ranked */
static int by_mag_desc(const void *a, const void *b)
{
    const int i = *(const int *)a, j = *(const int *)b;
    const float x = fabsf(g_rowv[i]), y = fabsf(g_rowv[j]);
    return x > y ? -1 : x < y ? 1 : (i > j) - (i < j);
}

/* zeroes the pruned values of rows x cols v, sets mask (1 = kept) */
static int prune_rows(float *v, uint64_t rows, uint64_t cols, uint64_t *mask)
{
    int *ord = malloc(cols * sizeof *ord);
    if (!ord) return 0;
    const int64_t keep = mw_sparse_row_keep((int64_t)cols, mw_sparse_keep_q16(g_prune_ratio));
    memset(mask, 0, rows * cols / 8);
    for (uint64_t r = 0; r < rows; r++) {
        float *row = v + r * cols;
        uint64_t *mk = mask + r * cols / 64;
        if (g_prune_24) {
            for (uint64_t g = 0; g < cols / 4; g++) {
                for (int i = 0; i < 4; i++) ord[i] = (int)(4 * g) + i;
                g_rowv = row;
                qsort(ord, 4, sizeof *ord, by_mag_desc);
                for (int i = 0; i < 2; i++) mk[ord[i] / 64] |= 1ull << (ord[i] % 64);
            }
        } else {
            for (uint64_t i = 0; i < cols; i++) ord[i] = (int)i;
            g_rowv = row;
            qsort(ord, cols, sizeof *ord, by_mag_desc);
            for (int64_t i = 0; i < keep; i++) mk[ord[i] / 64] |= 1ull << (ord[i] % 64);
        }
        for (uint64_t i = 0; i < cols; i++)
            if (!(mk[i / 64] >> (i % 64) & 1)) row[i] = 0.0f;
    }
    free(ord);
    return 1;
}

/* rows x cols packed in sparse type st; *rb: bytes per row */
static unsigned char *pack_rows(mw_dtype st, const float *v, const uint64_t *mask, uint64_t rows,
                                uint64_t cols, int64_t keep, uint64_t *rb)
{
    *rb = mw_sparse_row_bytes(st, (int64_t)cols, keep);
    unsigned char *buf = malloc(*rb * rows);
    for (uint64_t r = 0; buf && r < rows; r++)
        mw_sparse_pack_row(st, v + r * cols, mask + r * cols / 64, (int64_t)cols, buf + r * *rb);
    return buf;
}

static int add(mw_gguf_writer *w, const char *name, mw_dtype t, uint64_t cols, uint64_t rows, const void *data,
               mw_err *err)
{
    uint64_t dims[2] = {cols, rows};
    return mw_gguf_writer_add_tensor(w, name, t, rows == 1 ? 1 : 2, dims, data, err) == MW_OK;
}

#define SP "\xe2\x96\x81"
static const struct { const char *piece; float score; } TEST_PIECES[] = {
    {SP, -10}, {"h", -10}, {"e", -10}, {"l", -10}, {"o", -10}, {"w", -10}, {"r", -10}, {"d", -10},
    {"t", -10}, {"he", -3}, {"ll", -2}, {"llo", -1}, {"hello", -0.5f}, {SP "hello", -0.1f}, {SP "w", -4},
    {"or", -3}, {"ld", -3}, {"orld", -2.5f}, {SP "world", -0.2f}, {SP "t", -5}, {SP "the", -1},
};
/* after TEST_PIECES: a user-defined (4) and a control (3) token */
static const char *const TEST_SPECIAL[] = {"<mw_user>", "<|mw_ctl|>"};

static int write_test_vocab(mw_gguf_writer *w, uint32_t n, mw_err *err)
{
    const uint32_t n_pieces = sizeof TEST_PIECES / sizeof TEST_PIECES[0];
    if (n < 261 + n_pieces) {
        fprintf(stderr, "mw-gen-gguf: --test-vocab needs --vocab %u at least\n", 261 + n_pieces);
        return 0;
    }
    char **tokens = calloc(n, sizeof *tokens);
    float *scores = calloc(n, sizeof *scores);
    int32_t *types = calloc(n, sizeof *types);
    int ok = tokens && scores && types;
    for (uint32_t i = 0; ok && i < n; i++) {
        char buf[32];
        types[i] = 1;
        if (i < 3) snprintf(buf, sizeof buf, "%s", i == 0 ? "<unk>" : i == 1 ? "<s>" : "</s>"), types[i] = i ? 3 : 2;
        else if (i < 259) snprintf(buf, sizeof buf, "<0x%02X>", i - 3), types[i] = 6;
        else if (i < 259 + n_pieces) snprintf(buf, sizeof buf, "%s", TEST_PIECES[i - 259].piece),
                                     scores[i] = TEST_PIECES[i - 259].score;
        else if (i < 261 + n_pieces) snprintf(buf, sizeof buf, "%s", TEST_SPECIAL[i - 259 - n_pieces]),
                                     types[i] = i == 259 + n_pieces ? 4 : 3;
        else snprintf(buf, sizeof buf, "<filler%u>", i), scores[i] = -100.0f - (float)i;
        ok = (tokens[i] = strdup(buf)) != NULL;
    }
    if (!ok) fprintf(stderr, "mw-gen-gguf: out of memory\n");
    ok = ok && mw_gguf_writer_set_str(w, "tokenizer.ggml.model", "llama", err) == MW_OK;
    ok = ok && mw_gguf_writer_set_str_array(w, "tokenizer.ggml.tokens", (const char *const *)tokens, n, err) == MW_OK;
    ok = ok && mw_gguf_writer_set_array(w, "tokenizer.ggml.scores", MW_GGUF_F32, scores, n, err) == MW_OK;
    ok = ok && mw_gguf_writer_set_array(w, "tokenizer.ggml.token_type", MW_GGUF_I32, types, n, err) == MW_OK;
    ok = ok && mw_gguf_writer_set_u32(w, "tokenizer.ggml.unknown_token_id", 0, err) == MW_OK;
    ok = ok && mw_gguf_writer_set_u32(w, "tokenizer.ggml.bos_token_id", 1, err) == MW_OK;
    ok = ok && mw_gguf_writer_set_u32(w, "tokenizer.ggml.eos_token_id", 2, err) == MW_OK;
    ok = ok && mw_gguf_writer_set_bool(w, "tokenizer.ggml.add_bos_token", 1, err) == MW_OK;
    ok = ok && mw_gguf_writer_set_bool(w, "tokenizer.ggml.add_space_prefix", 1, err) == MW_OK;
    for (uint32_t i = 0; tokens && i < n; i++) free(tokens[i]);
    free(tokens);
    free(scores);
    free(types);
    return ok;
}

/* the text the BPE test vocabulary's merges are learned from */
static const char BPE_TEXT[] =
    "The quick brown fox jumps over the lazy dog. The dog was not amused, and the fox ran away.\n"
    "Hello world! Hello, world. hello there; the world is large and the weather is nice today.\n"
    "It's a test: we'll see what they're doing, and I'd say you've done it. DON'T STOP, I'M HERE.\n"
    "In 2024 there were 1234567 tokens, 3.14159 pies, 42 answers and 100000 words in 365 days.\n"
    "int main(void) { return 0; }\nfor (int i = 0; i < n; i++) { sum += x[i] * y[i]; }\n"
    "def tokenize(text):\n    return [t for t in text.split() if t]\n\n"
    "    if (err != NULL) {\n        fprintf(stderr, \"error: %s\\n\", msg);\n    }\n"
    "Caf\xc3\xa9 cr\xc3\xa8me br\xc3\xbbl\xc3\xa9" "e, na\xc3\xafve r\xc3\xa9sum\xc3\xa9, \xc3\x85ngstr\xc3\xb6m and "
    "\xc3\xbc" "ber.\n"
    "\xe4\xb8\xad\xe6\x96\x87\xe6\x96\x87\xe6\x9c\xac and \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e text, "
    "\xf0\x9f\x98\x80 emoji.\n"
    "the the the and and and of of to to in in is is that that it it for for on on with with as as\n"
    "memory bandwidth, memory wall, the model's weights and the KV cache fill the memory.\n";

#define BPE_MAX_MERGES 400u
static const char *const BPE_SPECIAL[] = {"<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|im", "<mw_user>"};
static const int32_t BPE_SPECIAL_TYPE[] = {3, 3, 3, 4, 4};

/* byte b as GPT-2's character, UTF-8, into out: its length */
static size_t bpe_char(unsigned b, char *out)
{
    unsigned c = b, n = 0;
    int printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    if (!printable) {
        for (unsigned x = 0; x < b; x++)
            n += !((x >= 0x21 && x <= 0x7E) || (x >= 0xA1 && x <= 0xAC) || (x >= 0xAE && x <= 0xFF));
        c = 256 + n;
    }
    if (c < 0x80) { out[0] = (char)c; return 1; }
    out[0] = (char)(0xC0 | (c >> 6));
    out[1] = (char)(0x80 | (c & 0x3F));
    return 2;
}

/* the piece of raw bytes p[0..n) as GPT-2's characters, NUL-terminated */
static char *bpe_piece(const unsigned char *p, size_t n)
{
    char *s = malloc(2 * n + 1), *q = s;
    if (!s) return NULL;
    for (size_t i = 0; i < n; i++) q += bpe_char(p[i], q);
    *q = '\0';
    return s;
}

static int write_test_vocab_bpe(mw_gguf_writer *w, uint32_t n, const char *pre_name, mw_err *err)
{
    const uint32_t n_special = sizeof BPE_SPECIAL / sizeof BPE_SPECIAL[0];
    mw_pretok pre;
    if (!mw_pretok_from_name(pre_name, strlen(pre_name), &pre)) {
        fprintf(stderr, "mw-gen-gguf: --test-vocab-bpe %s: not one of %s\n", pre_name, mw_pretok_names);
        return 0;
    }
    if (n < 256 + BPE_MAX_MERGES + n_special) {
        fprintf(stderr, "mw-gen-gguf: --test-vocab-bpe needs --vocab %u at least\n", 256 + BPE_MAX_MERGES + n_special);
        return 0;
    }
    /* the text's words as sequences of token ids, each ending in -1 */
    const size_t len = sizeof BPE_TEXT - 1;
    uint32_t *cps = malloc(len * sizeof *cps);
    size_t *coff = malloc((len + 1) * sizeof *coff), *ends = malloc(len * sizeof *ends),
           *scratch = malloc(len * sizeof *scratch);
    int32_t *seq = malloc(2 * len * sizeof *seq);
    unsigned char (*raw)[64] = calloc(256 + BPE_MAX_MERGES, sizeof *raw);   /* each token's bytes */
    uint8_t *raw_len = calloc(256 + BPE_MAX_MERGES, 1);
    uint32_t *count = malloc((size_t)(256 + BPE_MAX_MERGES) * (256 + BPE_MAX_MERGES) * sizeof *count);
    char **merges = calloc(BPE_MAX_MERGES, sizeof *merges);
    char **tokens = calloc(n, sizeof *tokens);
    int32_t *types = calloc(n, sizeof *types);
    int ok = cps && coff && ends && scratch && seq && raw && raw_len && count && merges && tokens && types;
    size_t nc = 0, m = 0;
    for (size_t i = 0; ok && i < len;) {
        const unsigned char *u = (const unsigned char *)BPE_TEXT;
        size_t k = u[i] < 0x80 ? 1 : u[i] < 0xE0 ? 2 : u[i] < 0xF0 ? 3 : 4;
        uint32_t c = k == 1 ? u[i] : k == 2 ? (u[i] & 0x1Fu) << 6 | (u[i + 1] & 0x3Fu)
                   : k == 3 ? (u[i] & 0x0Fu) << 12 | (u[i + 1] & 0x3Fu) << 6 | (u[i + 2] & 0x3Fu)
                   : (u[i] & 0x07u) << 18 | (u[i + 1] & 0x3Fu) << 12 | (u[i + 2] & 0x3Fu) << 6 | (u[i + 3] & 0x3Fu);
        coff[nc] = i;
        cps[nc++] = c;
        i += k;
    }
    if (ok) {
        coff[nc] = len;
        size_t words = mw_pretok_split(pre, cps, nc, ends, scratch);
        for (size_t k = 0, a = 0; k < words; a = ends[k++]) {
            for (size_t b = coff[a]; b < coff[ends[k]]; b++) seq[m++] = (unsigned char)BPE_TEXT[b];
            seq[m++] = -1;
        }
        for (uint32_t b = 0; b < 256; b++) raw[b][0] = (unsigned char)b, raw_len[b] = 1;
    }
    const uint32_t V = 256 + BPE_MAX_MERGES;
    uint32_t n_merges = 0;
    while (ok && n_merges < BPE_MAX_MERGES) {
        memset(count, 0, (size_t)V * V * sizeof *count);
        uint32_t best = 0, bl = 0, br = 0;
        for (size_t i = 0; i + 1 < m; i++) {
            if (seq[i] < 0 || seq[i + 1] < 0) continue;
            uint32_t c = ++count[(size_t)seq[i] * V + (uint32_t)seq[i + 1]];
            uint32_t l = (uint32_t)seq[i], r = (uint32_t)seq[i + 1];
            if (c > best || (c == best && (l < bl || (l == bl && r < br)))) best = c, bl = l, br = r;
        }
        if (best < 2 || raw_len[bl] + raw_len[br] > 63) break;
        uint32_t id = 256 + n_merges;
        memcpy(raw[id], raw[bl], raw_len[bl]);
        memcpy(raw[id] + raw_len[bl], raw[br], raw_len[br]);
        raw_len[id] = (uint8_t)(raw_len[bl] + raw_len[br]);
        char *a = bpe_piece(raw[bl], raw_len[bl]), *b = bpe_piece(raw[br], raw_len[br]);
        merges[n_merges] = a && b ? malloc(strlen(a) + strlen(b) + 2) : NULL;
        if ((ok = merges[n_merges] != NULL)) sprintf(merges[n_merges], "%s %s", a, b);
        free(a);
        free(b);
        size_t o = 0;   /* merge (bl, br) everywhere, left to right */
        for (size_t i = 0; i < m; i++) {
            if (i + 1 < m && seq[i] == (int32_t)bl && seq[i + 1] == (int32_t)br) seq[o++] = (int32_t)id, i++;
            else seq[o++] = seq[i];
        }
        m = o;
        n_merges++;
    }
    for (uint32_t i = 0; ok && i < n; i++) {
        char buf[32];
        types[i] = 1;
        if (i < 256 + n_merges) {
            tokens[i] = bpe_piece(raw[i], raw_len[i]);
        } else if (i < 256 + n_merges + n_special) {
            tokens[i] = strdup(BPE_SPECIAL[i - 256 - n_merges]);
            types[i] = BPE_SPECIAL_TYPE[i - 256 - n_merges];
        } else {
            snprintf(buf, sizeof buf, "<filler%u>", i);
            tokens[i] = strdup(buf);
        }
        ok = tokens[i] != NULL;
    }
    if (!ok) fprintf(stderr, "mw-gen-gguf: out of memory\n");
    const uint32_t eot = 256 + n_merges;
    ok = ok && mw_gguf_writer_set_str(w, "tokenizer.ggml.model", "gpt2", err) == MW_OK;
    ok = ok && mw_gguf_writer_set_str(w, "tokenizer.ggml.pre", pre_name, err) == MW_OK;
    ok = ok && mw_gguf_writer_set_str_array(w, "tokenizer.ggml.tokens", (const char *const *)tokens, n, err) == MW_OK;
    ok = ok && mw_gguf_writer_set_array(w, "tokenizer.ggml.token_type", MW_GGUF_I32, types, n, err) == MW_OK;
    ok = ok && mw_gguf_writer_set_str_array(w, "tokenizer.ggml.merges", (const char *const *)merges, n_merges,
                                            err) == MW_OK;
    ok = ok && mw_gguf_writer_set_u32(w, "tokenizer.ggml.bos_token_id", eot, err) == MW_OK;
    ok = ok && mw_gguf_writer_set_u32(w, "tokenizer.ggml.eos_token_id", eot, err) == MW_OK;
    ok = ok && mw_gguf_writer_set_bool(w, "tokenizer.ggml.add_bos_token", 0, err) == MW_OK;
    for (uint32_t i = 0; tokens && i < n; i++) free(tokens[i]);
    for (uint32_t i = 0; merges && i < BPE_MAX_MERGES; i++) free(merges[i]);
    free(tokens), free(types), free(merges), free(count), free(raw), free(raw_len);
    free(cps), free(coff), free(ends), free(scratch), free(seq);
    return ok;
}

/* MIX: the Q4_K_M-like mix of --dtype q4_k_m */
#define MIX MW_DTYPE_COUNT

/* the type of a matrix ("token_embd", "attn_q", ...) in a model of type t */
static mw_dtype type_of(mw_dtype t, const char *role)
{
    if (t != MIX) return t;
    if (!strcmp(role, "token_embd") || !strcmp(role, "ffn_down")) return MW_DTYPE_Q6_K;
    if (!strcmp(role, "attn_v")) return MW_DTYPE_Q8_0;
    return MW_DTYPE_Q4_K;
}

/* [n] values encoded as type t (n a multiple of its block; every row of a
 * tensor starts on a block, so any tensor's prefix is valid rows) */
static unsigned char *encode(mw_dtype t, const float *v, uint64_t n)
{
    unsigned char *buf = malloc((size_t)mw_dtype_bytes(t, n));
    if (!buf) return NULL;
    switch (t) {
    case MW_DTYPE_F32: memcpy(buf, v, (size_t)n * 4); break;
    case MW_DTYPE_F16: mw_k_row_to_f16(v, (uint16_t *)buf, (int64_t)n); break;
    case MW_DTYPE_Q8_0: mw_k_quant_row_q8_0(v, buf, (int64_t)n); break;
    case MW_DTYPE_Q4_0: mw_k_quant_row_q4_0(v, buf, (int64_t)n); break;
    case MW_DTYPE_Q4_K: mw_k_quant_row_q4_k(v, buf, (int64_t)n); break;
    case MW_DTYPE_Q5_K: mw_k_quant_row_q5_k(v, buf, (int64_t)n); break;
    case MW_DTYPE_Q6_K: mw_k_quant_row_q6_k(v, buf, (int64_t)n); break;
    default: free(buf); return NULL;
    }
    return buf;
}

static int write_model(const shape *s, mw_dtype t, int vocab_meta, const char *bpe_pre, const char *path,
                       mw_err *err)
{
    const uint64_t hd = s->embd / s->heads, kvd = hd * s->kv_heads;
    uint64_t most = (uint64_t)s->vocab * s->embd;
    if ((uint64_t)s->embd * s->ff > most) most = (uint64_t)s->embd * s->ff;
    /* [most] values, encoded once per type used; the norms' [embd] f32 ones */
    float *vals = malloc((size_t)most * sizeof *vals);
    float *ones = malloc(s->embd * sizeof *ones);
    static const mw_dtype used[] = {MW_DTYPE_F32, MW_DTYPE_F16, MW_DTYPE_Q8_0, MW_DTYPE_Q4_0,
                                    MW_DTYPE_Q4_K, MW_DTYPE_Q5_K, MW_DTYPE_Q6_K};
    unsigned char *bufs[MW_DTYPE_COUNT] = {0};
    if (!vals || !ones) {
        fprintf(stderr, "mw-gen-gguf: out of memory\n");
        free(vals);
        free(ones);
        return 0;
    }
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (uint64_t i = 0; i < most; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        vals[i] = ((float)(x >> 40) / (float)(1u << 24) - 0.5f) * 0.04f; /* U(-0.02, 0.02) */
    }
    /* issue #14, sparse: ffn_down's rows (of ff) pruned apart from the rest (rows of embd) */
    const int pruning = g_prune_ratio > 0 || g_prune_24;
    const uint64_t nf = (uint64_t)s->embd * s->ff;
    float *pf = NULL;
    uint64_t *mask_e = NULL, *mask_f = NULL;
    unsigned char *dense_f = NULL, *sp_e = NULL, *sp_f = NULL;
    uint64_t rb_e = 0, rb_f = 0;
    const mw_dtype st = g_sparse ? mw_sparse_type(t, g_prune_24) : MW_DTYPE_COUNT;
    const int64_t keep_e = g_prune_24 ? s->embd / 2 : mw_sparse_row_keep(s->embd, mw_sparse_keep_q16(g_prune_ratio));
    const int64_t keep_f = g_prune_24 ? s->ff / 2 : mw_sparse_row_keep(s->ff, mw_sparse_keep_q16(g_prune_ratio));
    if (pruning) {
        pf = malloc(nf * sizeof *pf);
        mask_e = malloc(most / 8);
        mask_f = malloc(nf / 8);
        int okp = pf && mask_e && mask_f;
        if (okp) memcpy(pf, vals, nf * sizeof *pf);
        okp = okp && prune_rows(pf, s->embd, s->ff, mask_f) && prune_rows(vals, most / s->embd, s->embd, mask_e);
        okp = okp && (dense_f = encode(t, pf, nf)) != NULL;
        if (okp && g_sparse) {
            okp = (sp_e = pack_rows(st, vals, mask_e, most / s->embd, s->embd, keep_e, &rb_e)) &&
                  (sp_f = pack_rows(st, pf, mask_f, s->embd, s->ff, keep_f, &rb_f));
        }
        if (!okp) {
            fprintf(stderr, "mw-gen-gguf: out of memory pruning\n");
            free(pf), free(mask_e), free(mask_f), free(dense_f), free(sp_e), free(sp_f);
            free(vals), free(ones);
            return 0;
        }
    }
    static const char *const roles[] = {"token_embd", "attn_q", "attn_k", "attn_v", "attn_output",
                                        "ffn_gate", "ffn_up", "ffn_down"};
    for (size_t u = 0; u < sizeof used / sizeof used[0]; u++) {
        int needed = 0;
        for (size_t r = 0; r < sizeof roles / sizeof roles[0]; r++) needed |= type_of(t, roles[r]) == used[u];
        if (needed && !(bufs[used[u]] = encode(used[u], vals, most))) {
            fprintf(stderr, "mw-gen-gguf: out of memory\n");
            for (int i = 0; i < MW_DTYPE_COUNT; i++) free(bufs[i]);
            free(vals);
            free(ones);
            return 0;
        }
    }
    for (uint32_t i = 0; i < s->embd; i++) ones[i] = 1.0f;

    mw_gguf_writer *w = NULL;
    int ok = mw_gguf_writer_init(&w, err) == MW_OK;
#define SET(fn, key, v) ok = ok && fn(w, key, v, err) == MW_OK
    SET(mw_gguf_writer_set_str, "general.architecture", "llama");
    SET(mw_gguf_writer_set_str, "general.name", "memwall test model");
    /* llama.cpp's file types: ALL_F32 0, MOSTLY_F16 1, Q4_0 2, Q8_0 7,
     * Q4_K_S 14, Q4_K_M 15, Q5_K_S 16, Q6_K 18 */
    SET(mw_gguf_writer_set_u32, "general.file_type",
        t == MW_DTYPE_F16 ? 1 : t == MW_DTYPE_Q4_0 ? 2 : t == MW_DTYPE_Q8_0 ? 7 : t == MW_DTYPE_Q4_K ? 14
        : t == MIX ? 15 : t == MW_DTYPE_Q5_K ? 16 : t == MW_DTYPE_Q6_K ? 18 : 0);
    SET(mw_gguf_writer_set_u32, "llama.context_length", s->ctx);
    SET(mw_gguf_writer_set_u32, "llama.embedding_length", s->embd);
    SET(mw_gguf_writer_set_u32, "llama.block_count", s->layers);
    SET(mw_gguf_writer_set_u32, "llama.feed_forward_length", s->ff);
    SET(mw_gguf_writer_set_u32, "llama.rope.dimension_count", (uint32_t)hd);
    SET(mw_gguf_writer_set_u32, "llama.attention.head_count", s->heads);
    SET(mw_gguf_writer_set_u32, "llama.attention.head_count_kv", s->kv_heads);
    SET(mw_gguf_writer_set_f32, "llama.attention.layer_norm_rms_epsilon", 1e-5f);
    SET(mw_gguf_writer_set_f32, "llama.rope.freq_base", 10000.0f);
    SET(mw_gguf_writer_set_u32, "llama.vocab_size", s->vocab);
    if (g_sparse && !g_prune_24) /* issue #14, sparse */
        SET(mw_gguf_writer_set_u32, MW_GGUF_SPARSE_KEEP_KEY, mw_sparse_keep_q16(g_prune_ratio));
    if (g_sparse)
        SET(mw_gguf_writer_set_str, "general.description",
            "memwall-only: sparse tensor types that llama.cpp does not load (docs/SPARSE.md)");
#undef SET
    ok = ok && (vocab_meta != 1 || mw_llama_write_vocab(w, s->vocab, err) == MW_OK);
    ok = ok && (vocab_meta != 2 || write_test_vocab(w, s->vocab, err));
    ok = ok && (vocab_meta != 3 || write_test_vocab_bpe(w, s->vocab, bpe_pre, err));
    const mw_dtype te = type_of(t, "token_embd");
    ok = ok && add(w, "token_embd.weight", te, s->embd, s->vocab, bufs[te], err);
    char name[64];
    for (uint32_t l = 0; ok && l < s->layers; l++) {
        struct { const char *n; uint64_t cols, rows; int norm; } ts[] = {
            {"attn_norm", s->embd, 1, 1},     {"attn_q", s->embd, s->embd, 0}, {"attn_k", s->embd, kvd, 0},
            {"attn_v", s->embd, kvd, 0},      {"attn_output", s->embd, s->embd, 0},
            {"ffn_norm", s->embd, 1, 1},      {"ffn_gate", s->embd, s->ff, 0}, {"ffn_up", s->embd, s->ff, 0},
            {"ffn_down", s->ff, s->embd, 0},
        };
        for (size_t k = 0; ok && k < sizeof ts / sizeof ts[0]; k++) {
            snprintf(name, sizeof name, "blk.%u.%s.weight", l, ts[k].n);
            const mw_dtype tt = type_of(t, ts[k].n);
            const int down = !strcmp(ts[k].n, "ffn_down");
            if (!ts[k].norm && g_sparse) { /* issue #14, sparse */
                uint64_t dims[2] = {ts[k].cols, ts[k].rows};
                ok = mw_gguf_writer_add_tensor_sized(w, name, st, 2, dims, down ? sp_f : sp_e,
                                                     ts[k].rows * (down ? rb_f : rb_e), err) == MW_OK;
                continue;
            }
            ok = ts[k].norm ? add(w, name, MW_DTYPE_F32, ts[k].cols, 1, ones, err)
                            : add(w, name, tt, ts[k].cols, ts[k].rows,
                                  down && pruning ? dense_f : bufs[tt], err);
        }
    }
    ok = ok && add(w, "output_norm.weight", MW_DTYPE_F32, s->embd, 1, ones, err);
    ok = ok && mw_gguf_writer_write(w, path, err) == MW_OK;
    mw_gguf_writer_free(w);
    for (int i = 0; i < MW_DTYPE_COUNT; i++) free(bufs[i]);
    free(pf), free(mask_e), free(mask_f), free(dense_f), free(sp_e), free(sp_f);
    free(vals);
    free(ones);
    return ok;
}

int main(int argc, char **argv)
{
    shape s = {30, 576, 9, 3, 1536, 49152, 2048};
    mw_dtype t = MW_DTYPE_F16;
    int vocab_meta = 0;
    const char *bpe_pre = NULL;
    const char *tname = "f16";
    static const struct option opts[] = {
        {"layers", required_argument, NULL, 'l'}, {"embd", required_argument, NULL, 'e'},
        {"heads", required_argument, NULL, 'h'},  {"kv-heads", required_argument, NULL, 'k'},
        {"ff", required_argument, NULL, 'f'},     {"vocab", required_argument, NULL, 'v'},
        {"ctx", required_argument, NULL, 'c'},    {"dtype", required_argument, NULL, 'd'},
        {"vocab-meta", no_argument, NULL, 'm'}, {"test-vocab", no_argument, NULL, 'V'},
        {"test-vocab-bpe", required_argument, NULL, 'P'},
        {"prune", required_argument, NULL, 'R'}, {"sparse", no_argument, NULL, 'S'},
        {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'd') {
            static const struct { const char *name; mw_dtype t; } names[] = {
                {"f16", MW_DTYPE_F16},   {"f32", MW_DTYPE_F32},   {"q8_0", MW_DTYPE_Q8_0},
                {"q4_0", MW_DTYPE_Q4_0}, {"q4_k", MW_DTYPE_Q4_K}, {"q5_k", MW_DTYPE_Q5_K},
                {"q6_k", MW_DTYPE_Q6_K}, {"q4_k_m", MIX},
            };
            size_t i = 0;
            while (i < sizeof names / sizeof names[0] && strcmp(optarg, names[i].name)) i++;
            if (i == sizeof names / sizeof names[0]) {
                fprintf(stderr, "mw-gen-gguf: --dtype f16, f32, q8_0, q4_0, q4_1, q5_0, q5_1, q4_k, q5_k, q6_k or q4_k_m\n");
                return 2;
            }
            t = names[i].t;
            tname = names[i].name;
            continue;
        }
        if (c == 'R') { /* issue #14, sparse */
            char *end;
            g_prune_24 = !strcmp(optarg, "2:4");
            g_prune_ratio = g_prune_24 ? 0 : strtod(optarg, &end);
            if (!g_prune_24 && (*end || !(g_prune_ratio > 0 && g_prune_ratio < 1))) {
                fprintf(stderr, "mw-gen-gguf: --prune takes a ratio in (0, 1) or 2:4, not '%s'\n", optarg);
                return 2;
            }
            continue;
        }
        if (c == 'S') { g_sparse = 1; continue; }
        if (c == 'm') { vocab_meta = 1; continue; }
        if (c == 'V') { vocab_meta = 2; continue; }
        if (c == 'P') { vocab_meta = 3; bpe_pre = optarg; continue; }
        if (c == '?') return 2;
        char *end;
        unsigned long v = strtoul(optarg, &end, 10);
        if (*end || v == 0 || v > 1u << 20) { fprintf(stderr, "mw-gen-gguf: bad number '%s'\n", optarg); return 2; }
        uint32_t *f = c == 'l' ? &s.layers : c == 'e' ? &s.embd : c == 'h' ? &s.heads : c == 'k' ? &s.kv_heads
                    : c == 'f' ? &s.ff : c == 'v' ? &s.vocab : &s.ctx;
        *f = (uint32_t)v;
    }
    if (optind + 1 != argc || s.embd % s.heads || s.heads % s.kv_heads) {
        fprintf(stderr, "usage: mw-gen-gguf [--layers N] [--embd N] [--heads N] [--kv-heads N] [--ff N] "
                        "[--vocab N] [--ctx N] [--dtype TYPE] [--vocab-meta | --test-vocab | --test-vocab-bpe PRE] "
                        "OUT.gguf (embd a "
                        "multiple of heads, heads of "
                        "kv-heads)\n");
        return 2;
    }
    /* the widest block among the types used: 256 for the K-quants */
    const uint32_t blk = t == MIX || t == MW_DTYPE_Q4_K || t == MW_DTYPE_Q5_K || t == MW_DTYPE_Q6_K ? 256
                       : t == MW_DTYPE_Q8_0 || t == MW_DTYPE_Q4_0 ? 32 : 1;
    if (s.embd % blk || s.ff % blk) {
        fprintf(stderr, "mw-gen-gguf: --embd %u and --ff %u must be multiples of %u for --dtype %s\n", s.embd,
                s.ff, blk, tname);
        return 2;
    }
    if ((g_prune_ratio > 0 || g_prune_24 || g_sparse) && /* issue #14, sparse */
        (!(g_prune_ratio > 0 || g_prune_24) || s.embd % 64 || s.ff % 64 ||
         mw_sparse_type(t == MIX ? MW_DTYPE_Q4_K : t, 0) == MW_DTYPE_COUNT)) {
        fprintf(stderr, "mw-gen-gguf: --sparse needs --prune; --prune needs --dtype f32, f16 or q8_0 and "
                        "--embd and --ff multiples of 64\n");
        return 2;
    }
    mw_err err;
    if (!write_model(&s, t, vocab_meta, bpe_pre, argv[optind], &err)) {
        fprintf(stderr, "mw-gen-gguf: %s\n", err.msg);
        return 1;
    }
    return 0;
}
