/*
 * metrics_http.h - `memwall watch --metrics-port / --metrics-file` (issue
 * #16; docs/CLUSTER.md, "Prometheus metrics"): the latest sample, kept for
 * an HTTP endpoint (libmicrohttpd, when memwall was built with it) and a
 * file for node_exporter's textfile collector.
 */
#ifndef MW_CLI_METRICS_HTTP_H
#define MW_CLI_METRICS_HTTP_H

#include "memwall.h"

typedef struct mw_metrics_live mw_metrics_live;

/* The state; info's strings are copied. NULL when out of memory. */
mw_metrics_live *mw_metrics_live_new(const mw_metrics_info *info);

/* Serves GET /metrics on spec, "[ADDR:]PORT" (no ADDR: every interface;
 * "[::1]:PORT" for an IPv6 address), from now until mw_metrics_live_free.
 * @return 0, or MW_EXIT_USAGE for a spec that is no port, or
 *         MW_EXIT_WRAPPER_FAILURE when it cannot listen (the port is in
 *         use, no libmicrohttpd): msg says why. */
int mw_metrics_live_serve(mw_metrics_live *m, const char *spec, char *msg, size_t cap);

/* Writes the text to path (through path.tmp.PID and rename(2)) at most once
 * a second from now on, and at the end. */
void mw_metrics_live_file(mw_metrics_live *m, const char *path);

/* A new sample (from mw_watch_opts.on_sample): kept, copied. */
void mw_metrics_live_update(mw_metrics_live *m, const mw_sample *s);

/* The command has ended: memwall_up 0 with the last sample's values, in
 * the file (written now) and on the endpoint. */
void mw_metrics_live_end(mw_metrics_live *m);

/* Stops the server; frees everything. */
void mw_metrics_live_free(mw_metrics_live *m);

#endif /* MW_CLI_METRICS_HTTP_H */
