/*
 * tokenizer.c - SentencePiece-style ("llama") tokenizer over a GGUF
 * vocabulary: the text's spaces become U+2581, a U+2581 goes in front, the
 * text is split into UTF-8 characters, and the adjacent pair whose joined
 * text is a token of the highest score (the leftmost on a tie) is merged
 * until no pair is a token; what is left and is no token falls back to byte
 * tokens <0xNN>, else the unknown token. docs/TOKENIZER.md.
 */
#include "format/tokenizer.h"
#include "format/gguf.h"
#include "common/error.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define SPACE_MARK "\xe2\x96\x81"   /* U+2581, SentencePiece's space */
#define UNK_MARK "\xe2\x96\x85"     /* U+2585, what llama.cpp shows for <unk> */

struct mw_tokenizer {
    uint32_t n;
    char *blob;                  /* every piece, back to back */
    uint64_t *off;
    uint32_t *len;
    float *score;
    uint8_t *type;
    uint32_t *slots;             /* hash of pieces: id + 1, 0 empty */
    uint64_t mask;
    int32_t byte_tok[256];       /* <0xNN>'s id, -1 when absent */
    int64_t bos, eos, unk;
    int add_bos, add_space_prefix;
};

void mw_tok_spec_init(mw_tok_spec *s)
{
    memset(s, 0, sizeof *s);
    s->bos = s->eos = s->unk = -1;
    s->add_bos = s->add_space_prefix = -1;
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

mw_status mw_tokenizer_build(const mw_tok_spec *s, const char *where, mw_tokenizer **out, mw_err *err)
{
    *out = NULL;
    char shown[64];
    MW_RETURN_IF(!s->model, err, MW_ERR_INVALID,
                 "%s: no tokenizer.ggml.model: the file has no tokenizer (memwall reads \"llama\", "
                 "SentencePiece-style)", where);
    MW_RETURN_IF(s->model_len == 4 && !memcmp(s->model, "gpt2", 4), err, MW_ERR_UNSUPPORTED,
                 "%s: tokenizer.ggml.model \"gpt2\" (byte-level BPE) is not supported yet: memwall reads "
                 "\"llama\" (SentencePiece-style) only; BPE with its pre-tokenizers is future work", where);
    MW_RETURN_IF(s->model_len != 5 || memcmp(s->model, "llama", 5), err, MW_ERR_UNSUPPORTED,
                 "%s: tokenizer.ggml.model \"%s\" is not supported: memwall reads \"llama\" "
                 "(SentencePiece-style) only", where,
                 mw_shown(s->model, (size_t)(s->model_len < 64 ? s->model_len : 64), shown, sizeof shown));
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
        if (t->type[i] == MW_TOK_BYTE) {
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
    if (st == MW_OK) st = check_id(&t->unk, 0, n, "unknown_token_id", where, err);
    if (st == MW_OK) st = check_id(&t->bos, 1, n, "bos_token_id", where, err);
    if (st == MW_OK) st = check_id(&t->eos, 2, n, "eos_token_id", where, err);
    t->add_bos = s->add_bos < 0 ? 1 : !!s->add_bos;
    t->add_space_prefix = s->add_space_prefix < 0 ? 1 : !!s->add_space_prefix;
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

/* ---- encoding ------------------------------------------------------------ */

/* The length of the well-formed UTF-8 character at s[i..len), 0 when
 * malformed (overlong forms, surrogates and code points past U+10FFFF too). */
static size_t utf8_char(const unsigned char *s, size_t i, size_t len)
{
    unsigned c = s[i];
    if (c < 0x80) return 1;
    size_t k;
    unsigned lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) k = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        k = 3;
        if (c == 0xE0) lo = 0xA0;
        if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        k = 4;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F;
    } else return 0;
    if (len - i < k) return 0;
    if (s[i + 1] < lo || s[i + 1] > hi) return 0;
    for (size_t j = 2; j < k; j++)
        if (s[i + j] < 0x80 || s[i + j] > 0xBF) return 0;
    return k;
}

typedef struct sym {
    size_t off, n;               /* n 0: merged into its left neighbour */
    int64_t prev, next;
} sym;

typedef struct bigram {
    float score;
    int64_t left, right;
    size_t size;
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

static int heap_push(heap *h, bigram b)
{
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 64;
        bigram *a = mw_realloc(h->a, cap * sizeof *a, MW_MEM_SCRATCH);
        if (!a) return 0;
        h->a = a;
        h->cap = cap;
    }
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

static int try_pair(const mw_tokenizer *t, const char *text, const sym *syms, int64_t left, int64_t right,
                    heap *h)
{
    if (left < 0 || right < 0) return 1;
    size_t size = syms[left].n + syms[right].n;
    int64_t id = lookup(t, text + syms[left].off, size);
    if (id < 0) return 1;
    return heap_push(h, (bigram){t->score[id], left, right, size});
}

mw_status mw_tokenizer_encode(const mw_tokenizer *t, const char *text, size_t len, int add_bos, uint32_t **ids,
                              size_t *n_ids, mw_err *err)
{
    *ids = NULL;
    *n_ids = 0;
    MW_RETURN_IF(!text && len, err, MW_ERR_INVALID, "tokenize: no text");
    MW_RETURN_IF(len > MW_TOK_MAX_TEXT, err, MW_ERR_INVALID,
                 "tokenize: the text is %zu bytes, more than the limit of %u", len, MW_TOK_MAX_TEXT);
    const unsigned char *u = (const unsigned char *)text;
    size_t spaces = 0;
    for (size_t i = 0; i < len;) {
        size_t k = utf8_char(u, i, len);
        MW_RETURN_IF(!k, err, MW_ERR_INVALID,
                     "tokenize: the text is not valid UTF-8 at byte offset %zu (byte 0x%02X)", i, u[i]);
        if (u[i] == ' ') spaces++;
        i += k;
    }
    int bos = add_bos && t->bos >= 0;
    int prefix = len > 0 && t->add_space_prefix;
    size_t nlen = len + 2 * spaces + (prefix ? 3 : 0);
    /* each id covers at least one byte of the normalised text */
    uint32_t *out = mw_malloc((nlen + 1) * sizeof *out, MW_MEM_SCRATCH);
    char *norm = mw_malloc(nlen + 1, MW_MEM_SCRATCH);
    sym *syms = mw_malloc((nlen + 1) * sizeof *syms, MW_MEM_SCRATCH);
    heap h = {0};
    mw_status st = MW_OK;
    if (!out || !norm || !syms) {
        st = mw_err_set(err, MW_ERR_NOMEM, "tokenize: out of memory for a text of %zu bytes", len);
        goto done;
    }
    size_t m = 0, n_out = 0;
    if (bos) out[n_out++] = (uint32_t)t->bos;
    if (prefix) memcpy(norm, SPACE_MARK, 3), m = 3;
    for (size_t i = 0; i < len; i++) {
        if (text[i] == ' ') memcpy(norm + m, SPACE_MARK, 3), m += 3;
        else norm[m++] = text[i];
    }
    /* the characters, linked left to right */
    int64_t n_syms = 0;
    for (size_t i = 0; i < nlen;) {
        size_t k = utf8_char((const unsigned char *)norm, i, nlen);
        syms[n_syms] = (sym){i, k, n_syms - 1, i + k < nlen ? n_syms + 1 : -1};
        n_syms++;
        i += k;
    }
    for (int64_t i = 1; i < n_syms; i++)
        if (!try_pair(t, norm, syms, i - 1, i, &h)) goto nomem;
    while (h.n) {
        bigram b = heap_pop(&h);
        sym *l = &syms[b.left], *r = &syms[b.right];
        if (!l->n || !r->n || l->n + r->n != b.size) continue;   /* stale */
        l->n += r->n;
        r->n = 0;
        l->next = r->next;
        if (r->next >= 0) syms[r->next].prev = b.left;
        if (!try_pair(t, norm, syms, l->prev, b.left, &h) || !try_pair(t, norm, syms, b.left, l->next, &h))
            goto nomem;
    }
    for (int64_t i = n_syms ? 0 : -1; i >= 0; i = syms[i].next) {
        const sym *s = &syms[i];
        int64_t id = lookup(t, norm + s->off, s->n);
        if (id >= 0) {
            out[n_out++] = (uint32_t)id;
            continue;
        }
        size_t j = 0;
        while (j < s->n && t->byte_tok[(unsigned char)norm[s->off + j]] >= 0) j++;
        if (j == s->n) {
            for (j = 0; j < s->n; j++) out[n_out++] = (uint32_t)t->byte_tok[(unsigned char)norm[s->off + j]];
        } else if (t->unk >= 0) {
            out[n_out++] = (uint32_t)t->unk;
        } else {
            st = mw_err_set(err, MW_ERR_INVALID,
                            "tokenize: the character at byte offset %zu of the normalised text is no token, the "
                            "vocabulary has no byte token <0x%02X> and no unknown token",
                            s->off, (unsigned char)norm[s->off + j]);
            goto done;
        }
    }
    if (n_out) {
        *ids = out;
        *n_ids = n_out;
        out = NULL;
    }
    goto done;
nomem:
    st = mw_err_set(err, MW_ERR_NOMEM, "tokenize: out of memory for a text of %zu bytes", len);
done:
    mw_free(h.a);
    mw_free(syms);
    mw_free(norm);
    mw_free(out);
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
            s[m++] = (char)(hexval(p[3]) * 16 + hexval(p[4]));
            break;
        default:
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
    /* the checks of the model and the counts come first, in build */
    uint64_t nt = tokens ? tokens->v.arr.count : 0, ns = scores ? scores->v.arr.count : 0,
             ny = types ? types->v.arr.count : 0;
    mw_tok_str *tk = mw_malloc((nt ? nt : 1) * sizeof *tk, MW_MEM_OTHER);
    float *sc = mw_malloc((ns ? ns : 1) * sizeof *sc, MW_MEM_OTHER);
    int32_t *ty = mw_malloc((ny ? ny : 1) * sizeof *ty, MW_MEM_OTHER);
    mw_status st = MW_OK;
    if (!tk || !sc || !ty) {
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
    return st;
}

mw_status mw_tokenizer_open(const char *path, mw_tokenizer **out, mw_err *err)
{
    mw_gguf *g;
    *out = NULL;
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
