/* roofline_doc.h - the "memwall.roofline/1" document, built once for the
 * JSON report (roofline_report.c) and for this machine's profile, which is
 * that document with the machine's key and the date (profile_file.c). */
#ifndef MW_REPORT_ROOFLINE_DOC_H
#define MW_REPORT_ROOFLINE_DOC_H

#include "memwall.h"
#include <cjson/cJSON.h>

/*! mw_roofline_json_doc() : the document (cJSON_Delete it), or NULL when
 *  its first allocation failed; a key dropped by a later failure shows as a
 *  moved mw_json_mark() (common/json.h), which the caller checks. */
cJSON *mw_roofline_json_doc(const mw_roofline_result *r);

#endif
