/*
 * jsonl.h - the sweep's point format (jsonl.c, one field table): a point as
 * JSON, for the JSON Lines file (--jsonl; mw_sweep_point_jsonl and
 * mw_sweep_point_json_line in memwall.h) and for report/'s
 * "memwall.sweep/1"; and reading the file back (--resume): which lines are
 * points, and what to repair before appending. Pure: the caller reads the
 * file and truncates it (sweep.c).
 */
#ifndef MW_SWEEP_JSONL_H
#define MW_SWEEP_JSONL_H

#include "memwall.h"

struct cJSON;

/*! mw_sweep_point_to_json() : the point as a JSON object, the fields of its
 *  line in their order (report/ appends a verdict).
 *  @return the object (cJSON_Delete it), NULL when out of memory. */
struct cJSON *mw_sweep_point_to_json(const mw_sweep_point *p);

/* What a scan found beyond the points. */
typedef struct mw_jsonl_scan {
    size_t   keep_bytes;             /* the file's length to keep: through the
                                        last whole point                    */
    size_t   cut_bytes;              /* a cut last line after it (no '\n' and
                                        not a point): the bytes to truncate */
    unsigned cut_line;               /* its line number (1-based); 0: none  */
    int      add_newline;            /* the last line is a whole point without
                                        its '\n': write one before appending,
                                        or two points would share a line    */
    unsigned n_lines;                /* lines that held a point             */
} mw_jsonl_scan;

/* Called for each point in file order; a status other than MW_OK stops
 * the scan and is returned. */
typedef mw_status (*mw_jsonl_point_fn)(const mw_sweep_point *p, unsigned line, void *user, mw_err *err);

/*! mw_sweep_point_from_json() : one line (len bytes, no '\n' needed) as a
 *  point: a JSON object, and nothing after it, with a positive "batch" and a
 *  known "status". @return 1 and *p, or 0 when the line is no point. */
int mw_sweep_point_from_json(const char *line, size_t len, mw_sweep_point *p);

/*! mw_sweep_jsonl_scan() : the points in text (len bytes of a --jsonl file
 *  named path), each passed to fn. Blank lines are skipped. A last line
 *  without '\n' that is no point was cut by a kill or a full disk: it is
 *  reported in *scan (cut_bytes), not an error. Any other line that is no
 *  point is: "path:N: not a sweep point", the file is not touched.
 *  @return MW_OK, MW_ERR_INVALID, MW_ERR_NOMEM, or fn's status. */
mw_status mw_sweep_jsonl_scan(const char *text, size_t len, const char *path, mw_jsonl_point_fn fn, void *user,
                              mw_jsonl_scan *scan, mw_err *err);

/*! mw_sweep_paging_from_json() : a budget sweep's point's figures (issue
 *  #15) from the "paging" object of its `memwall run --json`: streamed
 *  layers, bytes streamed per decode step (stream_decode_bytes_per_step,
 *  else the split's streamed_bytes_per_step) and the reader's bandwidth
 *  (stream_bytes_read / stream_read_seconds). JSON null: nothing streamed;
 *  absent (NULL): left unknown. */
void mw_sweep_paging_from_json(const struct cJSON *paging, mw_sweep_point *p);

#endif /* MW_SWEEP_JSONL_H */
