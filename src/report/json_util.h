/* json_util.h - helpers shared by every report: JSON values (null for
 * unknown), writing a document, and the end of a text report. */
#ifndef MW_REPORT_JSON_UTIL_H
#define MW_REPORT_JSON_UTIL_H

#include "memwall.h"
#include "common/json.h"
#include <cjson/cJSON.h>
#include <stdio.h>

/* Adds v, or null when v is MW_UNKNOWN. */
void mw_json_add_u64(cJSON *o, const char *key, uint64_t v);
/* Adds v, or null when !known. */
void mw_json_add_int_or_null(cJSON *o, const char *key, long long v, int known);
/* Adds seconds, or null when negative (unknown). */
void mw_json_add_seconds(cJSON *o, const char *key, double v);

/* The hyperparameters as an object's keys (inspect and plan share them). */
void mw_json_add_hparams(cJSON *o, const mw_hparams *hp);
/* issue #15: a budget split's figures, the same keys in run's and plan's
 * "paging" objects (docs/JSON.md): budget_bytes, n_layers,
 * resident_layers, streamed_layers, always_bytes, resident_layer_bytes,
 * slots, slot_bytes, resident_bytes, min_budget_bytes,
 * streamed_bytes_per_step */
void mw_json_add_budget_split(cJSON *o, const mw_budget_split *s);

/*! mw_json_write() :
 *  Prints doc (indented when formatted, else on one line), frees it (doc may
 *  be NULL: an allocation failed while it was built), writes the text and a
 *  newline to out, and flushes. `what` names the report in the message;
 *  mark is mw_json_mark() (common/json.h) taken before doc was built: a
 *  document built while an allocation failed is refused (MW_ERR_NOMEM).
 *  @return MW_OK, MW_ERR_NOMEM, or MW_ERR_IO when the stream fails. */
mw_status mw_json_write(cJSON *doc, FILE *out, int formatted, const char *what, uint64_t mark, mw_err *err);

/*! mw_report_end() :
 *  The end of a text report: flushes out, so that a full disk or a closed
 *  pipe is seen here and not at exit, and checks the stream's error flag.
 *  @return MW_OK, or MW_ERR_IO naming `what`. */
mw_status mw_report_end(FILE *out, const char *what, mw_err *err);

#endif
