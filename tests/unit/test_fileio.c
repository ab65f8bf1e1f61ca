/* test_fileio.c - the helpers every reader of a user's file goes through:
 * opening regular files only (no blocking on a FIFO), mapping and reading
 * them whole, and showing strings from them escaped (mw_shown). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "memwall.h"
#include "common/error.h"
#include "common/fileio.h"
#include "common/test_hooks.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static char dir[64];

static const char *in_dir(const char *name)
{
    static char path[96];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return path;
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/mw-fileio-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    static const char *const names[] = {"f", "fifo", "empty", "big", "sock"};
    for (size_t i = 0; i < MW_ARRAY_LEN(names); i++) unlink(in_dir(names[i]));
    rmdir(dir);
    return 0;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

static void shown_escapes_and_cuts(void **state)
{
    (void)state;
    char b[16];
    assert_string_equal(mw_shown_str("plain", b, sizeof b), "plain");
    assert_string_equal(mw_shown_str("a\033[31mb\a", b, sizeof b), "a?[31mb?");
    assert_string_equal(mw_shown_str("tab\there\x7f", b, sizeof b), "tab?here?");
    /* UTF-8: well-formed characters stay; C1 controls, malformed and
     * overlong sequences and surrogates do not */
    assert_string_equal(mw_shown_str("\xc3\xa9t\xc3\xa9", b, sizeof b), "\xc3\xa9t\xc3\xa9");
    assert_string_equal(mw_shown_str("\xc2\x9b" "2J", b, sizeof b), "??2J");
    assert_string_equal(mw_shown_str("\xc0\xaf\xed\xa0\x80", b, sizeof b), "?????");
    assert_string_equal(mw_shown_str("\xe2\x96", b, sizeof b), "??");
    /* not NUL-terminated, and holding a NUL */
    assert_string_equal(mw_shown("ab\0cd", 5, b, sizeof b), "ab?cd");
    /* cut: 15 bytes fit whole, 16 are cut to 12 + "..." */
    assert_string_equal(mw_shown_str("123456789012345", b, sizeof b), "123456789012345");
    assert_string_equal(mw_shown_str("1234567890123456", b, sizeof b), "123456789012...");
    /* never inside a character: 11 ASCII + a 2-byte character > 12 */
    assert_string_equal(mw_shown_str("12345678901\xc3\xa9xxxxxx", b, sizeof b), "12345678901...");
    char tiny[3];
    assert_string_equal(mw_shown_str("abcdef", tiny, sizeof tiny), "ab");
    assert_string_equal(mw_shown_str("", b, sizeof b), "");
}

static void open_regular_refuses_other_kinds(void **state)
{
    (void)state;
    mw_err err;
    int fd = -2;
    uint64_t size = 1;
    write_file(in_dir("f"), "hello");
    assert_int_equal(mw_file_open_regular(in_dir("f"), &fd, &size, &err), MW_OK);
    assert_true(fd >= 0);
    assert_true(size == 5);
    /* blocking again, and close-on-exec */
    assert_int_equal(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
    assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    close(fd);

    /* a FIFO with no writer: refused at once (a plain open would block) */
    assert_int_equal(mkfifo(in_dir("fifo"), 0600), 0);
    assert_int_equal(mw_file_open_regular(in_dir("fifo"), &fd, &size, &err), MW_ERR_INVALID);
    assert_int_equal(fd, -1);
    char want[256];
    snprintf(want, sizeof want, "%s is a FIFO (named pipe), not a regular file", in_dir("fifo"));
    assert_non_null(strstr(err.msg, want));

    assert_int_equal(mw_file_open_regular(dir, &fd, &size, &err), MW_ERR_INVALID);
    assert_non_null(strstr(err.msg, "is a directory, not a regular file"));
    assert_int_equal(mw_file_open_regular("/dev/null", &fd, &size, &err), MW_ERR_INVALID);
    assert_string_equal(err.msg,
                        "/dev/null is a character device, not a regular file: give the file itself");
    assert_int_equal(mw_file_open_regular(in_dir("none"), &fd, &size, &err), MW_ERR_NOT_FOUND);
    assert_non_null(strstr(err.msg, "none: cannot open: No such file or directory"));

    /* a socket cannot even be opened: the message still names it */
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_true(s >= 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    snprintf(a.sun_path, sizeof a.sun_path, "%s", in_dir("sock"));
    assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_not_equal(mw_file_open_regular(in_dir("sock"), &fd, &size, &err), MW_OK);
    assert_non_null(strstr(err.msg, in_dir("sock")));
    close(s);

    assert_string_equal(mw_file_kind(S_IFBLK), "a block device");
    assert_string_equal(mw_file_kind(S_IFSOCK), "a socket");
}

static void map_and_read_all(void **state)
{
    (void)state;
    mw_err err;
    mw_file_map map;
    write_file(in_dir("f"), "hello");
    assert_int_equal(mw_file_map_open(in_dir("f"), &map, &err), MW_OK);
    assert_true(map.len == 5);
    assert_memory_equal(map.addr, "hello", 5);
    mw_file_map_close(&map);
    assert_null(map.addr);
    mw_file_map_close(&map); /* twice: a no-op */

    write_file(in_dir("empty"), "");
    assert_int_equal(mw_file_map_open(in_dir("empty"), &map, &err), MW_OK);
    assert_null(map.addr);
    assert_true(map.len == 0);
    assert_int_equal(mw_file_map_open(in_dir("fifo"), &map, &err), MW_ERR_INVALID);
    assert_null(map.addr);

    char *text = NULL;
    size_t len = 9;
    assert_int_equal(mw_file_read_all(in_dir("f"), 5, "a test file", &text, &len, &err), MW_OK);
    assert_string_equal(text, "hello");
    assert_true(len == 5);
    mw_free(text);
    assert_int_equal(mw_file_read_all(in_dir("empty"), 5, "a test file", &text, &len, &err), MW_OK);
    assert_string_equal(text, "");
    mw_free(text);
    write_file(in_dir("big"), "123456");
    assert_int_equal(mw_file_read_all(in_dir("big"), 5, "a test file", &text, &len, &err),
                     MW_ERR_INVALID);
    assert_null(text);
    assert_non_null(strstr(err.msg, "big: 6 bytes is too big for a test file"));
    assert_int_equal(mw_file_read_all(in_dir("fifo"), 5, "a test file", &text, &len, &err),
                     MW_ERR_INVALID);
    assert_non_null(strstr(err.msg, "is a FIFO"));

    /* out of memory: a clean error, nothing leaked */
    mw_mem_fail_after(1);
    assert_int_equal(mw_file_read_all(in_dir("f"), 5, "a test file", &text, &len, &err),
                     MW_ERR_NOMEM);
    mw_mem_fail_after(0);
    assert_null(text);
    assert_non_null(strstr(err.msg, "out of memory"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(shown_escapes_and_cuts),
        cmocka_unit_test(open_regular_refuses_other_kinds),
        cmocka_unit_test(map_and_read_all),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
