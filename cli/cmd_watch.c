/*
 * cmd_watch.c - `memwall watch`: run a command (or attach to a PID) and
 * report its memory. Options are documented in cli/doc/watch.txt.
 */
#include "cli.h"
#include "metrics_http.h" /* issue #16: Prometheus */

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const struct option mw_cmd_watch_options[] = {
    {"interval", required_argument, NULL, 'i'},
    {"pid", required_argument, NULL, 'p'},
    {"mem-limit", required_argument, NULL, 'm'},
    {"swap-limit", required_argument, NULL, 'S'},
    {"pss", no_argument, NULL, 'P'},
    {"no-gpu", no_argument, NULL, 'G'},
    {"timeline", required_argument, NULL, 't'},
    {"timeline-format", required_argument, NULL, 'F'},
    {"json", no_argument, NULL, 'j'},
    {"output", required_argument, NULL, 'o'},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},
    /* issue #16: Prometheus (cli/metrics_http.c) */
    {"metrics-port", required_argument, NULL, 0x1601},
    {"metrics-file", required_argument, NULL, 0x1602},
    {NULL, 0, NULL, 0},
};

/* Per-sample work of the CLI: the timeline file and the status line. */
typedef struct live {
    mw_timeline *timeline;
    int timeline_failed;
    int status_line;       /* draw on stderr (a terminal, not --quiet) */
    int color;             /* stderr may take colour (mw_cli_use_color) */
    double next_draw;
    uint64_t peak_rss;
    uint64_t peak_gpu;
    mw_metrics_live *metrics;  /* issue #16: --metrics-port/--metrics-file */
} live;

/* issue #16: the labels of --metrics-port/--metrics-file: the command's
 * name (argv[0]'s basename, or --pid's /proc/PID/comm), this host, and
 * memwall's own rank (`srun memwall watch`); the server listens from here
 * on, before the command starts. @return 0 or the exit code. */
static int metrics_start(live *lv, const char *cmd0, pid_t pid, const char *port, const char *file)
{
    char comm[64] = "", host[256] = "";
    if (cmd0) {
        const char *slash = strrchr(cmd0, '/');
        snprintf(comm, sizeof comm, "%s", slash ? slash + 1 : cmd0);
    } else {
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/comm", (int)pid);
        FILE *f = fopen(path, "re");
        if (f) {
            if (fgets(comm, sizeof comm, f)) comm[strcspn(comm, "\n")] = '\0';
            fclose(f);
        }
    }
    if (gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
    mw_metrics_info info = {comm, host, MW_RANK_NONE, 1};
    int32_t local_rank;
    mw_rank_from_environ(NULL, 0, &info.rank, &local_rank);
    lv->metrics = mw_metrics_live_new(&info);
    if (!lv->metrics) {
        mw_cli_error(NULL, "out of memory preparing the metrics");
        return MW_EXIT_WRAPPER_FAILURE;
    }
    if (file) mw_metrics_live_file(lv->metrics, file);
    char msg[512];
    if (port && mw_metrics_live_serve(lv->metrics, port, msg, sizeof msg) != 0) {
        mw_cli_error(NULL, "%s", msg);
        mw_metrics_live_free(lv->metrics);
        lv->metrics = NULL;
        return MW_EXIT_WRAPPER_FAILURE;
    }
    return 0;
}

static void on_sample(const mw_sample *s, void *user)
{
    live *lv = user;
    if (lv->metrics) mw_metrics_live_update(lv->metrics, s); /* issue #16 */
    if (lv->timeline && !lv->timeline_failed) {
        mw_err err;
        if (mw_timeline_write(lv->timeline, s, &err) != MW_OK) {
            lv->timeline_failed = 1;
            fprintf(stderr, "\r\033[Kmemwall: %s; the timeline stops here, the run goes on\n", err.msg);
        }
    }
    if (s->rss_bytes > lv->peak_rss) lv->peak_rss = s->rss_bytes;
    if (s->gpu_bytes != MW_UNKNOWN && (lv->peak_gpu == MW_UNKNOWN || s->gpu_bytes > lv->peak_gpu))
        lv->peak_gpu = s->gpu_bytes;
    if (!lv->status_line || s->t_seconds < lv->next_draw) return;
    lv->next_draw = s->t_seconds + 0.2; /* 5 redraws a second at most */
    char cur[32], peak[32], gpu[32];
    /* \r and erase-line redraw in place (a terminal only); dim only with colour */
    fprintf(stderr, "\r\033[K%smemwall%s %7.1f s  rss %s (peak %s)  procs %u",
            lv->color ? "\033[2m" : "", lv->color ? "\033[0m" : "", s->t_seconds, mw_size_format(s->rss_bytes, cur, sizeof cur),
            mw_size_format(lv->peak_rss, peak, sizeof peak), s->processes);
    if (s->gpu_bytes != MW_UNKNOWN)
        fprintf(stderr, "  gpu %s", mw_size_format(s->gpu_bytes, gpu, sizeof gpu));
    fflush(stderr);
}

static int usage_error(const char *msg, const char *arg)
{
    mw_cli_error("watch", msg, arg);
    return MW_EXIT_WRAPPER_FAILURE;
}

/* --- issue #16: -o and --timeline templates, so `srun memwall watch -o
 * 'run-%r.json'` writes one file per rank (docs/CLUSTER.md) ---
 * %r the rank memwall's own environment gives it, %l its local rank, %h
 * this host's name, %p memwall's PID, %% a percent sign. A rank that is not
 * there is an error: a template must not write every rank to one file.
 * Returns 0 (and says why) on a usage error. */
static int expand_template(const char *opt, const char *tmpl, char *out, size_t cap)
{
    int32_t rank, local;
    mw_rank_from_environ(NULL, 0, &rank, &local);
    size_t o = 0;
    for (const char *c = tmpl; *c; c++) {
        char piece[300];
        if (*c != '%') {
            piece[0] = *c;
            piece[1] = '\0';
        } else {
            switch (c[1]) {
            case 'r':
            case 'l': {
                int32_t v = c[1] == 'r' ? rank : local;
                if (v == MW_RANK_NONE) {
                    mw_cli_error("watch", "%s '%s' has %%%c, but memwall's environment gives it no %s: none of %s is "
                                 "set to a number (run memwall under the launcher, e.g. `srun memwall watch ...`)",
                                 opt, tmpl, c[1], c[1] == 'r' ? "rank" : "local rank",
                                 c[1] == 'r' ? "RANK, OMPI_COMM_WORLD_RANK, PMIX_RANK, PMI_RANK, SLURM_PROCID"
                                             : "LOCAL_RANK, OMPI_COMM_WORLD_LOCAL_RANK, MPI_LOCALRANKID, "
                                               "SLURM_LOCALID");
                    return 0;
                }
                snprintf(piece, sizeof piece, "%d", (int)v);
                break;
            }
            case 'h': {
                char host[256];
                if (gethostname(host, sizeof host) != 0) snprintf(host, sizeof host, "unknown-host");
                host[sizeof host - 1] = '\0';
                for (char *h = host; *h; h++) /* a name, never a path */
                    if (*h == '/') *h = '_';
                snprintf(piece, sizeof piece, "%s", host);
                break;
            }
            case 'p': snprintf(piece, sizeof piece, "%d", (int)getpid()); break;
            case '%': snprintf(piece, sizeof piece, "%%"); break;
            default:
                mw_cli_error("watch", "%s '%s': unknown '%%%.1s' (a template knows %%r rank, %%l local rank, %%h host, "
                             "%%p PID and %%%% for a percent sign)", opt, tmpl, c[1] ? c + 1 : "");
                return 0;
            }
            c++;
        }
        size_t pl = strlen(piece);
        if (o + pl >= cap) {
            mw_cli_error("watch", "%s '%s' is too long once expanded", opt, tmpl);
            return 0;
        }
        memcpy(out + o, piece, pl + 1);
        o += pl;
    }
    out[o] = '\0';
    return 1;
}

int mw_cmd_watch(int argc, char **argv)
{
    mw_watch_opts opts;
    mw_watch_opts_init(&opts);
    const char *timeline_path = NULL, *output_path = NULL;
    const char *metrics_port = NULL, *metrics_file = NULL; /* issue #16 */
    int json = 0, quiet = 0, format = -1;
    mw_err err;

    optind = 1;
    opterr = 0;
    int c, cur = optind;
    /* '+': stop at the first non-option, which starts CMD. `cur` is the
     * argument getopt is in (a cluster like -qZ keeps optind on itself until
     * its last letter), so errors can name what was written. */
    while ((c = getopt_long(argc, argv, "+:i:p:m:t:jo:qh", mw_cmd_watch_options, NULL)) != -1) {
        const char *arg = argv[cur];
        cur = optind;
        switch (c) {
        case 'i':
            /* 1 ms to 1 hour: a finer tick is all overhead, a coarser one
             * sees nothing (and a huge one overflowed ppoll's timespec) */
            if (!mw_cli_parse_duration("watch", "--interval", optarg, 0.001, 3600, &opts.interval_seconds))
                return MW_EXIT_WRAPPER_FAILURE;
            break;
        case 'p': {
            char *end;
            errno = 0;
            long v = strtol(optarg, &end, 10);
            if (errno || *end || v <= 0 || v > INT_MAX)
                return usage_error("--pid needs a process ID (a positive number), not '%s'", optarg);
            opts.attach_pid = (pid_t)v;
            break;
        }
        case 'm':
            if (!mw_cli_parse_size("watch", "--mem-limit", optarg, MW_CLI_MEM_MIN, MW_CLI_SIZE_MAX,
                                   &opts.mem_limit_bytes))
                return MW_EXIT_WRAPPER_FAILURE;
            break;
        case 'S':
            if (!strcmp(optarg, "max")) opts.swap_limit_bytes = MW_UNLIMITED;
            else if (!mw_cli_parse_size("watch", "--swap-limit", optarg, 0, MW_CLI_SIZE_MAX, &opts.swap_limit_bytes))
                return MW_EXIT_WRAPPER_FAILURE;
            break;
        case 'P': opts.pss = 1; break;
        case 'G': opts.gpu = 0; break;
        case 't': timeline_path = optarg; break;
        case 'F':
            if (!strcmp(optarg, "csv")) format = MW_TIMELINE_CSV;
            else if (!strcmp(optarg, "jsonl")) format = MW_TIMELINE_JSONL;
            else return usage_error("--timeline-format must be csv or jsonl, not '%s'", optarg);
            break;
        case 'j': json = 1; break;
        case 'o': output_path = optarg; break;
        case 'q': quiet = 1; break;
        case 'h': fputs(mw_cli_doc_find("watch")->help, stdout); return MW_EXIT_OK;
        case 0x1601: metrics_port = optarg; break; /* issue #16 */
        case 0x1602: metrics_file = optarg; break;
        default: {
            /* ':' (no value) or '?': name the option as "--name" (without
             * any "=value") or "-x" (optopt, even inside a cluster). */
            char opt[64];
            int is_long = !strncmp(arg, "--", 2);
            if (is_long) snprintf(opt, sizeof opt, "%.*s", (int)strcspn(arg, "="), arg);
            else snprintf(opt, sizeof opt, "-%c", optopt);
            if (c == ':') return usage_error("option '%s' needs a value", opt);
            if (is_long && optopt && strchr(arg, '='))
                return usage_error("option '%s' takes no value", opt);
            return usage_error("unknown option '%s'", opt);
        }
        }
    }
    char **cmd = argv + optind;
    int has_cmd = optind < argc;
    if (has_cmd && opts.attach_pid > 0) {
        mw_cli_error("watch", "give a command (%s) or --pid %d, not both", argv[optind],
                     (int)opts.attach_pid);
        return MW_EXIT_WRAPPER_FAILURE;
    }
    if (!has_cmd && opts.attach_pid <= 0)
        return usage_error("%s", "nothing to watch: give a command (memwall watch -- CMD) or --pid PID");
    if (opts.attach_pid > 0 && opts.mem_limit_bytes != MW_UNLIMITED)
        return usage_error("%s", "--mem-limit starts the command in a cgroup; it cannot cap --pid");
    /* issue #16: %r, %l, %h, %p in -o and --timeline */
    static char output_buf[PATH_MAX], timeline_buf[PATH_MAX];
    if (output_path && strcmp(output_path, "-") != 0) {
        if (!expand_template("-o", output_path, output_buf, sizeof output_buf)) return MW_EXIT_WRAPPER_FAILURE;
        output_path = output_buf;
    }
    if (timeline_path) {
        if (!expand_template("--timeline", timeline_path, timeline_buf, sizeof timeline_buf))
            return MW_EXIT_WRAPPER_FAILURE;
        timeline_path = timeline_buf;
    }

    FILE *out = stderr;
    if (output_path && strcmp(output_path, "-") != 0) {
        out = fopen(output_path, "we");
        if (!out) {
            mw_cli_error(NULL, "cannot create %s: %s", output_path, strerror(errno));
            return MW_EXIT_WRAPPER_FAILURE;
        }
    } else if (output_path) {
        out = stdout;
    }

    live lv = {0};
    lv.peak_gpu = MW_UNKNOWN;
    lv.status_line = !quiet && isatty(STDERR_FILENO);
    lv.color = mw_cli_use_color(STDERR_FILENO);
    if (timeline_path) {
        mw_timeline_format f = format >= 0 ? (mw_timeline_format)format
                                           : mw_timeline_format_for_path(timeline_path);
        if (mw_timeline_open(timeline_path, f, &lv.timeline, &err) != MW_OK) {
            mw_cli_error(NULL, "%s", err.msg);
            if (out != stderr && out != stdout) fclose(out);
            return MW_EXIT_WRAPPER_FAILURE;
        }
    }
    /* issue #16: the metrics server listens before the command starts */
    if ((metrics_port || metrics_file) &&
        metrics_start(&lv, has_cmd ? cmd[0] : NULL, opts.attach_pid, metrics_port, metrics_file) != 0) {
        mw_timeline_close(lv.timeline);
        if (out != stderr && out != stdout) fclose(out);
        return MW_EXIT_WRAPPER_FAILURE;
    }
    opts.on_sample = on_sample;
    opts.on_sample_user = &lv;

    mw_watch_result *res = NULL;
    mw_status st = mw_watch_run(has_cmd ? (const char *const *)cmd : NULL, &opts, &res, &err);
    if (lv.status_line) fputs("\r\033[K", stderr);
    mw_timeline_close(lv.timeline);
    if (lv.metrics) mw_metrics_live_end(lv.metrics); /* issue #16: memwall_up 0 */

    int code;
    if (st == MW_OK) {
        code = res->status_code;
        unsigned flags = mw_cli_use_color(fileno(out)) ? MW_REPORT_COLOR : 0;
        mw_status rst = json ? mw_watch_report_json(res, out, &err) : mw_watch_report_text(res, out, flags, &err);
        if (rst != MW_OK) {
            mw_cli_error(NULL, "%s", err.msg);
            if (code == 0) code = MW_EXIT_WRAPPER_FAILURE;
        }
    } else if (st == MW_ERR_SPAWN) {
        mw_cli_error(NULL, "%s", err.msg);
        code = res && res->status_code > 0 ? res->status_code : MW_EXIT_CANNOT_EXECUTE;
        /* A report file asked for is written all the same (status_code 126
         * or 127), so a script reading it is not left with an empty file. */
        if (res && out != stderr) {
            mw_err rerr;
            mw_status rst = json ? mw_watch_report_json(res, out, &rerr) : mw_watch_report_text(res, out, 0, &rerr);
            if (rst != MW_OK) mw_cli_error(NULL, "%s", rerr.msg);
        }
    } else {
        mw_cli_error(NULL, "%s", err.msg);
        code = MW_EXIT_WRAPPER_FAILURE;
    }
    mw_watch_result_free(res);
    mw_metrics_live_free(lv.metrics); /* issue #16: the server stops */
    if (out != stderr && out != stdout && fclose(out) != 0) {
        mw_cli_error(NULL, "cannot write %s: %s", output_path, strerror(errno));
        if (code == 0) code = MW_EXIT_WRAPPER_FAILURE;
    }
    return code;
}
