/* test_stream.c - the engine's background reader of streamed layers
 * (engine/stream.c, issue #15): every layer's bytes in the order the
 * forward pass asks, wrap-around to the next step, the tensors placed F32
 * first, both kinds of reads (O_DIRECT falls back to buffered where the
 * temp folder's file system refuses it), a layer asked out of order, a read
 * failing (MEMWALL_FAIL_STREAM_READ), and a file truncated or replaced while
 * streaming: each an error from acquire, never a hang, the thread joined. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_tmpdir.h"

#include "memwall.h"
#include "common/error.h"
#include "engine/stream.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

MW_TEST_TMPDIR("stream")

#define NL 5          /* streamed layers */
#define FIRST 3       /* the first streamed layer's index */

/* byte i of the file: a function of i */
static uint8_t byte_at(uint64_t i) { return (uint8_t)((i * 2654435761u) >> 13); }

/* A file of `size` bytes and NL layers of 9 tensors laid out in it with
 * gaps (GGUF's alignment padding), sizes that cross 4096 boundaries and,
 * for layer 2, a span larger than the 8 MiB chunk. */
static char path[300];
static mw_stream_src src[NL];
static uint64_t slot_bytes;

static void make_file(void)
{
    snprintf(path, sizeof path, "%s/model.bin", tmpdir);
    uint64_t at = 1000; /* an unaligned start, like a GGUF header's end */
    slot_bytes = 0;
    for (int l = 0; l < NL; l++) {
        uint64_t sum = 0;
        for (int t = 0; t < MW_STREAM_TENSORS; t++) {
            uint64_t b = (t == 0 || t == 5) ? 64 * 4 : 5000 + 777 * (uint64_t)t + 13 * (uint64_t)l;
            if (l == 2 && t == 7) b = 9u << 20;
            src[l].offset[t] = at;
            src[l].bytes[t] = b;
            src[l].f32[t] = t == 0 || t == 5;
            at += b + 32; /* padding */
            sum += b;
        }
        if (sum > slot_bytes) slot_bytes = sum;
    }
    uint64_t size = at + 100;
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    uint8_t buf[65536];
    for (uint64_t i = 0; i < size; i += sizeof buf) {
        size_t n = size - i < sizeof buf ? (size_t)(size - i) : sizeof buf;
        for (size_t k = 0; k < n; k++) buf[k] = byte_at(i + k);
        assert_int_equal(fwrite(buf, 1, n, f), n);
    }
    assert_int_equal(fclose(f), 0);
}

static void check_layer(const void **p, int l)
{
    for (int t = 0; t < MW_STREAM_TENSORS; t++) {
        const uint8_t *d = p[t];
        for (uint64_t i = 0; i < src[l].bytes[t]; i += 97)
            if (d[i] != byte_at(src[l].offset[t] + i)) fail_msg("layer %d tensor %d byte %llu", l, t,
                                                                 (unsigned long long)i);
        assert_int_equal(d[src[l].bytes[t] - 1], byte_at(src[l].offset[t] + src[l].bytes[t] - 1));
        if (src[l].f32[t]) assert_int_equal((uintptr_t)d % 4, 0);
    }
}

static void run_steps(mw_stream_io io, uint32_t slots)
{
    make_file();
    mw_err err;
    mw_stream *s = NULL;
    assert_int_equal(mw_stream_open(path, FIRST, NL, src, slots, slot_bytes, io, &s, &err), MW_OK);
    for (int step = 0; step < 3; step++)
        for (int l = 0; l < NL; l++) {
            const void *p[MW_STREAM_TENSORS];
            assert_int_equal(mw_stream_acquire(s, FIRST + l, p, &err), MW_OK);
            check_layer(p, l);
            mw_stream_release(s, FIRST + l);
        }
    mw_stream_stats st;
    mw_stream_get_stats(s, &st);
    uint64_t per_step = 0;
    for (int l = 0; l < NL; l++)
        for (int t = 0; t < MW_STREAM_TENSORS; t++) per_step += src[l].bytes[t];
    assert_true(st.bytes_read >= 3 * per_step);           /* and what was read ahead */
    assert_true(st.bytes_read <= 3 * per_step + slots * slot_bytes);
    if (io == MW_STREAM_IO_BUFFERED) assert_int_equal(st.io, MW_STREAM_IO_BUFFERED);
    else assert_true(st.io == MW_STREAM_IO_DIRECT || st.io == MW_STREAM_IO_BUFFERED);
    mw_stream_close(s);
}

static void test_order_buffered(void **state) { (void)state; run_steps(MW_STREAM_IO_BUFFERED, 2); }
static void test_order_direct(void **state) { (void)state; run_steps(MW_STREAM_IO_DIRECT, 3); }
static void test_order_one_slot(void **state) { (void)state; run_steps(MW_STREAM_IO_AUTO, 1); }
static void test_order_all_slots(void **state) { (void)state; run_steps(MW_STREAM_IO_BUFFERED, NL); }

static void test_wrong_layer(void **state)
{
    (void)state;
    make_file();
    mw_err err;
    mw_stream *s = NULL;
    assert_int_equal(mw_stream_open(path, FIRST, NL, src, 2, slot_bytes, MW_STREAM_IO_AUTO, &s, &err), MW_OK);
    const void *p[MW_STREAM_TENSORS];
    assert_int_equal(mw_stream_acquire(s, FIRST + 1, p, &err), MW_ERR_INTERNAL);
    assert_non_null(strstr(err.msg, "expected"));
    mw_stream_close(s);
}

static void test_small_slot(void **state)
{
    (void)state;
    make_file();
    mw_err err;
    mw_stream *s = NULL;
    assert_int_equal(mw_stream_open(path, FIRST, NL, src, 2, slot_bytes - 1, MW_STREAM_IO_AUTO, &s, &err),
                     MW_ERR_INTERNAL);
    assert_null(s);
}

/* the N-th read fails: the acquire waiting on it returns EIO's message */
static void fail_read(mw_stream_io io, const char *n)
{
    make_file();
    setenv("MEMWALL_FAIL_STREAM_READ", n, 1);
    mw_err err;
    mw_stream *s = NULL;
    mw_status st = mw_stream_open(path, FIRST, NL, src, 2, slot_bytes, io, &s, &err);
    unsetenv("MEMWALL_FAIL_STREAM_READ");
    assert_int_equal(st, MW_OK);
    st = MW_OK;
    for (int step = 0; step < 3 && st == MW_OK; step++)
        for (int l = 0; l < NL && st == MW_OK; l++) {
            const void *p[MW_STREAM_TENSORS];
            st = mw_stream_acquire(s, FIRST + l, p, &err);
            if (st == MW_OK) mw_stream_release(s, FIRST + l);
        }
    assert_int_equal(st, MW_ERR_IO);
    assert_non_null(strstr(err.msg, "Input/output error"));
    /* and again: the error stays */
    const void *p[MW_STREAM_TENSORS];
    assert_int_equal(mw_stream_acquire(s, FIRST, p, &err) != MW_OK, 1);
    mw_stream_close(s);
}

static void test_fail_read(void **state)
{
    (void)state;
    fail_read(MW_STREAM_IO_BUFFERED, "1");
    fail_read(MW_STREAM_IO_BUFFERED, "20");
    fail_read(MW_STREAM_IO_AUTO, "7");
}

/* truncated while streaming: one slot, so the reader waits after layer 0;
 * the cut is inside layer 1 */
static void truncated(mw_stream_io io)
{
    make_file();
    mw_err err;
    mw_stream *s = NULL;
    assert_int_equal(mw_stream_open(path, FIRST, NL, src, 1, slot_bytes, io, &s, &err), MW_OK);
    const void *p[MW_STREAM_TENSORS];
    assert_int_equal(mw_stream_acquire(s, FIRST, p, &err), MW_OK);
    check_layer(p, 0);
    assert_int_equal(truncate(path, (off_t)src[1].offset[4]), 0);
    mw_stream_release(s, FIRST);
    assert_int_equal(mw_stream_acquire(s, FIRST + 1, p, &err), MW_ERR_IO);
    assert_non_null(strstr(err.msg, "changed while streaming: expected"));
    mw_stream_close(s);
}

static void test_truncated(void **state)
{
    (void)state;
    truncated(MW_STREAM_IO_BUFFERED);
    truncated(MW_STREAM_IO_DIRECT);
}

/* replaced between steps (same size, another inode): the check at the
 * step's first layer */
static void test_replaced(void **state)
{
    (void)state;
    make_file();
    mw_err err;
    mw_stream *s = NULL;
    assert_int_equal(mw_stream_open(path, FIRST, NL, src, 1, slot_bytes, MW_STREAM_IO_BUFFERED, &s, &err),
                     MW_OK);
    char moved[320];
    snprintf(moved, sizeof moved, "%s.old", path);
    assert_int_equal(rename(path, moved), 0);
    make_file(); /* a new file at the path */
    mw_status st = MW_OK;
    for (int step = 0; step < 2 && st == MW_OK; step++)
        for (int l = 0; l < NL && st == MW_OK; l++) {
            const void *p[MW_STREAM_TENSORS];
            st = mw_stream_acquire(s, FIRST + l, p, &err);
            if (st == MW_OK) mw_stream_release(s, FIRST + l);
        }
    assert_int_equal(st, MW_ERR_IO);
    assert_non_null(strstr(err.msg, "changed while streaming"));
    assert_non_null(strstr(err.msg, "another file"));
    mw_stream_close(s);
}

static void test_io_names(void **state)
{
    (void)state;
    assert_string_equal(mw_stream_io_name(MW_STREAM_IO_AUTO), "auto");
    assert_string_equal(mw_stream_io_name(MW_STREAM_IO_BUFFERED), "buffered");
    assert_string_equal(mw_stream_io_name(MW_STREAM_IO_DIRECT), "direct");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order_buffered), cmocka_unit_test(test_order_direct),
        cmocka_unit_test(test_order_one_slot), cmocka_unit_test(test_order_all_slots),
        cmocka_unit_test(test_wrong_layer),    cmocka_unit_test(test_small_slot),
        cmocka_unit_test(test_fail_read),      cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_replaced),       cmocka_unit_test(test_io_names),
    };
    return cmocka_run_group_tests(tests, setup_dir, remove_dir);
}
