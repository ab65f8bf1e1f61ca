/* utf8.c - well-formed UTF-8: the length of a character, and repair. */
#include "common/utf8.h"
#include "memwall.h"

#include <string.h>

size_t mw_utf8_char_len(const unsigned char *s, size_t n)
{
    if (n == 0) return 0;
    unsigned c = s[0];
    if (c < 0x80) return 1;
    size_t k;
    unsigned lo = 0x80, hi = 0xBF;   /* the second byte's range (Table 3-7) */
    if (c >= 0xC2 && c <= 0xDF) k = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        k = 3;
        if (c == 0xE0) lo = 0xA0;    /* no overlong forms                   */
        if (c == 0xED) hi = 0x9F;    /* no surrogates                       */
    } else if (c >= 0xF0 && c <= 0xF4) {
        k = 4;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F;    /* nothing past U+10FFFF               */
    } else
        return 0;
    if (n < k || s[1] < lo || s[1] > hi) return 0;
    for (size_t j = 2; j < k; j++)
        if (s[j] < 0x80 || s[j] > 0xBF) return 0;
    return k;
}

char *mw_utf8_repair(const char *s, size_t n, size_t *out_len)
{
    if (n > (SIZE_MAX - 1) / 3) return NULL;
    char *out = mw_malloc(n * 3 + 1, MW_MEM_OTHER);   /* a bad byte: 3 bytes */
    if (!out) return NULL;
    const unsigned char *u = (const unsigned char *)s;
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        size_t k = mw_utf8_char_len(u + i, n - i);
        if (k) {
            memcpy(out + o, u + i, k);
            o += k;
            i += k;
        } else {
            memcpy(out + o, "\xEF\xBF\xBD", 3);
            o += 3;
            i++;
        }
    }
    out[o] = '\0';
    if (out_len) *out_len = o;
    return out;
}
