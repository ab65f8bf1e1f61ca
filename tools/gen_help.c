/*
 * gen_help.c - builds the CLI's help texts and the man page from one
 * description per command (cli/doc/<command>.txt), so they never disagree.
 *
 * usage: mw_gen_help VERSION OUT.c OUT.1 DOC.txt...
 *
 * A description file:
 *
 *     name: watch
 *     summary: one line, no final period
 *     usage: memwall watch [OPTIONS] -- CMD [ARGS...]
 *     usage: memwall watch [OPTIONS] --pid PID
 *
 *     == DESCRIPTION
 *     Paragraphs of text; a blank line separates them. Lines indented by
 *     two or more spaces are shown as they are (examples, tables).
 *
 *     == OPTIONS
 *     -i, --interval DURATION
 *         Text of the option, indented.
 *
 *     == EXIT STATUS
 *     ...
 *
 * The file named "memwall" is the top-level page; the generator adds the
 * list of commands to it. OUT.c defines mw_cli_docs[] (see cli/cli.h), with
 * each command's documented long options for the test that checks them
 * against the parser's table.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LINES 2000
#define MAX_USAGE 8
#define MAX_SECTIONS 16
#define MAX_DOCS 64

typedef struct section {
    char title[64];
    char *lines[MAX_LINES];
    int nlines;
} section;

typedef struct doc {
    char name[64];
    char summary[256];
    char usage[MAX_USAGE][256];
    int nusage;
    section sections[MAX_SECTIONS];
    int nsections;
} doc;

static void die(const char *path, int line, const char *msg)
{
    fprintf(stderr, "mw_gen_help: %s:%d: %s\n", path, line, msg);
    exit(1);
}

static char *dupstr(const char *s)
{
    char *p = strdup(s);
    if (!p) { fprintf(stderr, "mw_gen_help: out of memory\n"); exit(1); }
    return p;
}

static void chomp(char *s)
{
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ')) s[--n] = '\0';
}

static void parse_doc(const char *path, doc *d)
{
    FILE *f = fopen(path, "r");
    if (!f) die(path, 0, "cannot open");
    memset(d, 0, sizeof *d);
    char buf[1024];
    int lineno = 0, in_header = 1;
    section *cur = NULL;
    while (fgets(buf, sizeof buf, f)) {
        lineno++;
        chomp(buf);
        if (in_header) {
            if (!buf[0]) { in_header = 0; continue; }
            char *colon = strchr(buf, ':');
            if (!colon) die(path, lineno, "expected 'key: value' in the header");
            *colon = '\0';
            const char *v = colon + 1;
            while (*v == ' ') v++;
            if (!strcmp(buf, "name")) snprintf(d->name, sizeof d->name, "%s", v);
            else if (!strcmp(buf, "summary")) snprintf(d->summary, sizeof d->summary, "%s", v);
            else if (!strcmp(buf, "usage")) {
                if (d->nusage == MAX_USAGE) die(path, lineno, "too many usage lines");
                snprintf(d->usage[d->nusage++], sizeof d->usage[0], "%s", v);
            } else die(path, lineno, "unknown header key (name, summary, usage)");
            continue;
        }
        if (!strncmp(buf, "== ", 3)) {
            if (d->nsections == MAX_SECTIONS) die(path, lineno, "too many sections");
            cur = &d->sections[d->nsections++];
            snprintf(cur->title, sizeof cur->title, "%.63s", buf + 3);
            continue;
        }
        if (!cur) {
            if (!buf[0]) continue;
            die(path, lineno, "text before the first '== SECTION'");
        }
        if (cur->nlines == MAX_LINES) die(path, lineno, "section too long");
        if (strlen(buf) > 80) die(path, lineno, "line longer than 80 columns");
        cur->lines[cur->nlines++] = dupstr(buf);
    }
    fclose(f);
    if (!d->name[0] || !d->summary[0]) die(path, 0, "missing name or summary");
    /* trailing blank lines of each section are noise */
    for (int i = 0; i < d->nsections; i++)
        while (d->sections[i].nlines && !d->sections[i].lines[d->sections[i].nlines - 1][0])
            d->sections[i].nlines--;
}

/* ---- C output --------------------------------------------------------- */

static void c_string_char(FILE *o, char c)
{
    if (c == '"' || c == '\\') fprintf(o, "\\%c", c);
    else if (c == '\n') fputs("\\n\"\n    \"", o);
    else fputc(c, o);
}

static void c_string(FILE *o, const char *s)
{
    fputc('"', o);
    for (; *s; s++) c_string_char(o, *s);
    fputc('"', o);
}

/* Appends to a growing buffer. */
typedef struct sbuf { char *p; size_t n, cap; } sbuf;

static void sb_puts(sbuf *b, const char *s)
{
    size_t len = strlen(s);
    if (b->n + len + 1 > b->cap) {
        b->cap = (b->n + len + 1) * 2;
        b->p = realloc(b->p, b->cap);
        if (!b->p) { fprintf(stderr, "mw_gen_help: out of memory\n"); exit(1); }
    }
    memcpy(b->p + b->n, s, len + 1);
    b->n += len;
}

static void title_case(const char *in, char *out, size_t cap)
{
    size_t i = 0;
    for (; in[i] && i + 1 < cap; i++) out[i] = i == 0 ? in[i] : (char)tolower((unsigned char)in[i]);
    out[i] = '\0';
}

static void help_text(const doc *d, const doc *all, int nall, sbuf *b)
{
    char line[512];
    for (int i = 0; i < d->nusage; i++) {
        snprintf(line, sizeof line, "%s %s\n", i == 0 ? "Usage:" : "   or:", d->usage[i]);
        sb_puts(b, line);
    }
    snprintf(line, sizeof line, "%s%s.\n", d->nusage ? "\n" : "", d->summary);
    sb_puts(b, line);
    for (int s = 0; s < d->nsections; s++) {
        const section *sec = &d->sections[s];
        sb_puts(b, "\n");
        if (strcmp(sec->title, "DESCRIPTION") != 0) {
            char t[64];
            title_case(sec->title, t, sizeof t);
            snprintf(line, sizeof line, "%s:\n", t);
            sb_puts(b, line);
        }
        for (int l = 0; l < sec->nlines; l++) {
            int indent = strcmp(sec->title, "DESCRIPTION") != 0 && sec->lines[l][0];
            snprintf(line, sizeof line, "%s%s\n", indent ? "  " : "", sec->lines[l]);
            sb_puts(b, line);
        }
        if (!strcmp(d->name, "memwall") && !strcmp(sec->title, "DESCRIPTION")) {
            sb_puts(b, "\nCommands:\n");
            for (int k = 0; k < nall; k++) {
                if (!strcmp(all[k].name, "memwall")) continue;
                snprintf(line, sizeof line, "  %-10s %s\n", all[k].name, all[k].summary);
                sb_puts(b, line);
            }
        }
    }
}

static void write_c(const char *path, const doc *docs, int n)
{
    FILE *o = fopen(path, "w");
    if (!o) die(path, 0, "cannot create");
    fprintf(o, "/* Generated by tools/gen_help.c from the files in cli/doc: do not edit. */\n");
    fprintf(o, "#include \"cli.h\"\n\n");
    for (int i = 0; i < n; i++) {
        fprintf(o, "static const char *const options_%d[] = {", i);
        for (int s = 0; s < docs[i].nsections; s++) {
            const section *sec = &docs[i].sections[s];
            if (strcmp(sec->title, "OPTIONS") != 0) continue;
            for (int l = 0; l < sec->nlines; l++) {
                /* option headers start at column 0 with '-'; take each
                 * "--long" name on the line */
                const char *ln = sec->lines[l];
                if (ln[0] != '-') continue;
                for (const char *p = strstr(ln, "--"); p; p = strstr(p + 2, "--")) {
                    char name[64];
                    size_t k = 0;
                    while (p[k] && (isalnum((unsigned char)p[k]) || p[k] == '-') && k + 1 < sizeof name) {
                        name[k] = p[k];
                        k++;
                    }
                    name[k] = '\0';
                    if (k > 2) { c_string(o, name); fputs(", ", o); }
                }
            }
        }
        fprintf(o, "NULL};\n");
    }
    /* Each help text as a char array, not a string literal: C only
     * promises string literals of 4095 characters (-Woverlength-strings). */
    for (int i = 0; i < n; i++) {
        sbuf b = {0};
        help_text(&docs[i], docs, n, &b);
        fprintf(o, "static const char help_%d[] = {", i);
        for (size_t k = 0; b.p && k < b.n; k++)
            fprintf(o, "%s'\\x%02x',", k % 16 ? "" : "\n   ", (unsigned char)b.p[k]);
        fprintf(o, "\n    0};\n");
        free(b.p);
    }
    fprintf(o, "\nconst mw_cli_doc mw_cli_docs[] = {\n");
    for (int i = 0; i < n; i++) {
        fprintf(o, "  {");
        c_string(o, docs[i].name);
        fputs(", ", o);
        c_string(o, docs[i].summary);
        fprintf(o, ", help_%d, options_%d},\n", i, i);
    }
    fprintf(o, "};\nconst size_t mw_cli_docs_count = %d;\n", n);
    if (fclose(o) != 0) die(path, 0, "cannot write");
}

/* ---- man page ---------------------------------------------------------- */

static void roff_text(FILE *o, const char *s)
{
    if (*s == '.' || *s == '\'') fputs("\\&", o);
    for (; *s; s++) {
        if (*s == '\\') fputs("\\e", o);
        else if (*s == '-') fputs("\\-", o);
        else fputc(*s, o);
    }
    fputc('\n', o);
}

static void roff_section_body(FILE *o, const section *sec)
{
    int options = !strcmp(sec->title, "OPTIONS");
    int in_literal = 0;
    for (int l = 0; l < sec->nlines; l++) {
        const char *ln = sec->lines[l];
        if (!ln[0]) {
            if (in_literal) { fputs(".fi\n", o); in_literal = 0; }
            fputs(".PP\n", o);
            continue;
        }
        if (options && ln[0] == '-') {
            if (in_literal) { fputs(".fi\n", o); in_literal = 0; }
            fputs(".TP\n.B ", o);
            roff_text(o, ln);
            continue;
        }
        const char *t = ln;
        while (*t == ' ') t++;
        int literal = !options && (t - ln) >= 2;
        if (literal && !in_literal) { fputs(".nf\n", o); in_literal = 1; }
        if (!literal && in_literal) { fputs(".fi\n", o); in_literal = 0; }
        roff_text(o, literal ? ln : t);
    }
    if (in_literal) fputs(".fi\n", o);
}

static void write_man(const char *path, const char *version, const doc *docs, int n)
{
    FILE *o = fopen(path, "w");
    if (!o) die(path, 0, "cannot create");
    const doc *top = NULL;
    for (int i = 0; i < n; i++) if (!strcmp(docs[i].name, "memwall")) top = &docs[i];
    if (!top) die(path, 0, "no doc named memwall");
    fprintf(o, ".\\\" Generated by tools/gen_help.c from cli/doc/*.txt: do not edit.\n");
    fprintf(o, ".TH MEMWALL 1 \"\" \"memwall %s\" \"User Commands\"\n", version);
    fprintf(o, ".SH NAME\nmemwall \\- ");
    roff_text(o, top->summary);
    fprintf(o, ".SH SYNOPSIS\n.nf\n");
    for (int i = 0; i < top->nusage; i++) roff_text(o, top->usage[i]);
    for (int i = 0; i < n; i++)
        for (int u = 0; &docs[i] != top && u < docs[i].nusage; u++) roff_text(o, docs[i].usage[u]);
    fprintf(o, ".fi\n");
    for (int s = 0; s < top->nsections; s++) {
        fprintf(o, ".SH %s\n", top->sections[s].title);
        roff_section_body(o, &top->sections[s]);
        if (!strcmp(top->sections[s].title, "DESCRIPTION")) {
            fprintf(o, ".SH COMMANDS\n");
            for (int i = 0; i < n; i++) {
                const doc *d = &docs[i];
                if (d == top) continue;
                fprintf(o, ".SS \"memwall %s\"\n", d->name);
                roff_text(o, d->summary);
                fprintf(o, ".PP\n.nf\n");
                for (int u = 0; u < d->nusage; u++) roff_text(o, d->usage[u]);
                fprintf(o, ".fi\n");
                for (int k = 0; k < d->nsections; k++) {
                    if (strcmp(d->sections[k].title, "DESCRIPTION") != 0)
                        fprintf(o, ".PP\n.I %s\n", d->sections[k].title);
                    fprintf(o, ".PP\n");
                    roff_section_body(o, &d->sections[k]);
                }
            }
        }
    }
    if (fclose(o) != 0) die(path, 0, "cannot write");
}

static int by_name(const void *a, const void *b)
{
    const doc *x = a, *y = b;
    /* the top-level page first, then commands in alphabetical order */
    if (!strcmp(x->name, "memwall")) return -1;
    if (!strcmp(y->name, "memwall")) return 1;
    return strcmp(x->name, y->name);
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: mw_gen_help VERSION OUT.c OUT.1 DOC.txt...\n");
        return 2;
    }
    int n = argc - 4;
    if (n > MAX_DOCS) die(argv[4], 0, "too many docs");
    doc *docs = calloc((size_t)n, sizeof *docs);
    if (!docs) return 1;
    for (int i = 0; i < n; i++) parse_doc(argv[4 + i], &docs[i]);
    qsort(docs, (size_t)n, sizeof *docs, by_name);
    write_c(argv[2], docs, n);
    write_man(argv[3], argv[1], docs, n);
    return 0;
}
