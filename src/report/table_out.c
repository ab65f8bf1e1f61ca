/* table_out.c - a small table written as RFC 4180 CSV or as a
 * GitHub-flavoured Markdown pipe table (table_out.h gives the rules and
 * their sources). */
#include "report/table_out.h"
#include "common/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void mw_tab_init(mw_tab *t, size_t n_cols, const char *align)
{
    memset(t, 0, sizeof *t);
    t->n_cols = n_cols;
    if (n_cols < 1 || n_cols > 64) {
        t->failed = 1;
        return;
    }
    t->align = mw_malloc(n_cols, MW_MEM_OTHER);
    if (!t->align) {
        t->failed = 1;
        return;
    }
    for (size_t c = 0; c < n_cols; c++)
        t->align[c] = align && strlen(align) > c && align[c] == 'r' ? 'r' : 'l';
}

void mw_tab_free(mw_tab *t)
{
    for (size_t i = 0; i < t->n_cells; i++) mw_free(t->cells[i]);
    mw_free(t->cells);
    mw_free(t->align);
    memset(t, 0, sizeof *t);
}

void mw_tab_cell(mw_tab *t, const char *s)
{
    if (t->failed) return;
    if (!s) s = "";
    if (t->n_cells == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        char **n = mw_malloc(cap * sizeof *n, MW_MEM_OTHER);
        if (!n) {
            t->failed = 1;
            return;
        }
        if (t->n_cells) memcpy(n, t->cells, t->n_cells * sizeof *n);
        mw_free(t->cells);
        t->cells = n;
        t->cap = cap;
    }
    size_t len = strlen(s);
    char *copy = mw_malloc(len + 1, MW_MEM_OTHER);
    if (!copy) {
        t->failed = 1;
        return;
    }
    memcpy(copy, s, len + 1);
    t->cells[t->n_cells++] = copy;
}

void mw_tab_cellf(mw_tab *t, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    mw_tab_cell(t, buf);
}

void mw_tab_cell_u64(mw_tab *t, uint64_t v)
{
    if (v == MW_UNKNOWN) mw_tab_cell(t, "");
    else mw_tab_cellf(t, "%llu", (unsigned long long)v);
}

size_t mw_tab_rows(const mw_tab *t)
{
    return t->n_cols && t->n_cells >= t->n_cols ? t->n_cells / t->n_cols - 1 : 0;
}

void mw_csv_cell(FILE *out, const char *s)
{
    if (!s) s = "";
    /* RFC 4180, 2.6: fields holding CR, LF, '"' or ',' are enclosed in
     * double quotes; 2.7: a '"' inside is doubled */
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, out);
        return;
    }
    fputc('"', out);
    for (const char *p = s; *p; p++) {
        if (*p == '"') fputc('"', out);
        fputc(*p, out);
    }
    fputc('"', out);
}

void mw_md_cell(FILE *out, const char *s)
{
    if (!s) s = "";
    for (const char *p = s; *p; p++) {
        if (*p == '|' || *p == '\\') fputc('\\', out), fputc(*p, out);
        else if (*p == '\r' || *p == '\n') fputc(' ', out);
        else fputc(*p, out);
    }
}

static mw_status check(const mw_tab *t, const char *what, mw_err *err)
{
    MW_RETURN_IF(t->failed, err, MW_ERR_NOMEM, "out of memory writing the %s", what);
    MW_RETURN_IF(t->n_cells < t->n_cols || t->n_cells % t->n_cols, err, MW_ERR_INVALID,
                 "the %s has a short row (%zu cells for %zu columns)", what, t->n_cells, t->n_cols);
    return MW_OK;
}

mw_status mw_tab_write_csv(const mw_tab *t, FILE *out, const char *what, mw_err *err)
{
    MW_FORWARD(check(t, what, err));
    for (size_t i = 0; i < t->n_cells; i++) {
        mw_csv_cell(out, t->cells[i]);
        fputc((i + 1) % t->n_cols ? ',' : '\n', out);
    }
    return MW_OK;
}

mw_status mw_tab_write_markdown(const mw_tab *t, FILE *out, const char *what, mw_err *err)
{
    MW_FORWARD(check(t, what, err));
    for (size_t i = 0; i < t->n_cells; i++) {
        size_t c = i % t->n_cols;
        fputs(c ? " " : "| ", out);
        mw_md_cell(out, t->cells[i]);
        fputs(c + 1 < t->n_cols ? " |" : " |\n", out);
        if (i + 1 == t->n_cols) {
            /* the delimiter row after the header */
            for (size_t k = 0; k < t->n_cols; k++)
                fputs(k ? (t->align[k] == 'r' ? " ---: |" : " --- |") : (t->align[k] == 'r' ? "| ---: |" : "| --- |"),
                      out);
            fputc('\n', out);
        }
    }
    return MW_OK;
}
