/*
 * pretok.c - BPE pre-tokenizers: llama.cpp's regexes for the "default",
 * "gpt-2", "llama3" and "qwen2" tokenizer.ggml.pre values, matched by hand
 * over code points (no regex library). Each regex is a list of
 * alternatives tried in order at the current position, the first that
 * matches giving the word; a code point no alternative matches is a word of
 * its own (llama.cpp keeps unmatched spans as words too). docs/TOKENIZER.md.
 */
#include "format/pretok.h"
#include "format/unicode_tables.h"

#include <string.h>

const char mw_pretok_names[] = "default (or none), gpt-2, llama3, llama-v3, llama-bpe, qwen2, deepseek-r1-qwen";

int mw_pretok_from_name(const char *name, size_t len, mw_pretok *out)
{
    static const struct { const char *name; mw_pretok p; } names[] = {
        {"default", MW_PRETOK_DEFAULT}, {"gpt-2", MW_PRETOK_GPT2},       {"llama3", MW_PRETOK_LLAMA3},
        {"llama-v3", MW_PRETOK_LLAMA3}, {"llama-bpe", MW_PRETOK_LLAMA3}, {"qwen2", MW_PRETOK_QWEN2},
        {"deepseek-r1-qwen", MW_PRETOK_QWEN2},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strlen(names[i].name) == len && !memcmp(names[i].name, name, len)) {
            *out = names[i].p;
            return 1;
        }
    return 0;
}

int mw_uc_class(uint32_t cp)
{
    if (cp < 128) return mw_uc_ascii[cp];
    if (cp > 0x10FFFF) return MW_UC_UNASSIGNED;
    uint32_t lo = 0, hi = mw_uc_n_ranges;   /* the last range starting at or before cp */
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;
        if ((mw_uc_ranges[mid] >> 3) <= cp) lo = mid;
        else hi = mid;
    }
    return (int)(mw_uc_ranges[lo] & 7);
}

int mw_uc_is_space(uint32_t cp)
{
    if (cp < 0x80) return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20;
    return cp == 0x85 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 ||
           cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

/* the code points' properties, with "past the chunk" as none of them */
typedef struct chunk {
    const uint32_t *cps;
    size_t end;
} chunk;

enum { P_L = 1, P_N = 2, P_S = 4, P_IN = 8 };

/* the code point's properties: letter, number, space, and in the chunk */
static int props(const chunk *c, size_t i)
{
    if (i >= c->end) return 0;
    uint32_t cp = c->cps[i];
    if (mw_uc_is_space(cp)) return P_S | P_IN;
    int k = mw_uc_class(cp);
    return (k == MW_UC_LETTER ? P_L : k == MW_UC_NUMBER ? P_N : 0) | P_IN;
}

static int is_l(const chunk *c, size_t i) { return props(c, i) & P_L; }
static int is_n(const chunk *c, size_t i) { return props(c, i) & P_N; }
static int is_s(const chunk *c, size_t i) { return props(c, i) & P_S; }
/* [^\s\p{L}\p{N}] */
static int is_other(const chunk *c, size_t i) { return props(c, i) == P_IN; }
static int is_rn(const chunk *c, size_t i) { return i < c->end && (c->cps[i] == '\r' || c->cps[i] == '\n'); }
static uint32_t lower(uint32_t cp) { return cp >= 'A' && cp <= 'Z' ? cp + 32 : cp; }

/* 's|'t|'re|'ve|'m|'ll|'d at i (any case when fold): its end, else 0 */
static size_t contraction(const chunk *c, size_t i, int fold)
{
    if (c->cps[i] != '\'' || i + 1 >= c->end) return 0;
    uint32_t a = fold ? lower(c->cps[i + 1]) : c->cps[i + 1];
    if (a == 's' || a == 't' || a == 'm' || a == 'd') return i + 2;
    if (i + 2 >= c->end) return 0;
    uint32_t b = fold ? lower(c->cps[i + 2]) : c->cps[i + 2];
    if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return i + 3;
    return 0;
}

/* \s+(?!\S) then \s+ (and, with rn, \s*[\r\n]+ first) at i: the end;
 * i + 1 when i is no whitespace (no alternative matched) */
static size_t spaces(const chunk *c, size_t i, int rn)
{
    size_t k = i, last_rn = 0;
    while (is_s(c, k)) {
        if (is_rn(c, k)) last_rn = k + 1;
        k++;
    }
    if (rn && last_rn) return last_rn;          /* \s*[\r\n]+ */
    if (k - i > 1 && k < c->end) return k - 1;  /* \s+(?!\S): leave the last before a non-space */
    if (k > i) return k;                        /* \s+ (gpt-2's \s+(?!\S) at the end) */
    return i + 1;
}

/* GPT-2: 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S) */
static size_t split_gpt2(const uint32_t *cps, size_t a, size_t b, size_t *out)
{
    chunk c = {cps, b};
    size_t n = 0;
    for (size_t i = a; i < b;) {
        size_t e = contraction(&c, i, 0);
        if (!e) {
            size_t j = i + (cps[i] == ' ');   /* the optional space */
            if (is_l(&c, j)) {
                for (e = j; is_l(&c, e); e++) {}
            } else if (is_n(&c, j)) {
                for (e = j; is_n(&c, e); e++) {}
            } else if (is_other(&c, j)) {
                for (e = j; is_other(&c, e); e++) {}
            } else {
                e = spaces(&c, i, 0);
            }
        }
        out[n++] = e;
        i = e;
    }
    return n;
}

/* Llama 3 (digits 3) and Qwen2 (digits 1):
 * (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,digits}|
 *  ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+ */
static size_t split_llama3(const uint32_t *cps, size_t a, size_t b, size_t *out, size_t digits)
{
    chunk c = {cps, b};
    size_t n = 0;
    for (size_t i = a; i < b;) {
        size_t e = contraction(&c, i, 1);
        if (e) {
            out[n++] = e;
            i = e;
            continue;
        }
        if (!is_rn(&c, i) && !is_n(&c, i) && (is_l(&c, i) || is_l(&c, i + 1))) {
            for (e = i + 1; is_l(&c, e); e++) {}
            out[n++] = e;
            i = e;
            continue;
        }
        if (is_n(&c, i)) {
            for (e = i; is_n(&c, e) && e - i < digits; e++) {}
            out[n++] = e;
            i = e;
            continue;
        }
        size_t j = i + (cps[i] == ' ');
        if (is_other(&c, j)) {
            for (e = j; is_other(&c, e); e++) {}
            while (is_rn(&c, e)) e++;
        } else {
            e = spaces(&c, i, 1);
        }
        out[n++] = e;
        i = e;
    }
    return n;
}

/* [\p{P}\$\+<=>\^~\|]+ : runs of these, and the spans between them */
static int is_punct_run(uint32_t cp)
{
    return mw_uc_class(cp) == MW_UC_PUNCT || (cp < 0x80 && strchr("$+<=>^~|", (int)cp) && cp);
}

static size_t split_runs(const uint32_t *cps, size_t a, size_t b, size_t *out, int which)
{
    size_t n = 0;
    for (size_t i = a; i < b;) {
        int in = which ? mw_uc_class(cps[i]) == MW_UC_NUMBER : is_punct_run(cps[i]);
        size_t e = i + 1;
        while (e < b && (which ? mw_uc_class(cps[e]) == MW_UC_NUMBER : is_punct_run(cps[e])) == in) e++;
        out[n++] = e;
        i = e;
    }
    return n;
}

/* [0-9][0-9][0-9] : each three ASCII digits from the left, and the spans
 * between */
static size_t split_digits3(const uint32_t *cps, size_t a, size_t b, size_t *out)
{
    size_t n = 0, gap = a;
#define D(k) (cps[k] >= '0' && cps[k] <= '9')
    for (size_t i = a; i < b;) {
        if (i + 3 <= b && D(i) && D(i + 1) && D(i + 2)) {
            if (i > gap) out[n++] = i;
            out[n++] = i + 3;
            i += 3;
            gap = i;
        } else {
            i++;
        }
    }
#undef D
    if (b > gap) out[n++] = b;
    return n;
}

size_t mw_pretok_split(mw_pretok p, const uint32_t *cps, size_t n, size_t *ends, size_t *scratch)
{
    if (n == 0) return 0;
    switch (p) {
    case MW_PRETOK_GPT2: return split_gpt2(cps, 0, n, ends);
    case MW_PRETOK_LLAMA3: return split_llama3(cps, 0, n, ends, 3);
    case MW_PRETOK_QWEN2: return split_llama3(cps, 0, n, ends, 1);
    case MW_PRETOK_DEFAULT: break;
    }
    /* the chain: each pass cuts every word of the one before */
    size_t m = split_runs(cps, 0, n, scratch, 0);
    size_t k = 0;
    for (size_t w = 0, a = 0; w < m; a = scratch[w++]) k += split_gpt2(cps, a, scratch[w], ends + k);
    m = 0;
    for (size_t w = 0, a = 0; w < k; a = ends[w++]) m += split_runs(cps, a, ends[w], scratch + m, 1);
    k = 0;
    for (size_t w = 0, a = 0; w < m; a = scratch[w++]) k += split_digits3(cps, a, scratch[w], ends + k);
    return k;
}
