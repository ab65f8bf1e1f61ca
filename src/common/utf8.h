/*
 * utf8.h - well-formed UTF-8 (RFC 3629): no overlong forms, no surrogates,
 * nothing past U+10FFFF.
 */
#ifndef MW_COMMON_UTF8_H
#define MW_COMMON_UTF8_H

#include <stddef.h>
#include <stdint.h>

/*! mw_utf8_char_len() : the length (1..4) of the well-formed UTF-8
 *  character at s[0..n), or 0 when it is malformed or cut short. */
size_t mw_utf8_char_len(const unsigned char *s, size_t n);

/*! mw_utf8_repair() : s[0..n) with every malformed byte replaced by U+FFFD
 *  (what a JSON string or a terminal may hold). @return a NUL-terminated
 *  string to mw_free, *out_len its length; NULL when out of memory. */
char *mw_utf8_repair(const char *s, size_t n, size_t *out_len);

#endif /* MW_COMMON_UTF8_H */
