/* test_common.c - sizes, durations, formatting, the counting allocator,
 * errors and small-file helpers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "memwall.h"
#include "common/test_hooks.h"
#include "common/error.h"
#include "common/fileio.h"
#include "common/utf8.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void size_parse_accepts_units(void **state)
{
    (void)state;
    static const struct { const char *text; uint64_t bytes; } ok[] = {
        {"0", 0}, {"4096", 4096}, {"4096B", 4096},
        {"512M", 512ull << 20}, {"512MiB", 512ull << 20}, {"2G", 2ull << 30},
        {"1.5GiB", 3ull << 29}, {"1.5K", 1536}, {"100kB", 100000}, {"100KB", 100000},
        {"3MB", 3000000}, {"1T", 1ull << 40}, {"2TB", 2000000000000ull}, {"0.5G", 1ull << 29},
    };
    for (size_t i = 0; i < MW_ARRAY_LEN(ok); i++) {
        uint64_t v = 0;
        mw_err err;
        assert_int_equal(mw_size_parse(ok[i].text, &v, &err), MW_OK);
        assert_true(v == ok[i].bytes);
    }
}

static void size_parse_rejects_garbage(void **state)
{
    (void)state;
    static const char *const bad[] = {"", "M", "-1G", "+1G", " 1G", "1G ", "1 G", "1X",
                                      "1GiBB", "0x10", "1e3", "inf", "nan", "1..2G",
                                      "99999999999999999999T", "1.5.3"};
    for (size_t i = 0; i < MW_ARRAY_LEN(bad); i++) {
        uint64_t v = 7;
        mw_err err = {0};
        assert_int_equal(mw_size_parse(bad[i], &v, &err), MW_ERR_INVALID);
        assert_true(strlen(err.msg) > 0);
        assert_true(v == 7); /* untouched on error */
    }
    mw_err err;
    mw_size_parse("12Q", &(uint64_t){0}, &err);
    assert_non_null(strstr(err.msg, "unknown unit \"Q\""));
}

/* Sizes stop at 1 EiB (2^60 bytes) and durations at a week, so that no
 * option's value overflows what it is added to, multiplied by or turned
 * into (a timespec): issue 10. */
static void parsers_are_bounded(void **state)
{
    (void)state;
    uint64_t v = 7;
    mw_err err;
    assert_int_equal(mw_size_parse("1048576T", &v, &err), MW_OK);
    assert_true(v == 1ull << 60);
    assert_int_equal(mw_size_parse("1152921504606847232", &v, &err), MW_ERR_INVALID);
    assert_non_null(strstr(err.msg, "more than 1 EiB"));
    assert_int_equal(mw_size_parse("1048577T", &v, &err), MW_ERR_INVALID);
    assert_int_equal(mw_size_parse("15000000000000000000", &v, &err), MW_ERR_INVALID);
    assert_true(v == 1ull << 60); /* untouched on error */
    double s = -1;
    assert_int_equal(mw_duration_parse("168h", &s, &err), MW_OK);
    assert_float_equal(s, 604800, 1e-9);
    assert_int_equal(mw_duration_parse("169h", &s, &err), MW_ERR_INVALID);
    assert_non_null(strstr(err.msg, "more than a week"));
    assert_int_equal(mw_duration_parse("9223372036854775807", &s, &err), MW_ERR_INVALID);
    assert_int_equal(mw_duration_parse("99999999999999999999999999999999999999999ms", &s, &err), MW_ERR_INVALID);
    assert_float_equal(s, 604800, 1e-9); /* untouched on error */
}

static void duration_parse(void **state)
{
    (void)state;
    double s;
    assert_int_equal(mw_duration_parse("100ms", &s, NULL), MW_OK);
    assert_float_equal(s, 0.1, 1e-12);
    assert_int_equal(mw_duration_parse("1ms", &s, NULL), MW_OK);
    assert_float_equal(s, 0.001, 1e-12);
    assert_int_equal(mw_duration_parse("250us", &s, NULL), MW_OK);
    assert_float_equal(s, 250e-6, 1e-12);
    assert_int_equal(mw_duration_parse("2", &s, NULL), MW_OK);
    assert_float_equal(s, 2.0, 1e-12);
    assert_int_equal(mw_duration_parse("1.5s", &s, NULL), MW_OK);
    assert_float_equal(s, 1.5, 1e-12);
    assert_int_equal(mw_duration_parse("2m", &s, NULL), MW_OK);
    assert_float_equal(s, 120, 1e-12);
    assert_int_equal(mw_duration_parse("10 ms", &s, NULL), MW_ERR_INVALID);
    assert_int_equal(mw_duration_parse("ms", &s, NULL), MW_ERR_INVALID);
    assert_int_equal(mw_duration_parse("-1s", &s, NULL), MW_ERR_INVALID);
    assert_int_equal(mw_duration_parse("5d", &s, NULL), MW_ERR_INVALID);
}

static void size_format_iec(void **state)
{
    (void)state;
    char buf[32];
    assert_string_equal(mw_size_format(0, buf, sizeof buf), "0 B");
    assert_string_equal(mw_size_format(1023, buf, sizeof buf), "1023 B");
    assert_string_equal(mw_size_format(1024, buf, sizeof buf), "1.00 KiB");
    assert_string_equal(mw_size_format(3ull << 29, buf, sizeof buf), "1.50 GiB");
    assert_string_equal(mw_size_format(512ull << 20, buf, sizeof buf), "512 MiB");
    assert_string_equal(mw_size_format(20ull << 20, buf, sizeof buf), "20.0 MiB");
    assert_string_equal(mw_size_format((1ull << 30) - 1, buf, sizeof buf), "1.00 GiB");
    assert_string_equal(mw_size_format(MW_UNKNOWN, buf, sizeof buf), "-");
}

static void count_format_si(void **state)
{
    (void)state;
    char buf[32];
    assert_string_equal(mw_count_format(812, buf, sizeof buf), "812");
    assert_string_equal(mw_count_format(12864, buf, sizeof buf), "12.9 K");
    assert_string_equal(mw_count_format(124439808, buf, sizeof buf), "124 M");
    assert_string_equal(mw_count_format(8030261248ull, buf, sizeof buf), "8.03 B");
    assert_string_equal(mw_count_format(999999, buf, sizeof buf), "1.00 M");
}

static void alloc_counts_per_tag(void **state)
{
    (void)state;
    mw_mem_stats a, b, c;
    mw_mem_get_stats(&a);
    void *p = mw_malloc(1000, MW_MEM_WEIGHTS);
    void *q = mw_calloc(10, 100, MW_MEM_KV_CACHE);
    assert_non_null(p);
    assert_non_null(q);
    mw_mem_get_stats(&b);
    assert_true(b.current_bytes[MW_MEM_WEIGHTS] - a.current_bytes[MW_MEM_WEIGHTS] == 1000);
    assert_true(b.current_bytes[MW_MEM_KV_CACHE] - a.current_bytes[MW_MEM_KV_CACHE] == 1000);
    assert_true(b.total_current_bytes - a.total_current_bytes == 2000);
    assert_true(b.total_peak_bytes >= b.total_current_bytes);
    p = mw_realloc(p, 5000, MW_MEM_WEIGHTS);
    assert_non_null(p);
    mw_mem_get_stats(&c);
    assert_true(c.current_bytes[MW_MEM_WEIGHTS] - a.current_bytes[MW_MEM_WEIGHTS] == 5000);
    mw_free(p);
    mw_free(q);
    mw_free(NULL);
    mw_mem_get_stats(&c);
    assert_true(c.total_current_bytes == a.total_current_bytes);
    assert_true(c.peak_bytes[MW_MEM_WEIGHTS] >= a.current_bytes[MW_MEM_WEIGHTS] + 5000);
    assert_string_equal(mw_mem_tag_name(MW_MEM_KV_CACHE), "kv_cache");
}

static void alloc_overflow_and_injection(void **state)
{
    (void)state;
    assert_null(mw_calloc(SIZE_MAX / 2, 4, MW_MEM_OTHER));
    assert_null(mw_malloc(SIZE_MAX - 4, MW_MEM_OTHER));
    mw_mem_stats a, b;
    mw_mem_get_stats(&a);
    mw_mem_fail_after(2);
    void *p1 = mw_malloc(16, MW_MEM_OTHER);
    void *p2 = mw_malloc(16, MW_MEM_OTHER); /* the 2nd fails */
    void *p3 = mw_malloc(16, MW_MEM_OTHER); /* and only that one */
    assert_non_null(p1);
    assert_null(p2);
    assert_non_null(p3);
    mw_mem_get_stats(&b);
    assert_true(b.failures == a.failures + 1);
    mw_free(p1);
    mw_free(p3);
    /* a failed realloc keeps the old block */
    char *s = mw_strdup("keep", MW_MEM_OTHER);
    mw_mem_fail_after(1);
    assert_null(mw_realloc(s, 1 << 20, MW_MEM_OTHER));
    assert_string_equal(s, "keep");
    mw_free(s);
}

static void errors_format(void **state)
{
    (void)state;
    mw_err err;
    assert_int_equal(mw_err_set(&err, MW_ERR_INVALID, "bad %s at %d", "thing", 7), MW_ERR_INVALID);
    assert_string_equal(err.msg, "bad thing at 7");
    assert_int_equal(err.status, MW_ERR_INVALID);
    assert_int_equal(mw_err_set(NULL, MW_ERR_IO, "x"), MW_ERR_IO);
    mw_err_errno(&err, MW_ERR_NOT_FOUND, 2, "cannot open %s", "/x");
    assert_string_equal(err.msg, "cannot open /x: No such file or directory");
    assert_string_equal(mw_status_name(MW_ERR_PERMISSION), "permission");
    assert_string_equal(mw_status_name((mw_status)999), "unknown status");
    assert_string_equal(mw_version(), MW_VERSION_STRING);
}

static void fileio_fields(void **state)
{
    (void)state;
    const char *text = "oom_kill_disable 0\nunder_oom 0\noom_kill 3\nVmHWM:\t  1024 kB\n";
    uint64_t v = 0;
    assert_true(mw_text_field_u64(text, "oom_kill", &v));
    assert_true(v == 3);
    assert_true(mw_text_field_u64(text, "VmHWM", &v));
    assert_true(v == 1024);
    assert_false(mw_text_field_u64(text, "oom", &v));
    assert_false(mw_text_field_u64(text, "VmRSS", &v));

    char path[] = "/tmp/mw-test-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(mw_write_text(path, "12345\n", 0, NULL), MW_OK);
    assert_int_equal(mw_read_u64(path, &v, NULL), MW_OK);
    assert_true(v == 12345);
    assert_int_equal(mw_write_text(path, "max\n", 0, NULL), MW_OK);
    assert_int_equal(mw_read_u64(path, &v, NULL), MW_OK);
    assert_true(v == MW_UNLIMITED);
    assert_int_equal(mw_write_text(path, "junk\n", 0, NULL), MW_OK);
    mw_err err;
    assert_int_equal(mw_read_u64(path, &v, &err), MW_ERR_INVALID);
    assert_non_null(strstr(err.msg, path));
    unlink(path);
    assert_int_equal(mw_read_u64(path, &v, &err), MW_ERR_NOT_FOUND);
    assert_non_null(strstr(err.msg, path));
}

/* Well-formed UTF-8 by RFC 3629's table: the boundaries of each range, and
 * what is refused (overlong, surrogates, past U+10FFFF, cut short). */
static void utf8_lengths_and_repair(void **state)
{
    (void)state;
    static const struct { const char *s; size_t n, want; } cases[] = {
        {"A", 1, 1}, {"\x7F", 1, 1}, {"\xC2\x80", 2, 2}, {"\xDF\xBF", 2, 2},
        {"\xE0\xA0\x80", 3, 3}, {"\xED\x9F\xBF", 3, 3}, {"\xEF\xBF\xBD", 3, 3},
        {"\xF0\x90\x80\x80", 4, 4}, {"\xF4\x8F\xBF\xBF", 4, 4},
        {"\xC0\x80", 2, 0},          /* overlong NUL                 */
        {"\xC1\xBF", 2, 0},          /* overlong                     */
        {"\xE0\x9F\xBF", 3, 0},      /* overlong 3-byte              */
        {"\xED\xA0\x80", 3, 0},      /* a surrogate (U+D800)         */
        {"\xF0\x8F\xBF\xBF", 4, 0},  /* overlong 4-byte              */
        {"\xF4\x90\x80\x80", 4, 0},  /* past U+10FFFF                */
        {"\xF5\x80\x80\x80", 4, 0}, {"\x80", 1, 0}, {"\xFF", 1, 0},
        {"\xE2\x82", 2, 0},          /* cut short                    */
        {"\xE2\x28\xA1", 3, 0},      /* a bad continuation           */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_int_equal(mw_utf8_char_len((const unsigned char *)cases[i].s, cases[i].n), cases[i].want);
    assert_int_equal(mw_utf8_char_len((const unsigned char *)"", 0), 0);

    size_t len;
    char *r = mw_utf8_repair("caf\xE9 \xE2\x82\xAC\xE2\x82", 10, &len);
    assert_non_null(r);
    assert_string_equal(r, "caf\xEF\xBF\xBD \xE2\x82\xAC\xEF\xBF\xBD\xEF\xBF\xBD");
    assert_int_equal(len, strlen(r));
    mw_free(r);
    r = mw_utf8_repair("", 0, &len);
    assert_non_null(r);
    assert_int_equal(len, 0);
    mw_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(size_parse_accepts_units),
        cmocka_unit_test(size_parse_rejects_garbage),
        cmocka_unit_test(parsers_are_bounded),
        cmocka_unit_test(duration_parse),
        cmocka_unit_test(size_format_iec),
        cmocka_unit_test(count_format_si),
        cmocka_unit_test(alloc_counts_per_tag),
        cmocka_unit_test(alloc_overflow_and_injection),
        cmocka_unit_test(errors_format),
        cmocka_unit_test(fileio_fields),
        cmocka_unit_test(utf8_lengths_and_repair),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
