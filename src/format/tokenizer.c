/*
 * tokenizer.c - the tokenizer of a GGUF vocabulary. First the text is split
 * on the special tokens written in it (user-defined always, control on
 * request), longest first, as llama.cpp's tokenizer_st_partition does; then
 * each piece between goes through the vocabulary's algorithm:
 *   "llama" (SentencePiece-style): the spaces become U+2581, a U+2581 goes
 *     in front, the piece is split into UTF-8 characters, and the adjacent
 *     pair whose joined text is a token of the highest score (the leftmost
 *     on a tie) is merged until no pair is a token; what is left and is no
 *     token falls back to byte tokens <0xNN>, else the unknown token.
 *   "gpt2" (byte-level BPE): the pre-tokenizer (pretok.c) cuts the piece
 *     into words; each word's bytes become GPT-2's byte characters, and the
 *     adjacent pair of lowest merge rank (tokenizer.ggml.merges) is merged
 *     until no pair has one.
 * docs/TOKENIZER.md.
 */
#include "format/tokenizer.h"
#include "format/gguf.h"
#include "format/pretok.h"
#include "format/model.h"
#include "common/error.h"
#include "common/utf8.h"

#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#define SPACE_MARK "\xe2\x96\x81"   /* U+2581, SentencePiece's space */
#define UNK_MARK "\xe2\x96\x85"     /* U+2585, what llama.cpp shows for <unk> */

/* a merge of tokenizer.ggml.merges: left + right (token ids) of rank rank
 * (its index; the first wins when given twice) give result (-1: no token) */
typedef struct merge {
    int32_t left, right, rank, result;
} merge;

struct mw_tokenizer {
    uint32_t n;
    char *blob;                  /* every piece, back to back */
    uint64_t *off;
    uint32_t *len;
    float *score;
    uint8_t *type;
    uint32_t *slots;             /* hash of pieces: id + 1, 0 empty */
    uint64_t mask;
    int32_t byte_tok[256];       /* <0xNN>'s id ("gpt2": the byte's character's), -1 when absent */
    int64_t bos, eos, unk;
    int add_bos, add_eos, add_space_prefix;
    int bpe;                     /* model "gpt2" */
    mw_pretok pre;
    int ignore_merges;           /* llama3: a word that is a token is that token */
    merge *merges;               /* hash of (left id, right id) -> rank, result */
    uint64_t merge_mask;
    char enc[256][2];            /* "gpt2": each byte's character as UTF-8 */
    uint8_t enc_len[256];
    int16_t dec[324];            /* "gpt2": the byte each code point below 324 stands for, -1 none */
    uint32_t *special;           /* control, user-defined and unknown ids, longest first */
    uint32_t n_special;
};

void mw_tok_spec_init(mw_tok_spec *s)
{
    memset(s, 0, sizeof *s);
    s->bos = s->eos = s->unk = -1;
    s->add_bos = s->add_eos = s->add_space_prefix = -1;
}

/* GPT-2's printable character for each byte: the printable Latin-1 bytes
 * stand for themselves, the other 68 for U+0100 onwards in byte order. */
static uint32_t byte_char(unsigned b)
{
    if ((b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF)) return b;
    uint32_t n = 0;
    for (unsigned c = 0; c < b; c++)
        if (!((c >= 0x21 && c <= 0x7E) || (c >= 0xA1 && c <= 0xAC) || (c >= 0xAE && c <= 0xFF))) n++;
    return 256 + n;
}

/* byte_char(b) as UTF-8 into out (2 bytes at most): its length */
static size_t byte_utf8(unsigned b, char *out)
{
    uint32_t c = byte_char(b);
    if (c < 0x80) {
        out[0] = (char)c;
        return 1;
    }
    out[0] = (char)(0xC0 | (c >> 6));
    out[1] = (char)(0x80 | (c & 0x3F));
    return 2;
}

static uint64_t hash_bytes(const char *p, size_t n)
{
    uint64_t h = 1469598103934665603ull;   /* FNV-1a */
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)p[i]) * 1099511628211ull;
    return h;
}

/* The id of the piece p[0..n), -1 when none (a piece given twice: the
 * later id, as llama.cpp's map keeps it). */
static int64_t lookup(const mw_tokenizer *t, const char *p, size_t n)
{
    for (uint64_t i = hash_bytes(p, n) & t->mask;; i = (i + 1) & t->mask) {
        uint32_t s = t->slots[i];
        if (!s) return -1;
        uint32_t id = s - 1;
        if (t->len[id] == n && !memcmp(t->blob + t->off[id], p, n)) return id;
    }
}

static void insert(mw_tokenizer *t, uint32_t id)
{
    const char *p = t->blob + t->off[id];
    size_t n = t->len[id];
    for (uint64_t i = hash_bytes(p, n) & t->mask;; i = (i + 1) & t->mask) {
        uint32_t s = t->slots[i];
        if (!s || (t->len[s - 1] == n && !memcmp(t->blob + t->off[s - 1], p, n))) {
            t->slots[i] = id + 1;
            return;
        }
    }
}

void mw_tokenizer_free(mw_tokenizer *t)
{
    if (!t) return;
    mw_free(t->blob);
    mw_free(t->off);
    mw_free(t->len);
    mw_free(t->score);
    mw_free(t->type);
    mw_free(t->slots);
    mw_free(t->merges);
    mw_free(t->special);
    mw_free(t);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

static mw_status check_id(int64_t *id, int64_t dflt, uint32_t n, const char *what, const char *where, mw_err *err)
{
    if (*id < 0) {
        *id = dflt < (int64_t)n ? dflt : -1;
        return MW_OK;
    }
    MW_RETURN_IF(*id >= (int64_t)n, err, MW_ERR_INVALID,
                 "%s: tokenizer.ggml.%s is %lld, past the vocabulary's %u tokens: the file is malformed", where,
                 what, (long long)*id, n);
    return MW_OK;
}

static uint64_t merge_hash(int32_t l, int32_t r)
{
    uint64_t h = ((uint64_t)(uint32_t)l << 32 | (uint32_t)r) * 0x9E3779B97F4A7C15ull;
    return h ^ (h >> 29);
}

/* the merge of tokens l and r, NULL when none */
static const merge *find_merge(const mw_tokenizer *t, int32_t l, int32_t r)
{
    for (uint64_t i = merge_hash(l, r) & t->merge_mask;; i = (i + 1) & t->merge_mask) {
        const merge *m = &t->merges[i];
        if (m->rank < 0) return NULL;
        if (m->left == l && m->right == r) return m;
    }
}

/* "gpt2": the byte characters, the merges (each "A B" of two tokens) */
static mw_status build_bpe(mw_tokenizer *t, const mw_tok_spec *s, const char *where, mw_err *err)
{
    char shown[64];
    for (unsigned b = 0; b < 256; b++) {
        t->enc_len[b] = (uint8_t)byte_utf8(b, t->enc[b]);
        t->byte_tok[b] = (int32_t)lookup(t, t->enc[b], t->enc_len[b]);
    }
    for (int c = 0; c < 324; c++) t->dec[c] = -1;
    for (unsigned b = 0; b < 256; b++) t->dec[byte_char(b)] = (int16_t)b;
    uint64_t cap = 16;
    while (cap < 2 * s->n_merges) cap <<= 1;
    t->merge_mask = cap - 1;
    t->merges = mw_malloc((size_t)cap * sizeof *t->merges, MW_MEM_OTHER);
    if (!t->merges) return mw_err_set(err, MW_ERR_NOMEM, "%s: out of memory for %llu merges", where,
                                      (unsigned long long)s->n_merges);
    for (uint64_t i = 0; i < cap; i++) t->merges[i].rank = -1;
    for (uint64_t i = 0; i < s->n_merges; i++) {
        const char *p = s->merges[i].ptr;
        size_t len = (size_t)s->merges[i].len;
        /* llama.cpp cuts at the first space after the first byte */
        const char *sp = len > 1 ? memchr(p + 1, ' ', len - 1) : NULL;
        MW_RETURN_IF(!sp, err, MW_ERR_INVALID,
                     "%s: tokenizer.ggml.merges[%llu] \"%s\" is not two tokens separated by a space: the file "
                     "is malformed", where, (unsigned long long)i,
                     mw_shown(p, len < 48 ? len : 48, shown, sizeof shown));
        size_t nl = (size_t)(sp - p);
        int64_t l = lookup(t, p, nl), r = lookup(t, sp + 1, len - nl - 1);
        MW_RETURN_IF(l < 0 || r < 0, err, MW_ERR_INVALID,
                     "%s: tokenizer.ggml.merges[%llu] \"%s\": its %s part is no token of the vocabulary: the "
                     "file is malformed", where, (unsigned long long)i,
                     mw_shown(p, len < 48 ? len : 48, shown, sizeof shown), l < 0 ? "first" : "second");
        MW_RETURN_IF(i > INT32_MAX, err, MW_ERR_INVALID, "%s: too many merges", where);
        uint64_t h = merge_hash((int32_t)l, (int32_t)r) & t->merge_mask;
        while (t->merges[h].rank >= 0 && !(t->merges[h].left == l && t->merges[h].right == r))
            h = (h + 1) & t->merge_mask;
        if (t->merges[h].rank >= 0) continue;   /* given twice: the first rank */
        /* the joined piece (a token, or -1: llama.cpp merges it all the same) */
        char *joined = mw_malloc(len, MW_MEM_SCRATCH);
        if (!joined) return mw_err_set(err, MW_ERR_NOMEM, "%s: out of memory for the merges", where);
        memcpy(joined, p, nl);
        memcpy(joined + nl, sp + 1, len - nl - 1);
        int64_t res = lookup(t, joined, len - 1);
        mw_free(joined);
        t->merges[h] = (merge){(int32_t)l, (int32_t)r, (int32_t)i, (int32_t)res};
    }
    return MW_OK;
}

static int longest_first(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Whether token i splits the text as a special token: control,
 * user-defined or unknown, and well-formed UTF-8 - a piece that is not
 * could match inside a character of the (well-formed) text and cut it. */
static int splits_text(const mw_tokenizer *t, uint32_t i)
{
    if (t->len[i] == 0 || (t->type[i] != MW_TOK_CONTROL && t->type[i] != MW_TOK_USER_DEFINED &&
                           t->type[i] != MW_TOK_UNKNOWN))
        return 0;
    const unsigned char *p = (const unsigned char *)t->blob + t->off[i];
    for (size_t j = 0, k; j < t->len[i]; j += k)
        if (!(k = mw_utf8_char_len(p + j, t->len[i] - j))) return 0;
    return 1;
}

/* the special tokens (splits_text), longest first, the lower id first
 * among equals (llama.cpp's std::sort leaves that order unspecified) */
static mw_status build_special(mw_tokenizer *t, const char *where, mw_err *err)
{
    uint32_t k = 0;
    for (uint32_t i = 0; i < t->n; i++) k += splits_text(t, i);
    if (!k) return MW_OK;
    uint64_t *keys = mw_malloc(k * sizeof *keys, MW_MEM_SCRATCH);
    t->special = mw_malloc(k * sizeof *t->special, MW_MEM_OTHER);
    if (!keys || !t->special) {
        mw_free(keys);
        return mw_err_set(err, MW_ERR_NOMEM, "%s: out of memory for the special tokens", where);
    }
    k = 0;
    for (uint32_t i = 0; i < t->n; i++)
        if (splits_text(t, i)) keys[k++] = (uint64_t)(MW_TOK_MAX_PIECE - t->len[i]) << 32 | i;
    qsort(keys, k, sizeof *keys, longest_first);
    for (uint32_t i = 0; i < k; i++) t->special[i] = (uint32_t)keys[i];
    t->n_special = k;
    mw_free(keys);
    return MW_OK;
}

mw_status mw_tokenizer_build(const mw_tok_spec *s, const char *where, mw_tokenizer **out, mw_err *err)
{
    *out = NULL;
    char shown[64];
    MW_RETURN_IF(!s->model, err, MW_ERR_INVALID,
                 "%s: no tokenizer.ggml.model: the file has no tokenizer (memwall reads \"llama\", "
                 "SentencePiece-style, and \"gpt2\", byte-level BPE)", where);
    int bpe = s->model_len == 4 && !memcmp(s->model, "gpt2", 4);
    MW_RETURN_IF(!bpe && (s->model_len != 5 || memcmp(s->model, "llama", 5)), err, MW_ERR_UNSUPPORTED,
                 "%s: tokenizer.ggml.model \"%s\" is not supported: memwall reads \"llama\" "
                 "(SentencePiece-style) and \"gpt2\" (byte-level BPE)", where,
                 mw_shown(s->model, (size_t)(s->model_len < 64 ? s->model_len : 64), shown, sizeof shown));
    mw_pretok pre = MW_PRETOK_DEFAULT;
    if (bpe && s->pre)
        MW_RETURN_IF(!mw_pretok_from_name(s->pre, (size_t)s->pre_len, &pre), err, MW_ERR_UNSUPPORTED,
                     "%s: tokenizer.ggml.pre \"%s\" is not a pre-tokenizer memwall knows; it knows %s", where,
                     mw_shown(s->pre, (size_t)(s->pre_len < 64 ? s->pre_len : 64), shown, sizeof shown),
                     mw_pretok_names);
    MW_RETURN_IF(bpe && !s->merges, err, MW_ERR_INVALID,
                 "%s: no tokenizer.ggml.merges: a \"gpt2\" (byte-level BPE) vocabulary needs its merges, "
                 "an array of strings \"A B\"; the file is malformed", where);
    MW_RETURN_IF(!s->tokens || s->n_tokens == 0, err, MW_ERR_INVALID,
                 "%s: no tokenizer.ggml.tokens (or an empty list): the file has no vocabulary", where);
    MW_RETURN_IF(s->n_tokens > MW_TOK_MAX_VOCAB, err, MW_ERR_INVALID,
                 "%s: tokenizer.ggml.tokens holds %llu tokens, more than memwall's limit of %u", where,
                 (unsigned long long)s->n_tokens, MW_TOK_MAX_VOCAB);
    MW_RETURN_IF(s->scores && s->n_scores != s->n_tokens, err, MW_ERR_INVALID,
                 "%s: tokenizer.ggml.scores holds %llu scores for %llu tokens: the file is malformed", where,
                 (unsigned long long)s->n_scores, (unsigned long long)s->n_tokens);
    MW_RETURN_IF(s->types && s->n_types != s->n_tokens, err, MW_ERR_INVALID,
                 "%s: tokenizer.ggml.token_type holds %llu types for %llu tokens: the file is malformed", where,
                 (unsigned long long)s->n_types, (unsigned long long)s->n_tokens);
    uint32_t n = (uint32_t)s->n_tokens;
    uint64_t total = 0;
    for (uint32_t i = 0; i < n; i++) {
        MW_RETURN_IF(s->tokens[i].len > MW_TOK_MAX_PIECE, err, MW_ERR_INVALID,
                     "%s: token %u is %llu bytes long, more than memwall's limit of %u", where, i,
                     (unsigned long long)s->tokens[i].len, MW_TOK_MAX_PIECE);
        total += s->tokens[i].len;
        if (s->scores)
            MW_RETURN_IF(isnan(s->scores[i]), err, MW_ERR_INVALID,
                         "%s: token %u's score is not a number: the file is malformed", where, i);
        if (s->types)
            MW_RETURN_IF(s->types[i] < MW_TOK_UNDEFINED || s->types[i] > MW_TOK_BYTE, err, MW_ERR_INVALID,
                         "%s: token %u has type %d, not one of 0-6 (normal 1, unknown 2, control 3, "
                         "user-defined 4, unused 5, byte 6): the file is malformed", where, i, (int)s->types[i]);
    }

    mw_tokenizer *t = mw_calloc(1, sizeof *t, MW_MEM_OTHER);
    if (!t) return mw_err_set(err, MW_ERR_NOMEM, "%s: out of memory for the tokenizer", where);
    t->n = n;
    uint64_t cap = 16;
    while (cap < 2ull * n) cap <<= 1;
    t->mask = cap - 1;
    t->blob = mw_malloc(total ? (size_t)total : 1, MW_MEM_OTHER);
    t->off = mw_malloc(n * sizeof *t->off, MW_MEM_OTHER);
    t->len = mw_malloc(n * sizeof *t->len, MW_MEM_OTHER);
    t->score = mw_malloc(n * sizeof *t->score, MW_MEM_OTHER);
    t->type = mw_malloc(n, MW_MEM_OTHER);
    t->slots = mw_calloc((size_t)cap, sizeof *t->slots, MW_MEM_OTHER);
    if (!t->blob || !t->off || !t->len || !t->score || !t->type || !t->slots) {
        mw_tokenizer_free(t);
        return mw_err_set(err, MW_ERR_NOMEM, "%s: out of memory for a vocabulary of %u tokens", where, n);
    }
    for (int b = 0; b < 256; b++) t->byte_tok[b] = -1;
    uint64_t at = 0;
    mw_status st = MW_OK;
    for (uint32_t i = 0; i < n && st == MW_OK; i++) {
        t->off[i] = at;
        t->len[i] = (uint32_t)s->tokens[i].len;
        if (t->len[i]) memcpy(t->blob + at, s->tokens[i].ptr, t->len[i]);
        at += t->len[i];
        t->score[i] = s->scores ? s->scores[i] : 0.0f;
        t->type[i] = (uint8_t)(s->types ? s->types[i] : MW_TOK_NORMAL);
        insert(t, i);
        if (t->type[i] == MW_TOK_BYTE && !bpe) {
            const char *p = t->blob + t->off[i];
            int hi = t->len[i] == 6 ? hexval(p[3]) : -1, lo = t->len[i] == 6 ? hexval(p[4]) : -1;
            if (hi < 0 || lo < 0 || memcmp(p, "<0x", 3) || p[5] != '>') {
                st = mw_err_set(err, MW_ERR_INVALID,
                                "%s: token %u is a byte token (type 6) but its piece \"%s\" is not <0xNN>: "
                                "the file is malformed", where, i,
                                mw_shown(p, t->len[i] < 32 ? t->len[i] : 32, shown, sizeof shown));
                break;
            }
            if (t->byte_tok[hi * 16 + lo] < 0) t->byte_tok[hi * 16 + lo] = (int32_t)i;
        }
    }
    t->bos = s->bos;
    t->eos = s->eos;
    t->unk = s->unk;
    /* llama.cpp's defaults: <unk> <s> </s> at 0 1 2 for "llama", 11 for
     * both BOS and EOS (GPT-2's) and no unknown token for "gpt2" */
    if (st == MW_OK) st = check_id(&t->unk, bpe ? -1 : 0, n, "unknown_token_id", where, err);
    if (st == MW_OK) st = check_id(&t->bos, bpe ? 11 : 1, n, "bos_token_id", where, err);
    if (st == MW_OK) st = check_id(&t->eos, bpe ? 11 : 2, n, "eos_token_id", where, err);
    t->bpe = bpe;
    t->pre = pre;
    t->ignore_merges = bpe && pre == MW_PRETOK_LLAMA3;
    t->add_bos = s->add_bos < 0 ? (!bpe || pre == MW_PRETOK_LLAMA3) : !!s->add_bos;
    t->add_eos = s->add_eos < 0 ? 0 : !!s->add_eos;
    t->add_space_prefix = bpe ? 0 : s->add_space_prefix < 0 ? 1 : !!s->add_space_prefix;
    if (st == MW_OK && bpe) st = build_bpe(t, s, where, err);
    if (st == MW_OK) st = build_special(t, where, err);
    if (st != MW_OK) {
        mw_tokenizer_free(t);
        return st;
    }
    *out = t;
    return MW_OK;
}

uint32_t mw_tokenizer_vocab_size(const mw_tokenizer *t) { return t->n; }
int64_t mw_tokenizer_bos(const mw_tokenizer *t) { return t->bos; }
int64_t mw_tokenizer_eos(const mw_tokenizer *t) { return t->eos; }
int mw_tokenizer_adds_bos(const mw_tokenizer *t) { return t->add_bos; }
int mw_tokenizer_adds_eos(const mw_tokenizer *t) { return t->add_eos; }

/* ---- encoding ------------------------------------------------------------ */

/* The length of the well-formed UTF-8 character at s[i..len), 0 when
 * malformed (overlong forms, surrogates and code points past U+10FFFF too). */
static size_t utf8_char(const unsigned char *s, size_t i, size_t len)
{
    return mw_utf8_char_len(s + i, len - i);
}

typedef struct sym {
    size_t off, n;               /* n 0: merged into its left neighbour */
    int64_t prev, next;
} sym;

typedef struct bigram {
    double score;                /* "llama": the token's score; "gpt2": minus the merge's rank */
    int64_t left, right;
    size_t size;
    int64_t id;                  /* "gpt2": the merge's result */
} bigram;

typedef struct heap {
    bigram *a;
    size_t n, cap;
} heap;

/* the pair to merge first: the higher score, then the leftmost */
static int before(const bigram *x, const bigram *y)
{
    return x->score > y->score || (x->score == y->score && x->left < y->left);
}

/* Room for one more element in a growing array *a of n elements of size
 * bytes, *cap allocated: doubled when full, from first. 0: out of memory. */
static int room_for_one(void **a, size_t n, size_t *cap, size_t size, size_t first)
{
    if (n < *cap) return 1;
    size_t c = *cap ? *cap * 2 : first;
    if (c > SIZE_MAX / size) return 0;
    void *b = mw_realloc(*a, c * size, MW_MEM_SCRATCH);
    if (!b) return 0;
    *a = b;
    *cap = c;
    return 1;
}

static int heap_push(heap *h, bigram b)
{
    if (!room_for_one((void **)&h->a, h->n, &h->cap, sizeof *h->a, 64)) return 0;
    size_t i = h->n++;
    while (i > 0 && before(&b, &h->a[(i - 1) / 2])) {
        h->a[i] = h->a[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h->a[i] = b;
    return 1;
}

static bigram heap_pop(heap *h)
{
    bigram top = h->a[0], last = h->a[--h->n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= h->n) break;
        if (c + 1 < h->n && before(&h->a[c + 1], &h->a[c])) c++;
        if (!before(&h->a[c], &last)) break;
        h->a[i] = h->a[c];
        i = c;
    }
    if (h->n) h->a[i] = last;
    return top;
}

/* the ids, growing */
typedef struct idvec {
    uint32_t *a;
    size_t n, cap;
} idvec;

static int push(idvec *v, uint32_t id)
{
    if (!room_for_one((void **)&v->a, v->n, &v->cap, sizeof *v->a, 64)) return 0;
    v->a[v->n++] = id;
    return 1;
}

/* what one encoding needs, sized for the whole text once */
typedef struct work {
    char *norm;                  /* "llama": a piece, normalised; "gpt2": a word's characters */
    sym *syms;
    int64_t *sid;                /* "gpt2": each symbol's token, -1 none */
    uint32_t *cps;               /* "gpt2": a piece's code points */
    size_t *coff;                /* their byte offsets, one more at the end */
    size_t *ends, *scratch;      /* the words' ends */
    heap h;
    idvec out;
} work;

static int try_pair(const mw_tokenizer *t, const char *text, const sym *syms, int64_t left, int64_t right,
                    heap *h)
{
    if (left < 0 || right < 0) return 1;
    size_t size = syms[left].n + syms[right].n;
    int64_t id = lookup(t, text + syms[left].off, size);
    if (id < 0) return 1;
    return heap_push(h, (bigram){t->score[id], left, right, size, id});
}

/* "llama": one piece of text (no special token in it) */
static mw_status spm_piece(const mw_tokenizer *t, const char *text, size_t len, int prefix, work *w, mw_err *err)
{
    char *norm = w->norm;
    sym *syms = w->syms;
    size_t nlen = 0;
    if (prefix) memcpy(norm, SPACE_MARK, 3), nlen = 3;
    for (size_t i = 0; i < len; i++) {
        if (text[i] == ' ') memcpy(norm + nlen, SPACE_MARK, 3), nlen += 3;
        else norm[nlen++] = text[i];
    }
    /* the characters, linked left to right */
    int64_t n_syms = 0;
    for (size_t i = 0; i < nlen;) {
        size_t k = utf8_char((const unsigned char *)norm, i, nlen);
        if (!k) k = 1;   /* checked already; never loop on a bad byte */
        syms[n_syms] = (sym){i, k, n_syms - 1, i + k < nlen ? n_syms + 1 : -1};
        n_syms++;
        i += k;
    }
    heap *h = &w->h;
    h->n = 0;
    for (int64_t i = 1; i < n_syms; i++)
        if (!try_pair(t, norm, syms, i - 1, i, h)) goto nomem;
    while (h->n) {
        bigram b = heap_pop(h);
        sym *l = &syms[b.left], *r = &syms[b.right];
        if (!l->n || !r->n || l->n + r->n != b.size) continue;   /* stale */
        l->n += r->n;
        r->n = 0;
        l->next = r->next;
        if (r->next >= 0) syms[r->next].prev = b.left;
        if (!try_pair(t, norm, syms, l->prev, b.left, h) || !try_pair(t, norm, syms, b.left, l->next, h))
            goto nomem;
    }
    for (int64_t i = n_syms ? 0 : -1; i >= 0; i = syms[i].next) {
        const sym *s = &syms[i];
        int64_t id = lookup(t, norm + s->off, s->n);
        if (id >= 0) {
            if (!push(&w->out, (uint32_t)id)) goto nomem;
            continue;
        }
        size_t j = 0;
        while (j < s->n && t->byte_tok[(unsigned char)norm[s->off + j]] >= 0) j++;
        if (j == s->n) {
            for (j = 0; j < s->n; j++)
                if (!push(&w->out, (uint32_t)t->byte_tok[(unsigned char)norm[s->off + j]])) goto nomem;
        } else if (t->unk >= 0) {
            if (!push(&w->out, (uint32_t)t->unk)) goto nomem;
        } else {
            return mw_err_set(err, MW_ERR_INVALID,
                              "tokenize: the character at byte offset %zu of the normalised text is no token, "
                              "the vocabulary has no byte token <0x%02X> and no unknown token",
                              s->off, (unsigned char)norm[s->off + j]);
        }
    }
    return MW_OK;
nomem:
    return mw_err_set(err, MW_ERR_NOMEM, "tokenize: out of memory for a text of %zu bytes", len);
}

static int try_merge(const mw_tokenizer *t, const sym *syms, const int64_t *sid, int64_t left, int64_t right,
                     heap *h)
{
    if (left < 0 || right < 0 || sid[left] < 0 || sid[right] < 0) return 1;
    const merge *m = find_merge(t, (int32_t)sid[left], (int32_t)sid[right]);
    if (!m) return 1;
    return heap_push(h, (bigram){-(double)m->rank, left, right, syms[left].n + syms[right].n, m->result});
}

/* "gpt2": one word, bytes w[0..m) */
static int bpe_word(const mw_tokenizer *t, const unsigned char *wb, size_t m, work *w)
{
    if (t->ignore_merges) {
        size_t k = 0;
        for (size_t i = 0; i < m; i++) {
            memcpy(w->norm + k, t->enc[wb[i]], t->enc_len[wb[i]]);
            k += t->enc_len[wb[i]];
        }
        int64_t id = lookup(t, w->norm, k);
        if (id >= 0) return push(&w->out, (uint32_t)id);
    }
    sym *syms = w->syms;
    int64_t *sid = w->sid;
    for (size_t i = 0; i < m; i++) {
        syms[i] = (sym){i, 1, (int64_t)i - 1, i + 1 < m ? (int64_t)i + 1 : -1};
        sid[i] = t->byte_tok[wb[i]];
    }
    heap *h = &w->h;
    h->n = 0;
    for (size_t i = 1; i < m; i++)
        if (!try_merge(t, syms, sid, (int64_t)i - 1, (int64_t)i, h)) return 0;
    while (h->n) {
        bigram b = heap_pop(h);
        sym *l = &syms[b.left], *r = &syms[b.right];
        if (!l->n || !r->n || l->n + r->n != b.size) continue;   /* stale */
        l->n += r->n;
        r->n = 0;
        sid[b.left] = b.id;
        l->next = r->next;
        if (r->next >= 0) syms[r->next].prev = b.left;
        if (!try_merge(t, syms, sid, l->prev, b.left, h) || !try_merge(t, syms, sid, b.left, l->next, h))
            return 0;
    }
    for (int64_t i = m ? 0 : -1; i >= 0; i = syms[i].next) {
        if (sid[i] >= 0) {
            if (!push(&w->out, (uint32_t)sid[i])) return 0;
            continue;
        }
        /* no token: llama.cpp looks each byte of the symbol's characters up
         * as a one-byte token (only the ASCII ones can be) */
        for (size_t j = 0; j < syms[i].n; j++) {
            unsigned b = wb[syms[i].off + j];
            for (size_t e = 0; e < t->enc_len[b]; e++) {
                int64_t id = lookup(t, &t->enc[b][e], 1);
                if (id >= 0 && !push(&w->out, (uint32_t)id)) return 0;
            }
        }
    }
    return 1;
}

/* "gpt2": one piece of text (no special token in it) */
static mw_status bpe_piece(const mw_tokenizer *t, const char *text, size_t len, work *w, mw_err *err)
{
    const unsigned char *u = (const unsigned char *)text;
    size_t n = 0;
    for (size_t i = 0; i < len;) {
        size_t k = utf8_char(u, i, len);   /* checked already (the pieces */
        if (!k) k = 1;                     /* cut at characters): never loop */
        uint32_t c = k == 1 ? u[i] : k == 2 ? (u[i] & 0x1Fu) << 6 | (u[i + 1] & 0x3Fu)
                   : k == 3 ? (u[i] & 0x0Fu) << 12 | (u[i + 1] & 0x3Fu) << 6 | (u[i + 2] & 0x3Fu)
                   : (u[i] & 0x07u) << 18 | (u[i + 1] & 0x3Fu) << 12 | (u[i + 2] & 0x3Fu) << 6 | (u[i + 3] & 0x3Fu);
        w->coff[n] = i;
        w->cps[n++] = c;
        i += k;
    }
    w->coff[n] = len;
    size_t words = mw_pretok_split(t->pre, w->cps, n, w->ends, w->scratch);
    for (size_t k = 0, a = 0; k < words; a = w->ends[k++]) {
        size_t from = w->coff[a], to = w->coff[w->ends[k]];
        if (!bpe_word(t, u + from, to - from, w))
            return mw_err_set(err, MW_ERR_NOMEM, "tokenize: out of memory for a text of %zu bytes", len);
    }
    return MW_OK;
}

/* a piece of the text: raw text (id -1) or a special token */
typedef struct frag {
    size_t off, len;
    int64_t id;
} frag;

typedef struct fragvec {
    frag *a;
    size_t n, cap;
} fragvec;

static int frag_push(fragvec *v, frag f)
{
    if (!room_for_one((void **)&v->a, v->n, &v->cap, sizeof *v->a, 16)) return 0;
    v->a[v->n++] = f;
    return 1;
}

/* the first occurrence of p[0..m) in s[0..n), or NULL */
static const char *find(const char *s, size_t n, const char *p, size_t m)
{
    while (n >= m) {
        const char *c = memchr(s, p[0], n - m + 1);
        if (!c) return NULL;
        if (!memcmp(c, p, m)) return c;
        n -= (size_t)(c - s) + 1;
        s = c + 1;
    }
    return NULL;
}

/* llama.cpp's tokenizer_st_partition: for each special token, longest
 * first, every raw fragment is cut at its occurrences (left to right, not
 * overlapping). Control and unknown tokens only when special. */
static int partition(const mw_tokenizer *t, const char *text, size_t len, int special, fragvec *fv, fragvec *tmp)
{
    fv->n = 0;
    if (!len) return 1;
    if (!frag_push(fv, (frag){0, len, -1})) return 0;
    for (uint32_t k = 0; k < t->n_special; k++) {
        uint32_t id = t->special[k];
        if (!special && t->type[id] != MW_TOK_USER_DEFINED) continue;
        const char *p = t->blob + t->off[id];
        size_t m = t->len[id];
        int hit = 0;
        for (size_t f = 0; f < fv->n && !hit; f++)
            hit = fv->a[f].id < 0 && find(text + fv->a[f].off, fv->a[f].len, p, m) != NULL;
        if (!hit) continue;
        tmp->n = 0;
        for (size_t f = 0; f < fv->n; f++) {
            frag g = fv->a[f];
            if (g.id >= 0) {
                if (!frag_push(tmp, g)) return 0;
                continue;
            }
            size_t at = g.off, end = g.off + g.len;
            for (const char *c; (c = find(text + at, end - at, p, m)) != NULL;) {
                size_t pos = (size_t)(c - text);
                if (pos > at && !frag_push(tmp, (frag){at, pos - at, -1})) return 0;
                if (!frag_push(tmp, (frag){pos, m, id})) return 0;
                at = pos + m;
            }
            if (end > at && !frag_push(tmp, (frag){at, end - at, -1})) return 0;
        }
        fragvec x = *fv;
        *fv = *tmp;
        *tmp = x;
    }
    return 1;
}

mw_status mw_tokenizer_encode(const mw_tokenizer *t, const char *text, size_t len, unsigned flags, uint32_t **ids,
                              size_t *n_ids, mw_err *err)
{
    *ids = NULL;
    *n_ids = 0;
    MW_RETURN_IF(!text && len, err, MW_ERR_INVALID, "tokenize: no text");
    MW_RETURN_IF(len > MW_TOK_MAX_TEXT, err, MW_ERR_INVALID,
                 "tokenize: the text is %zu bytes, more than the limit of %u", len, MW_TOK_MAX_TEXT);
    MW_RETURN_IF(flags & ~(MW_TOK_ADD_BOS | MW_TOK_SPECIAL | MW_TOK_ADD_EOS), err, MW_ERR_INVALID,
                 "tokenize: unknown flags 0x%x (MW_TOK_ADD_BOS, MW_TOK_SPECIAL, MW_TOK_ADD_EOS)", flags);
    const unsigned char *u = (const unsigned char *)text;
    size_t spaces = 0;
    for (size_t i = 0; i < len;) {
        size_t k = utf8_char(u, i, len);
        MW_RETURN_IF(!k, err, MW_ERR_INVALID,
                     "tokenize: the text is not valid UTF-8 at byte offset %zu (byte 0x%02X)", i, u[i]);
        if (u[i] == ' ') spaces++;
        i += k;
    }
    work w = {0};
    fragvec fv = {0}, tmp = {0};
    mw_status st = MW_OK;
    /* "llama": a piece normalised is at most 3 + len + 2 * spaces bytes;
     * "gpt2": a word's characters at most 2 * len */
    size_t cap = t->bpe ? 2 * len + 1 : len + 2 * spaces + 4, n_syms = t->bpe ? len + 1 : cap;
    w.norm = mw_malloc(cap, MW_MEM_SCRATCH);
    w.syms = mw_malloc(n_syms * sizeof *w.syms, MW_MEM_SCRATCH);
    int ok = w.norm && w.syms;
    if (t->bpe) {
        w.sid = mw_malloc((len + 1) * sizeof *w.sid, MW_MEM_SCRATCH);
        w.cps = mw_malloc((len + 1) * sizeof *w.cps, MW_MEM_SCRATCH);
        w.coff = mw_malloc((len + 1) * sizeof *w.coff, MW_MEM_SCRATCH);
        w.ends = mw_malloc((len + 1) * sizeof *w.ends, MW_MEM_SCRATCH);
        w.scratch = mw_malloc((len + 1) * sizeof *w.scratch, MW_MEM_SCRATCH);
        ok = ok && w.sid && w.cps && w.coff && w.ends && w.scratch;
    }
    ok = ok && partition(t, text, len, !!(flags & MW_TOK_SPECIAL), &fv, &tmp);
    if (ok && (flags & MW_TOK_ADD_BOS) && t->bos >= 0) ok = push(&w.out, (uint32_t)t->bos);
    if (!ok) {
        st = mw_err_set(err, MW_ERR_NOMEM, "tokenize: out of memory for a text of %zu bytes", len);
        goto done;
    }
    int prev_special = 1;   /* "llama": a space in front of the text and after each special token */
    for (size_t f = 0; f < fv.n && st == MW_OK; f++) {
        const frag *g = &fv.a[f];
        if (g->id >= 0) {
            if (!push(&w.out, (uint32_t)g->id))
                st = mw_err_set(err, MW_ERR_NOMEM, "tokenize: out of memory for a text of %zu bytes", len);
            prev_special = 1;
            continue;
        }
        st = t->bpe ? bpe_piece(t, text + g->off, g->len, &w, err)
                    : spm_piece(t, text + g->off, g->len, t->add_space_prefix && prev_special, &w, err);
        prev_special = 0;
    }
    if (st == MW_OK && (flags & MW_TOK_ADD_EOS) && t->eos >= 0 && !push(&w.out, (uint32_t)t->eos))
        st = mw_err_set(err, MW_ERR_NOMEM, "tokenize: out of memory for a text of %zu bytes", len);
    if (st == MW_OK && w.out.n) {
        *ids = w.out.a;
        *n_ids = w.out.n;
        w.out.a = NULL;
    }
done:
    mw_free(w.out.a);
    mw_free(w.h.a);
    mw_free(w.norm);
    mw_free(w.syms);
    mw_free(w.sid);
    mw_free(w.cps);
    mw_free(w.coff);
    mw_free(w.ends);
    mw_free(w.scratch);
    mw_free(fv.a);
    mw_free(tmp.a);
    return st;
}

/* ---- decoding ------------------------------------------------------------ */

mw_status mw_tokenizer_decode(const mw_tokenizer *t, const uint32_t *ids, size_t n_ids, char **text, size_t *len,
                              mw_err *err)
{
    *text = NULL;
    *len = 0;
    MW_RETURN_IF(!ids && n_ids, err, MW_ERR_INVALID, "detokenize: no ids");
    size_t cap = 1;
    for (size_t i = 0; i < n_ids; i++) {
        MW_RETURN_IF(ids[i] >= t->n, err, MW_ERR_INVALID,
                     "detokenize: id %u (at position %zu) is past the vocabulary's %u tokens", ids[i], i, t->n);
        size_t k = t->len[ids[i]] > 3 ? t->len[ids[i]] : 3;
        MW_RETURN_IF(cap > SIZE_MAX - k, err, MW_ERR_INVALID, "detokenize: too many ids");
        cap += k;
    }
    char *s = mw_malloc(cap, MW_MEM_SCRATCH);
    if (!s) return mw_err_set(err, MW_ERR_NOMEM, "detokenize: out of memory for %zu ids", n_ids);
    size_t m = 0;
    for (size_t i = 0; i < n_ids; i++) {
        uint32_t id = ids[i];
        const char *p = t->blob + t->off[id];
        size_t n = t->len[id];
        switch (t->type[id]) {
        case MW_TOK_CONTROL: case MW_TOK_UNUSED:
            break;
        case MW_TOK_UNKNOWN:
            memcpy(s + m, UNK_MARK, 3), m += 3;
            break;
        case MW_TOK_BYTE:
            if (t->bpe && (n != 6 || hexval(p[3]) < 0 || hexval(p[4]) < 0)) {   /* not checked at build */
                memcpy(s + m, p, n), m += n;
                break;
            }
            s[m++] = (char)(hexval(p[3]) * 16 + hexval(p[4]));
            break;
        case MW_TOK_USER_DEFINED:   /* as written, like llama.cpp */
            memcpy(s + m, p, n), m += n;
            break;
        default:
            if (t->bpe) {
                /* each character back to the byte it stands for; one that
                 * stands for none (not from GPT-2's mapping) as it is */
                const unsigned char *q = (const unsigned char *)p;
                for (size_t j = 0; j < n;) {
                    size_t k = utf8_char(q, j, n);
                    uint32_t c = k == 1 ? q[j] : k == 2 ? (q[j] & 0x1Fu) << 6 | (q[j + 1] & 0x3Fu) : 0xFFFFFFFFu;
                    if (!k) k = 1;
                    if (c < 324 && t->dec[c] >= 0) s[m++] = (char)t->dec[c];
                    else memcpy(s + m, p + j, k), m += k;
                    j += k;
                }
                break;
            }
            for (size_t j = 0; j < n;) {
                if (n - j >= 3 && !memcmp(p + j, SPACE_MARK, 3)) s[m++] = ' ', j += 3;
                else s[m++] = p[j++];
            }
        }
    }
    size_t start = t->add_space_prefix && m > 0 && s[0] == ' ';
    if (start) memmove(s, s + 1, --m);
    s[m] = '\0';
    *text = s;
    *len = m;
    return MW_OK;
}

/* ---- from a GGUF file ---------------------------------------------------- */

static mw_status key_id(const mw_gguf *g, const char *key, int64_t *out, const char *where, mw_err *err)
{
    uint64_t v;
    if (!mw_gguf_find(g, key)) return MW_OK;
    MW_RETURN_IF(!mw_gguf_get_u64(g, key, &v), err, MW_ERR_INVALID,
                 "%s: %s is not a non-negative integer: the file is malformed", where, key);
    *out = v > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)v;
    return MW_OK;
}

static mw_status key_flag(const mw_gguf *g, const char *key, int *out, const char *where, mw_err *err)
{
    uint64_t v;
    if (!mw_gguf_find(g, key)) return MW_OK;
    MW_RETURN_IF(!mw_gguf_get_u64(g, key, &v), err, MW_ERR_INVALID,
                 "%s: %s is not a boolean: the file is malformed", where, key);
    *out = v != 0;
    return MW_OK;
}

/* The array under key with elements of type elem; *arr NULL when absent. */
static mw_status key_array(const mw_gguf *g, const char *key, mw_gguf_type elem, const mw_gguf_value **arr,
                           const char *where, mw_err *err)
{
    const mw_gguf_kv *kv = mw_gguf_find(g, key);
    *arr = NULL;
    if (!kv) return MW_OK;
    MW_RETURN_IF(kv->value.type != MW_GGUF_ARRAY || kv->value.v.arr.type != elem, err, MW_ERR_INVALID,
                 "%s: %s is not an array of %s: the file is malformed", where, key, mw_gguf_type_name(elem));
    MW_RETURN_IF(kv->value.v.arr.count > MW_TOK_MAX_VOCAB, err, MW_ERR_INVALID,
                 "%s: %s holds %llu entries, more than memwall's limit of %u tokens", where, key,
                 (unsigned long long)kv->value.v.arr.count, MW_TOK_MAX_VOCAB);
    *arr = &kv->value;
    return MW_OK;
}

mw_status mw_tokenizer_from_gguf(const mw_gguf *g, const char *where, mw_tokenizer **out, mw_err *err)
{
    *out = NULL;
    mw_tok_spec s;
    mw_tok_spec_init(&s);
    const mw_gguf_kv *model = mw_gguf_find(g, "tokenizer.ggml.model");
    if (model) {
        MW_RETURN_IF(model->value.type != MW_GGUF_STRING, err, MW_ERR_INVALID,
                     "%s: tokenizer.ggml.model is not a string: the file is malformed", where);
        s.model = model->value.v.str.ptr;
        s.model_len = model->value.v.str.len;
    }
    const mw_gguf_value *tokens, *scores, *types;
    MW_FORWARD(key_array(g, "tokenizer.ggml.tokens", MW_GGUF_STRING, &tokens, where, err));
    MW_FORWARD(key_array(g, "tokenizer.ggml.scores", MW_GGUF_F32, &scores, where, err));
    MW_FORWARD(key_array(g, "tokenizer.ggml.token_type", MW_GGUF_I32, &types, where, err));
    MW_FORWARD(key_id(g, "tokenizer.ggml.bos_token_id", &s.bos, where, err));
    MW_FORWARD(key_id(g, "tokenizer.ggml.eos_token_id", &s.eos, where, err));
    MW_FORWARD(key_id(g, "tokenizer.ggml.unknown_token_id", &s.unk, where, err));
    MW_FORWARD(key_flag(g, "tokenizer.ggml.add_bos_token", &s.add_bos, where, err));
    MW_FORWARD(key_flag(g, "tokenizer.ggml.add_space_prefix", &s.add_space_prefix, where, err));
    MW_FORWARD(key_flag(g, "tokenizer.ggml.add_eos_token", &s.add_eos, where, err));
    const mw_gguf_kv *pre = mw_gguf_find(g, "tokenizer.ggml.pre");
    if (pre) {
        MW_RETURN_IF(pre->value.type != MW_GGUF_STRING, err, MW_ERR_INVALID,
                     "%s: tokenizer.ggml.pre is not a string: the file is malformed", where);
        s.pre = pre->value.v.str.ptr;
        s.pre_len = pre->value.v.str.len;
    }
    const mw_gguf_value *merges;
    MW_FORWARD(key_array(g, "tokenizer.ggml.merges", MW_GGUF_STRING, &merges, where, err));
    /* the checks of the model and the counts come first, in build */
    uint64_t nt = tokens ? tokens->v.arr.count : 0, ns = scores ? scores->v.arr.count : 0,
             ny = types ? types->v.arr.count : 0;
    mw_tok_str *tk = mw_malloc((nt ? nt : 1) * sizeof *tk, MW_MEM_OTHER);
    float *sc = mw_malloc((ns ? ns : 1) * sizeof *sc, MW_MEM_OTHER);
    int32_t *ty = mw_malloc((ny ? ny : 1) * sizeof *ty, MW_MEM_OTHER);
    uint64_t nm = merges ? merges->v.arr.count : 0;
    mw_tok_str *mg = mw_malloc((nm ? nm : 1) * sizeof *mg, MW_MEM_OTHER);
    mw_status st = MW_OK;
    if (!tk || !sc || !ty || !mg) {
        st = mw_err_set(err, MW_ERR_NOMEM, "%s: out of memory reading the vocabulary", where);
    } else {
        mw_gguf_value e;
        const uint8_t *p = tokens ? tokens->v.arr.data : NULL;
        for (uint64_t i = 0; i < nt; i++) {
            p = mw_gguf_array_elem(MW_GGUF_STRING, p, &e);
            tk[i] = (mw_tok_str){e.v.str.ptr, e.v.str.len};
        }
        p = scores ? scores->v.arr.data : NULL;
        for (uint64_t i = 0; i < ns; i++) {
            p = mw_gguf_array_elem(MW_GGUF_F32, p, &e);
            sc[i] = (float)e.v.f;
        }
        p = types ? types->v.arr.data : NULL;
        for (uint64_t i = 0; i < ny; i++) {
            p = mw_gguf_array_elem(MW_GGUF_I32, p, &e);
            ty[i] = e.v.i < INT32_MIN ? INT32_MIN : e.v.i > INT32_MAX ? INT32_MAX : (int32_t)e.v.i;
        }
        p = merges ? merges->v.arr.data : NULL;
        for (uint64_t i = 0; i < nm; i++) {
            p = mw_gguf_array_elem(MW_GGUF_STRING, p, &e);
            mg[i] = (mw_tok_str){e.v.str.ptr, e.v.str.len};
        }
        s.merges = merges ? mg : NULL;
        s.n_merges = nm;
        s.tokens = tokens ? tk : NULL;
        s.n_tokens = nt;
        s.scores = scores ? sc : NULL;
        s.n_scores = ns;
        s.types = types ? ty : NULL;
        s.n_types = ny;
        st = mw_tokenizer_build(&s, where, out, err);
    }
    mw_free(tk);
    mw_free(sc);
    mw_free(ty);
    mw_free(mg);
    return st;
}

mw_status mw_tokenizer_open(const char *path, mw_tokenizer **out, mw_err *err)
{
    mw_gguf *g;
    *out = NULL;
    char builtin[4096];
    MW_FORWARD(mw_model_path_resolve(path, builtin, sizeof builtin, &path, err));
    MW_FORWARD(mw_gguf_open(path, &g, err));
    mw_status st = mw_tokenizer_from_gguf(g, path, out, err);
    mw_gguf_close(g);
    return st;
}

mw_status mw_tokenizer_from_model(const mw_model *m, mw_tokenizer **out, mw_err *err)
{
    *out = NULL;
    const mw_gguf *g = m ? mw_gguf_of_model(m) : NULL;
    MW_RETURN_IF(!g, err, MW_ERR_UNSUPPORTED,
                 "%s: a tokenizer is read from a GGUF file only (tokenizer.ggml.*); this model is not one",
                 m && m->path ? m->path : "model");
    return mw_tokenizer_from_gguf(g, m->path, out, err);
}
