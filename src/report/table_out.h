/* table_out.h - a small table (a header and rows of text cells) written as
 * CSV or as a GitHub-flavoured Markdown pipe table: the pasteable outputs
 * of plan, sweep and run (--format csv|markdown, --export-*; docs/OUTPUT.md).
 *
 * CSV follows RFC 4180, section 2 (https://www.rfc-editor.org/rfc/rfc4180):
 * a cell holding a comma, a double quote, CR or LF is enclosed in double
 * quotes and its quotes doubled (rules 5 to 7); other cells are written as
 * they are; every row has the header's number of cells (rule 4). Rows end
 * in LF, as the sweep's existing CSV does (rule 1 says CRLF; Python's csv
 * module and spreadsheets read both).
 *
 * Markdown follows the GFM specification's "Tables (extension)"
 * (https://github.github.com/gfm/#tables-extension-): a header row, the
 * delimiter row (---, or ---: for a right-aligned column), then the rows; a
 * '|' in a cell is written "\|", a backslash "\\" (so that a cell's own
 * backslash cannot escape the pipe after it), and CR or LF, which would end
 * the row, become spaces. An empty cell stays empty. */
#ifndef MW_REPORT_TABLE_OUT_H
#define MW_REPORT_TABLE_OUT_H

#include "memwall.h"
#include <stdio.h>

typedef struct mw_tab {
    size_t n_cols;
    size_t n_cells;          /* header's included: row r, column c is r*n_cols+c */
    size_t cap;
    char **cells;            /* mw_malloc'd copies                           */
    char  *align;            /* n_cols of 'l' or 'r' (Markdown only)          */
    int    failed;           /* an allocation failed: the table is incomplete */
} mw_tab;

/* A table of n_cols columns (1 to 64); align: n_cols characters, 'l' or 'r'
 * per column (NULL: all left). Add the header's cells first, then each
 * row's. mw_tab_free releases it (also after a failure). */
void mw_tab_init(mw_tab *t, size_t n_cols, const char *align);
void mw_tab_free(mw_tab *t);
/* The next cell (NULL: empty). */
void mw_tab_cell(mw_tab *t, const char *s);
void mw_tab_cellf(mw_tab *t, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* A count of bytes as a cell ("" when MW_UNKNOWN). */
void mw_tab_cell_u64(mw_tab *t, uint64_t v);
/* The rows so far, header excluded. */
size_t mw_tab_rows(const mw_tab *t);

/* One cell as RFC 4180 / GFM want it (what the writers below use). */
void mw_csv_cell(FILE *out, const char *s);
void mw_md_cell(FILE *out, const char *s);

/*! mw_tab_write_csv(), mw_tab_write_markdown() : the table to out (no
 *  flush: the report's end, mw_report_end, sees a write error).
 *  @return MW_OK, MW_ERR_NOMEM when a cell could not be kept, or
 *  MW_ERR_INVALID when the last row is short (a bug: names `what`). */
mw_status mw_tab_write_csv(const mw_tab *t, FILE *out, const char *what, mw_err *err);
mw_status mw_tab_write_markdown(const mw_tab *t, FILE *out, const char *what, mw_err *err);

#endif
