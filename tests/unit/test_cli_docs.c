/* test_cli_docs.c - the CLI and its documentation (cli/doc/NAME.txt) agree:
 * every command has a page and every page a command, and each command's
 * getopt table has exactly the options its page documents, with the same
 * short letters and the same need for a value. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The top-level page documents the options main() handles itself, without a
 * getopt table. */
static const char *const toplevel_options[] = {"--help", "--version", NULL};

static const mw_cli_command *command_find(const char *name)
{
    for (size_t i = 0; i < mw_cli_commands_count; i++)
        if (!strcmp(mw_cli_commands[i].name, name)) return &mw_cli_commands[i];
    return NULL;
}

static size_t strv_len(const char *const *v)
{
    size_t n = 0;
    while (v[n]) n++;
    return n;
}

static int strv_has(const char *const *v, const char *s)
{
    for (; *v; v++)
        if (!strcmp(*v, s)) return 1;
    return 0;
}

static const struct option *longopt_find(const struct option *o, const char *dashed)
{
    for (; o->name; o++)
        if (!strncmp(dashed, "--", 2) && !strcmp(o->name, dashed + 2)) return o;
    return NULL;
}

static void every_command_has_a_doc(void **state)
{
    (void)state;
    assert_true(mw_cli_commands_count > 0);
    for (size_t i = 0; i < mw_cli_commands_count; i++) {
        const mw_cli_command *c = &mw_cli_commands[i];
        const mw_cli_doc *d = mw_cli_doc_find(c->name);
        if (!d) fail_msg("command '%s' has no cli/doc/%s.txt", c->name, c->name);
        assert_non_null(c->run);
        assert_non_null(c->longopts);
        assert_non_null(d->help);
        assert_non_null(d->summary);
        assert_true(strlen(d->summary) > 0);
        for (size_t j = 0; j < i; j++)
            if (!strcmp(mw_cli_commands[j].name, c->name))
                fail_msg("command '%s' is in mw_cli_commands[] twice", c->name);
    }
}

static void every_doc_has_a_command(void **state)
{
    (void)state;
    int toplevel = 0;
    for (size_t i = 0; i < mw_cli_docs_count; i++) {
        const mw_cli_doc *d = &mw_cli_docs[i];
        for (size_t j = 0; j < i; j++)
            if (!strcmp(mw_cli_docs[j].name, d->name))
                fail_msg("two pages are named '%s'", d->name);
        if (!strcmp(d->name, "memwall")) {
            toplevel = 1;
            continue;
        }
        if (!command_find(d->name))
            fail_msg("cli/doc/%s.txt documents a command that mw_cli_commands[] lacks", d->name);
    }
    if (!toplevel) fail_msg("no top-level page (cli/doc/memwall.txt, name: memwall)");
}

/* Each longopts name is documented, and each documented option is in
 * longopts, once. */
static void options_match_the_docs(void **state)
{
    (void)state;
    for (size_t i = 0; i < mw_cli_commands_count; i++) {
        const mw_cli_command *c = &mw_cli_commands[i];
        const mw_cli_doc *d = mw_cli_doc_find(c->name);
        assert_non_null(d);
        assert_non_null(d->options);
        size_t nlong = 0;
        for (const struct option *o = c->longopts; o->name; o++, nlong++) {
            char dashed[128];
            snprintf(dashed, sizeof dashed, "--%s", o->name);
            if (!strv_has(d->options, dashed))
                fail_msg("'memwall %s' accepts %s, which cli/doc/%s.txt does not document",
                         c->name, dashed, c->name);
            for (const struct option *p = c->longopts; p != o; p++)
                if (!strcmp(p->name, o->name))
                    fail_msg("'memwall %s': %s is in the getopt table twice", c->name, dashed);
        }
        for (const char *const *opt = d->options; *opt; opt++) {
            if (!longopt_find(c->longopts, *opt))
                fail_msg("cli/doc/%s.txt documents %s, which 'memwall %s' does not accept",
                         c->name, *opt, c->name);
            for (const char *const *p = d->options; p != opt; p++)
                if (!strcmp(*p, *opt))
                    fail_msg("cli/doc/%s.txt documents %s twice", c->name, *opt);
        }
        assert_int_equal(nlong, strv_len(d->options));
    }
}

/* In the help text, an option header is "  -x, --name [VALUE]" or
 * "  --name [VALUE]": its short letter must be the getopt table's val and
 * a VALUE must mean required_argument. */
static void short_letters_and_values_match(void **state)
{
    (void)state;
    for (size_t i = 0; i < mw_cli_commands_count; i++) {
        const mw_cli_command *c = &mw_cli_commands[i];
        const mw_cli_doc *d = mw_cli_doc_find(c->name);
        assert_non_null(d);
        size_t headers = 0;
        for (const char *ln = d->help; *ln;) {
            const char *eol = strchr(ln, '\n');
            size_t len = eol ? (size_t)(eol - ln) : strlen(ln);
            char line[256];
            snprintf(line, sizeof line, "%.*s", (int)(len < 255 ? len : 255), ln);
            ln += len + (eol ? 1 : 0);
            if (strncmp(line, "  -", 3) != 0) continue;

            char *p = line + 2;
            int shortopt = 0;
            if (p[1] != '-') { /* "-x, --name" */
                shortopt = (unsigned char)p[1];
                if (strncmp(p + 2, ", --", 4) != 0)
                    fail_msg("'memwall %s --help': option header '%s' is not '-x, --name'",
                             c->name, line);
                p += 4;
            }
            char *sp = strchr(p, ' ');
            int has_value = sp != NULL;
            if (sp) *sp = '\0';
            const struct option *o = longopt_find(c->longopts, p);
            if (!o) fail_msg("'memwall %s --help' shows %s, not in the getopt table", c->name, p);
            headers++;
            if (shortopt && o->val != shortopt)
                fail_msg("'memwall %s': the docs give %s the short -%c, the getopt table '%c'",
                         c->name, p, shortopt, o->val);
            if (has_value && o->has_arg != required_argument)
                fail_msg("'memwall %s': the docs give %s a value, the getopt table does not "
                         "require one", c->name, p);
            if (!has_value && o->has_arg != no_argument)
                fail_msg("'memwall %s': the docs give %s no value, the getopt table takes one",
                         c->name, p);
        }
        assert_int_equal(headers, strv_len(d->options));
    }
}

static void toplevel_page_documents_help_and_version(void **state)
{
    (void)state;
    const mw_cli_doc *d = mw_cli_doc_find("memwall");
    assert_non_null(d);
    for (const char *const *o = toplevel_options; *o; o++)
        if (!strv_has(d->options, *o)) fail_msg("cli/doc/memwall.txt does not document %s", *o);
    for (const char *const *o = d->options; *o; o++)
        if (!strv_has(toplevel_options, *o))
            fail_msg("cli/doc/memwall.txt documents %s, which main() does not handle", *o);
    /* every command is listed on the top-level page */
    for (size_t i = 0; i < mw_cli_commands_count; i++)
        if (!strstr(d->help, mw_cli_commands[i].name))
            fail_msg("'memwall --help' does not list '%s'", mw_cli_commands[i].name);
}

static void doc_find(void **state)
{
    (void)state;
    assert_null(mw_cli_doc_find("nosuch"));
    assert_null(mw_cli_doc_find(""));
    const mw_cli_doc *d = mw_cli_doc_find("watch");
    assert_non_null(d);
    assert_string_equal(d->name, "watch");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_command_has_a_doc),
        cmocka_unit_test(every_doc_has_a_command),
        cmocka_unit_test(options_match_the_docs),
        cmocka_unit_test(short_letters_and_values_match),
        cmocka_unit_test(toplevel_page_documents_help_and_version),
        cmocka_unit_test(doc_find),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
