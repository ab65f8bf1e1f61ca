/*
 * cmd_sweep.c - `memwall sweep [MODEL] [-- CMD ... {batch} ...]`: the
 * batch-size experiment, or with --contexts the context-length one. Options
 * are documented in cli/doc/sweep.txt.
 */
#include "cli.h"

#include <errno.h>
#include <limits.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* budget sweeps (issue #15): long options only, after the output ones */
enum { OPT_BUDGETS = 0x300, OPT_PREFETCH };
/* issue #16: points as Slurm jobs (docs/CLUSTER.md) */
enum { OPT_LAUNCHER = 0x400, OPT_PARTITION, OPT_SBATCH_ARG, OPT_SPOOL, OPT_PARALLEL, OPT_QUEUE_TIMEOUT };

const struct option mw_cmd_sweep_options[] = {
    {"batches", required_argument, NULL, 'B'},
    {"max-batch", required_argument, NULL, 'X'},
    {"contexts", required_argument, NULL, 'K'},
    {"batch", required_argument, NULL, 'b'},
    {"max-ctx", required_argument, NULL, 'Y'},
    {"runs", required_argument, NULL, 'r'},
    {"prompt", required_argument, NULL, 'p'},
    {"gen", required_argument, NULL, 'n'},
    {"ctx", required_argument, NULL, 'c'},
    {"threads", required_argument, NULL, 't'},
    {"mem-limit", required_argument, NULL, 'm'},
    {"swap-limit", required_argument, NULL, 'S'},
    {"timeout", required_argument, NULL, 'T'},
    {"items-per-run", required_argument, NULL, 'I'},
    {"metric", required_argument, NULL, 'M'},
    {"jsonl", required_argument, NULL, 'L'},
    {"resume", no_argument, NULL, 'R'},
    {"warmup", required_argument, NULL, 'U'},
    {"evict", required_argument, NULL, 'E'},
    {"keep-cache", no_argument, NULL, 'k'},
    {"what-if", required_argument, NULL, 'W'},
    {"json", no_argument, NULL, 'j'},
    {"csv", no_argument, NULL, 'C'},
    {"svg", required_argument, NULL, 'G'},
    {"refresh", no_argument, NULL, 'F'},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},
    /* output formats and exports (issue #13, cli.h) */
    MW_CLI_OUTPUT_OPTIONS,
    /* budget sweeps (issue #15, docs/PAGING.md) */
    {"budgets", required_argument, NULL, OPT_BUDGETS},
    {"prefetch", required_argument, NULL, OPT_PREFETCH},
    /* points as Slurm jobs (issue #16, docs/CLUSTER.md) */
    {"launcher", required_argument, NULL, OPT_LAUNCHER},
    {"partition", required_argument, NULL, OPT_PARTITION},
    {"sbatch-arg", required_argument, NULL, OPT_SBATCH_ARG},
    {"spool", required_argument, NULL, OPT_SPOOL},
    {"parallel", required_argument, NULL, OPT_PARALLEL},
    {"queue-timeout", required_argument, NULL, OPT_QUEUE_TIMEOUT},
    {NULL, 0, NULL, 0},
};


/* SIGINT, SIGTERM and SIGHUP stop the sweep (mw_cli_stop_signal): between
 * points through mw_sweep_opts.cancel, while one runs through
 * mw_watch_run's own signalfd, which ends the point's tree. Either way the
 * report of what was measured is printed, and memwall exits with 128 + the
 * signal. */

/* What the progress lines need: whether to draw them, and the axis. */
typedef struct progress {
    int on;
    mw_sweep_axis axis;
} progress;

/* The live line while a point runs (a terminal only): redrawn in place. */
static void on_progress(uint32_t x, uint32_t run, const mw_sample *s, void *user)
{
    static double next;
    const progress *pr = user;
    if (!pr->on) return;
    if (s->t_seconds < next && s->t_seconds > 0.05) return;
    next = s->t_seconds + 0.2; /* 5 redraws a second at most */
    char a[32];
    fprintf(stderr, "\r\033[Kmemwall sweep: %s %u, run %u: %.1f s, rss %s", mw_sweep_axis_name(pr->axis), x, run,
            s->t_seconds, mw_size_format(s->cgroup_bytes != MW_UNKNOWN ? s->cgroup_bytes : s->rss_bytes, a, sizeof a));
    fflush(stderr);
}

static void on_point(const mw_sweep_point *p, void *user)
{
    const progress *pr = user;
    if (!pr->on) return;
    fputs("\r\033[K", stderr);
    char a[32];
    fprintf(stderr, "memwall sweep: %s %-6u %-8s peak %-10s", mw_sweep_axis_name(pr->axis),
            mw_sweep_point_x(p, pr->axis), mw_point_status_name(p->status),
            mw_size_format(mw_sweep_point_memory(p), a, sizeof a));
    if (p->throughput >= 0) fprintf(stderr, " %.1f/s", p->throughput);
    fprintf(stderr, "\n");
}

/* "auto" (*list NULL, *n 0) or a comma-separated list of up to 256 positive
 * numbers, kept in buf. */
static int parse_list(const char *arg, const char *opt, const char *example, uint32_t *buf,
                      const uint32_t **list, size_t *n)
{
    *n = 0;
    *list = NULL;
    if (!strcmp(arg, "auto")) return 1;
    for (const char *s = arg; *s;) {
        char *end;
        errno = 0;
        long v = strtol(s, &end, 10);
        if (end == s || errno || v < 1 || v > INT32_MAX || *n == 256 || (*end && *end != ',') ||
            (*end == ',' && !end[1])) {
            mw_cli_error("sweep", "%s takes \"auto\" or a list of up to 256 numbers such as %s, not '%s'", opt,
                         example, arg);
            return 0;
        }
        buf[(*n)++] = (uint32_t)v;
        s = *end ? end + 1 : end;
    }
    *list = buf;
    return 1;
}

/* The options mw_sweep_run would refuse that the command line alone decides
 * (a wrong command line exits 2, not 1), with the library's messages.
 * Prints the error; 0 when one is wrong. */
static int check_command_options(const mw_sweep_opts *o)
{
    if (o->metric_regex) {
        regex_t re;
        if (regcomp(&re, o->metric_regex, REG_EXTENDED | REG_NEWLINE) != 0) {
            mw_cli_error("sweep", "--metric \"%s\" is not a valid extended regular expression", o->metric_regex);
            return 0;
        }
        size_t groups = re.re_nsub;
        regfree(&re);
        if (groups < 1) {
            mw_cli_error("sweep", "--metric \"%s\" needs a group around the number, e.g. \"([0-9.]+) it/s\"",
                         o->metric_regex);
            return 0;
        }
    }
    if (o->resume && !o->jsonl_path) {
        mw_cli_error("sweep", "--resume continues the sweep in a --jsonl file: give one");
        return 0;
    }
    for (size_t i = 0; !o->cmd && o->axis == MW_SWEEP_CTX && i < o->n_contexts; i++) {
        if (o->contexts[i] < (uint64_t)o->prompt + o->gen) {
            mw_cli_error("sweep", "--contexts: context %u cannot hold the prompt and the generation (%u + %u "
                         "tokens): give longer contexts, or a shorter --prompt or --gen", o->contexts[i],
                         o->prompt, o->gen);
            return 0;
        }
    }
    /* auto contexts start at the first multiple of 256 (the sweep's step,
     * sweep.txt) that holds the engine's prompt and generation */
    uint64_t first = ((uint64_t)o->prompt + o->gen + 255) / 256 * 256;
    if (!o->cmd && o->axis == MW_SWEEP_CTX && !o->n_contexts && o->max_ctx && first > o->max_ctx) {
        mw_cli_error("sweep", "--max-ctx %u is below the first context to try (%llu, for %u prompt + %u "
                     "generated tokens in steps of 256): give a larger --max-ctx", o->max_ctx,
                     (unsigned long long)first, o->prompt, o->gen);
        return 0;
    }
    return 1;
}

/* Runs (and warm-up runs) per point: the sweep keeps at most 64. */
#define RUNS_MAX 64u
#define U32(opt, min, max, out) mw_cli_parse_u32("sweep", opt, optarg, min, max, out)
#define SIZE(opt, min, out) mw_cli_parse_size("sweep", opt, optarg, min, MW_CLI_SIZE_MAX, out)

/* The command line, parsed: the sweep's options and the CLI's own. */
typedef struct sweep_cli {
    mw_sweep_opts o;
    const char *svg;                 /* --svg FILE, or NULL */
    int quiet;
    mw_cli_outputs outs;             /* --format (--json, --csv), --export-* */
    int refresh;                     /* --refresh: measure this machine's
                                        ceilings again first */
    /* options given (the demo's defaults and the axes' checks need them) */
    int mem_given, ctx_given, runs_given;
    int batches_given, max_batch_given, batch_given, max_ctx_given;
    /* budget sweeps (issue #15) */
    int contexts_given, prefetch_given, what_if_given;
    /* issue #16: Slurm options given without --launcher slurm */
    const char *slurm_only;
} sweep_cli;

/* Parses the options into cl, the operands into ops. @return -1 to go on,
 * or the exit code (0 after --help, 2 for a wrong command line). */
static int parse_options(int argc, char **argv, sweep_cli *cl, mw_cli_operands *ops)
{
    mw_sweep_opts *o = &cl->o;
    static uint32_t batches[256], contexts[256];
    static const char *evict[32];
    int c;
    optind = 1;
    opterr = 0;
    while ((c = mw_cli_getopt(argc, argv, "+:p:n:c:t:m:r:jqh", mw_cmd_sweep_options, ops)) != -1) {
        switch (c) {
        case 'B':
            cl->batches_given = 1;
            if (!parse_list(optarg, "--batches", "1,2,4,8", batches, &o->batches, &o->n_batches)) return MW_EXIT_USAGE;
            break;
        case 'K':
            cl->contexts_given = 1;
            if (o->axis != MW_SWEEP_BUDGET) o->axis = MW_SWEEP_CTX;
            if (!parse_list(optarg, "--contexts", "512,1024,2048", contexts, &o->contexts, &o->n_contexts))
                return MW_EXIT_USAGE;
            break;
        case 'X':
            if (!U32("--max-batch", 1, INT32_MAX, &o->max_batch)) return MW_EXIT_USAGE;
            cl->max_batch_given = 1;
            break;
        case 'b':
            if (!U32("--batch", 1, INT32_MAX, &o->batch)) return MW_EXIT_USAGE;
            cl->batch_given = 1;
            break;
        case 'Y':
            if (!U32("--max-ctx", 1, MW_CLI_TOKENS_MAX, &o->max_ctx)) return MW_EXIT_USAGE;
            cl->max_ctx_given = 1;
            break;
        case 'r': if (!U32("--runs", 1, RUNS_MAX, &o->runs)) return MW_EXIT_USAGE; cl->runs_given = 1; break;
        case 'p': if (!U32("--prompt", 1, MW_CLI_TOKENS_MAX, &o->prompt)) return MW_EXIT_USAGE; break;
        case 'n': if (!U32("--gen", 0, MW_CLI_TOKENS_MAX, &o->gen)) return MW_EXIT_USAGE; break;
        case 'c': if (!U32("--ctx", 1, MW_CLI_TOKENS_MAX, &o->ctx)) return MW_EXIT_USAGE; cl->ctx_given = 1; break;
        case 't': if (!U32("--threads", 1, MW_CLI_THREADS_MAX, &o->threads)) return MW_EXIT_USAGE; break;
        case 'm':
            if (!SIZE("--mem-limit", MW_CLI_MEM_MIN, &o->mem_limit_bytes)) return MW_EXIT_USAGE;
            cl->mem_given = 1;
            break;
        case 'S':
            if (!strcmp(optarg, "max")) o->swap_limit_bytes = MW_UNLIMITED;
            else if (!SIZE("--swap-limit", 0, &o->swap_limit_bytes)) return MW_EXIT_USAGE;
            break;
        case 'T':
            if (!mw_cli_parse_duration("sweep", "--timeout", optarg, 0.001, 7 * 24 * 3600.0, &o->timeout_seconds))
                return MW_EXIT_USAGE;
            break;
        case 'I': {
            char *end;
            o->items_per_run = strtod(optarg, &end);
            if (*end || end == optarg || !(o->items_per_run > 0 && o->items_per_run <= 1e15)) {
                mw_cli_error("sweep", "--items-per-run needs a positive number up to 1e15, not '%s'", optarg);
                return MW_EXIT_USAGE;
            }
            break;
        }
        case 'M': o->metric_regex = optarg; break;
        case 'L': o->jsonl_path = optarg; break;
        case 'R': o->resume = 1; break;
        case 'U': if (!U32("--warmup", 0, RUNS_MAX, &o->warmup)) return MW_EXIT_USAGE; break;
        case 'E':
            if (o->n_evict_files == sizeof evict / sizeof evict[0]) {
                mw_cli_error("sweep", "--evict: at most %zu files", sizeof evict / sizeof evict[0]);
                return MW_EXIT_USAGE;
            }
            evict[o->n_evict_files++] = optarg;
            o->evict_files = evict;
            break;
        case 'k': o->keep_page_cache = 1; break;
        case 'W': {
            static uint64_t sizes[16];
            cl->what_if_given = 1;
            o->n_what_if = 0;
            char buf[512];
            snprintf(buf, sizeof buf, "%s", optarg);
            for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
                if (o->n_what_if == 16) {
                    mw_cli_error("sweep", "--what-if takes up to 16 sizes such as 8G,16G: too many");
                    return MW_EXIT_USAGE;
                }
                if (!mw_cli_parse_size("sweep", "--what-if", tok, MW_CLI_MEM_MIN, MW_CLI_SIZE_MAX,
                                       &sizes[o->n_what_if]))
                    return MW_EXIT_USAGE;
                o->n_what_if++;
            }
            o->what_if = sizes;
            break;
        }
        case 'j': if (!mw_cli_outputs_alias("sweep", &cl->outs, MW_CLI_FORMAT_JSON, "--json")) return MW_EXIT_USAGE; break;
        case 'C': if (!mw_cli_outputs_alias("sweep", &cl->outs, MW_CLI_FORMAT_CSV, "--csv")) return MW_EXIT_USAGE; break;
        case 'G': cl->svg = optarg; break;
        case 'q': cl->quiet = 1; break;
        case 'F': cl->refresh = 1; break;
        case 'h': fputs(mw_cli_doc_find("sweep")->help, stdout); return MW_EXIT_OK;
        /* output formats and exports (issue #13) */
        case MW_CLI_OPT_FORMAT:
        case MW_CLI_OPT_EXPORT_JSON:
        case MW_CLI_OPT_EXPORT_CSV:
        case MW_CLI_OPT_EXPORT_MARKDOWN:
            if (mw_cli_outputs_option("sweep", &cl->outs, c, optarg) < 0) return MW_EXIT_USAGE;
            break;
        /* budget sweeps (issue #15) */
        case OPT_BUDGETS: {
            static mw_sweep_budget budgets[256];
            mw_err err;
            if (mw_sweep_budgets_parse(optarg, budgets, 256, &o->n_budgets, &err) != MW_OK) {
                mw_cli_error("sweep", "%s", err.msg);
                return MW_EXIT_USAGE;
            }
            o->budgets = budgets;
            o->axis = MW_SWEEP_BUDGET;
            break;
        }
        case OPT_PREFETCH:
            if (!U32("--prefetch", 1, 64, &o->prefetch_layers)) return MW_EXIT_USAGE;
            cl->prefetch_given = 1;
            break;
        /* points as Slurm jobs (issue #16) */
        case OPT_LAUNCHER:
            if (!strcmp(optarg, "local")) o->launcher = MW_LAUNCH_LOCAL;
            else if (!strcmp(optarg, "slurm")) o->launcher = MW_LAUNCH_SLURM;
            else {
                mw_cli_error("sweep", "--launcher takes local or slurm, not '%s'", optarg);
                return MW_EXIT_USAGE;
            }
            break;
        case OPT_PARTITION: o->slurm_partition = optarg; cl->slurm_only = "--partition"; break;
        case OPT_SBATCH_ARG: {
            static const char *sargs[33];
            static size_t nsargs;
            if (nsargs == 32) {
                mw_cli_error("sweep", "--sbatch-arg: at most 32");
                return MW_EXIT_USAGE;
            }
            sargs[nsargs++] = optarg;
            sargs[nsargs] = NULL;
            o->sbatch_args = sargs;
            cl->slurm_only = "--sbatch-arg";
            break;
        }
        case OPT_SPOOL: o->spool_dir = optarg; cl->slurm_only = "--spool"; break;
        case OPT_PARALLEL:
            if (!U32("--parallel", 1, 64, &o->parallel)) return MW_EXIT_USAGE;
            cl->slurm_only = "--parallel";
            break;
        case OPT_QUEUE_TIMEOUT:
            if (!mw_cli_parse_duration("sweep", "--queue-timeout", optarg, 1, 7 * 24 * 3600.0,
                                       &o->queue_timeout_seconds))
                return MW_EXIT_USAGE;
            cl->slurm_only = "--queue-timeout";
            break;
        case ':': mw_cli_error("sweep", "option '%s' needs a value", argv[optind - 1]); return MW_EXIT_USAGE;
        default: mw_cli_error("sweep", "unknown option '%s'", argv[optind - 1]); return MW_EXIT_USAGE;
        }
    }
    return -1;
}

/* [MODEL] [-- CMD ...], options before and after MODEL. Prints the error;
 * 0 when the operands are wrong. */
static int take_operands(int argc, char **argv, const mw_cli_operands *ops, mw_sweep_opts *o)
{
    if (ops->n > 1) {
        mw_cli_error("sweep", "unexpected '%s': give the command after -- (memwall sweep -- CMD {batch})", ops->v[1]);
        return 0;
    }
    if (ops->n == 1) o->model = ops->v[0];
    if (ops->dashdash) {
        if (optind >= argc) {
            mw_cli_error("sweep", "no command after --");
            return 0;
        }
        if (ops->n == 1) {
            mw_cli_error("sweep", "give a model or a command after --, not both");
            return 0;
        }
        o->cmd = (const char *const *)(argv + optind);
    }
    return 1;
}

/* The two axes: each option belongs to one. Prints the error; 0 when one
 * is given for the other axis. */
static int check_axis_options(const sweep_cli *cl)
{
    const char *wrong = NULL;
    if (cl->o.axis == MW_SWEEP_BUDGET) { /* issue #15: one axis, the engine's */
        wrong = cl->batches_given ? "--batches" : cl->max_batch_given ? "--max-batch"
              : cl->contexts_given ? "--contexts" : cl->max_ctx_given ? "--max-ctx"
              : cl->mem_given ? "--mem-limit" : cl->what_if_given ? "--what-if" : NULL;
        if (wrong) {
            mw_cli_error("sweep", "%s does not go with --budgets: a budget sweep varies the budget alone, at a "
                         "fixed --batch N (and --ctx), each point capped at its budget plus the plan's KV cache "
                         "and activations", wrong);
            return 0;
        }
        if (cl->o.cmd) {
            mw_cli_error("sweep", "--budgets runs memwall's engine (run --mem-budget): give a GGUF model, not a "
                         "command after --");
            return 0;
        }
        return 1;
    }
    if (cl->prefetch_given) {
        mw_cli_error("sweep", "--prefetch is for a budget sweep: add --budgets LIST");
        return 0;
    }
    if (cl->o.axis == MW_SWEEP_CTX) {
        wrong = cl->batches_given ? "--batches" : cl->max_batch_given ? "--max-batch" : cl->ctx_given ? "--ctx" : NULL;
        if (wrong) {
            mw_cli_error("sweep", "%s is for a batch sweep; with --contexts, the batch is fixed by --batch N", wrong);
            return 0;
        }
    } else {
        wrong = cl->batch_given ? "--batch" : cl->max_ctx_given ? "--max-ctx" : NULL;
        if (wrong) {
            mw_cli_error("sweep", "%s is for a context sweep: add --contexts auto (or a list), or sweep batches "
                         "with --batches", wrong);
            return 0;
        }
    }
    return 1;
}

/* What was not given: the demonstration's settings, the safety cap, and
 * the memwall that runs the engine's points. */
static void fill_defaults(sweep_cli *cl, int model_given)
{
    mw_sweep_opts *o = &cl->o;
    if (!model_given && !o->cmd) {
        /* the demonstration: a context long enough that every sequence's KV
         * cache counts (6 MiB each), a cap of about 2.7x the weights, and 3
         * runs a point for steady medians, so bandwidth, compute and capacity
         * all show within a minute (docs/SWEEP.md) */
        if (!cl->ctx_given && o->axis == MW_SWEEP_BATCH) o->ctx = 512;
        if (!cl->runs_given) o->runs = 3;
        if (!cl->mem_given) { o->mem_limit_bytes = 512ull << 20; cl->mem_given = 1; }
    }
    if (!cl->mem_given && o->launcher == MW_LAUNCH_SLURM) {
        /* issue #16: this machine's memory says nothing of a node's: no
         * --mem (the partition's default) unless --mem-limit is given */
        o->mem_limit_bytes = MW_UNLIMITED;
        cl->mem_given = 1;
    }
    if (!cl->mem_given) {
        /* a safety cap below what is available: the host never goes OOM */
        mw_machine_memory mm;
        if (mw_machine_memory_read(&mm, NULL) == MW_OK) o->mem_limit_bytes = mm.host_available_bytes / 5 * 4;
    }
    if (!o->cmd || o->launcher == MW_LAUNCH_SLURM) { /* a Slurm job's node runs `memwall watch` (issue #16) */
        static char self[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
        /* the points run this very program: its path, or the link itself */
        if (n > 0) { self[n] = '\0'; o->memwall_path = self; }
        else o->memwall_path = "/proc/self/exe";
    }
}

/* The sweep's reports, for mw_cli_outputs_write (--format, --export-*). */
static mw_status render_sweep(mw_cli_format f, FILE *out, int color, void *user, mw_err *err)
{
    const mw_sweep_result *r = user;
    switch (f) {
    case MW_CLI_FORMAT_JSON: return mw_sweep_report_json(r, out, err);
    case MW_CLI_FORMAT_CSV: return mw_sweep_report_csv(r, out, err);
    case MW_CLI_FORMAT_MARKDOWN: return mw_sweep_report_markdown(r, out, err);
    default: return mw_sweep_report_text(r, out, color ? MW_REPORT_COLOR : 0, err);
    }
}

/* The chart (--svg) and the report on stdout. @return the exit code so far. */
static int write_reports(const mw_sweep_result *r, const sweep_cli *cl)
{
    int code = MW_EXIT_OK;
    mw_err err;
    if (cl->svg) {
        FILE *f = fopen(cl->svg, "we");
        if (!f || mw_sweep_report_svg(r, f, &err) != MW_OK) {
            mw_cli_error(NULL, "cannot write the chart %s: %s", cl->svg, f ? err.msg : strerror(errno));
            code = MW_EXIT_FAILURE;
        }
        if (f && fclose(f) != 0) code = MW_EXIT_FAILURE;
    }
    /* standard output in --format, then each --export-* (cli.h): an
     * export that fails loses nothing measured */
    if (mw_cli_outputs_write(&cl->outs, render_sweep, (void *)r) != MW_EXIT_OK) code = MW_EXIT_FAILURE;
    return code;
}

/* A sweep stopped early, said after the report (which holds what was
 * measured). @return the exit code, given the code so far. */
static int report_early_stop(const mw_sweep_result *r, const mw_sweep_opts *o, int code)
{
    if (r->stopped.status != MW_OK) {
        mw_cli_error(NULL, "%s", r->stopped.msg);
        return MW_EXIT_FAILURE;
    }
    if (!r->interrupted_signal) return code;
    size_t measured = 0;
    for (size_t k = 0; k < r->n_points; k++) measured += r->points[k].status != MW_POINT_INTERRUPTED;
    if (o->jsonl_path)
        mw_cli_error(NULL, "sweep interrupted by %s after %zu points: run the same command with --resume to "
                     "measure the rest (%s keeps those measured)", mw_signal_name(r->interrupted_signal),
                     measured, o->jsonl_path);
    else
        mw_cli_error(NULL, "sweep interrupted by %s after %zu points (give --jsonl FILE to be able to resume)",
                     mw_signal_name(r->interrupted_signal), measured);
    return code == MW_EXIT_OK ? 128 + r->interrupted_signal : code;
}

int mw_cmd_sweep(int argc, char **argv)
{
    sweep_cli cl;
    memset(&cl, 0, sizeof cl);
    mw_sweep_opts_init(&cl.o);
    mw_sweep_opts *o = &cl.o;
    mw_cli_operands ops = {.max = 1, .command_after_dashdash = 1};
    int code = parse_options(argc, argv, &cl, &ops);
    if (code >= 0) return code;
    if (!take_operands(argc, argv, &ops, o) || !check_axis_options(&cl) || !check_command_options(o))
        return MW_EXIT_USAGE;
    if (cl.slurm_only && o->launcher != MW_LAUNCH_SLURM) { /* issue #16 */
        mw_cli_error("sweep", "%s is for points run as Slurm jobs: add --launcher slurm --spool DIR", cl.slurm_only);
        return MW_EXIT_USAGE;
    }
    if (o->launcher == MW_LAUNCH_SLURM && !o->spool_dir) {
        mw_cli_error("sweep", "--launcher slurm needs --spool DIR: a directory the nodes share, for the jobs' "
                     "scripts and reports");
        return MW_EXIT_USAGE;
    }
    if (o->axis == MW_SWEEP_BUDGET && (ops.n == 0 || !strcmp(o->model, MW_DEMO_MODEL))) {
        mw_cli_error("sweep", "--budgets streams weights from a GGUF file: give one (memwall sweep MODEL --budgets "
                     "25%%,50%%,100%%; the built-in demo has none)");
        return MW_EXIT_USAGE;
    }
    /* an export must not replace what the sweep reads or writes (issue #13) */
    if (mw_cli_outputs_clash("sweep", &cl.outs, "MODEL", o->model) ||
        mw_cli_outputs_clash("sweep", &cl.outs, "--jsonl", o->jsonl_path) ||
        mw_cli_outputs_clash("sweep", &cl.outs, "--svg", cl.svg))
        return MW_EXIT_USAGE;
    fill_defaults(&cl, ops.n == 1);

    progress pr = {!cl.quiet && isatty(STDERR_FILENO), o->axis}; /* a live table on a terminal only */
    o->on_point = on_point;
    o->on_progress = on_progress;
    o->on_point_user = &pr;
    mw_cli_stop_signal = 0;
    o->cancel = &mw_cli_stop_signal;
    mw_cli_catch_stop_signals(1);
    /* this machine's ceilings, which the verdicts are judged against: an
     * engine sweep measures them once when there is no profile; a command
     * sweep uses the profile when there is one (docs/ROOFLINE.md) */
    mw_ceilings ceilings;
    int model_ok = 1;
    if (!o->cmd && o->model && strcmp(o->model, MW_DEMO_MODEL) != 0) {
        /* a model that cannot be read is said at once, not after a
         * measurement: mw_sweep_run reports it */
        mw_model *m = NULL;
        model_ok = mw_model_open(o->model, &m, NULL) == MW_OK;
        mw_model_free(m);
    }
    if (mw_cli_ceilings(!o->cmd && model_ok, cl.refresh && model_ok, &mw_cli_stop_signal, 0, &ceilings))
        o->ceilings = &ceilings;
    if (mw_cli_stop_signal) return 128 + mw_cli_stop_signal;
    mw_sweep_result *r = NULL;
    mw_err err;
    if (mw_sweep_run(o, &r, &err) != MW_OK) {
        mw_cli_error(NULL, "%s", err.msg);
        return mw_cli_stop_signal ? 128 + mw_cli_stop_signal : MW_EXIT_FAILURE;
    }
    if (r->resume_note[0]) mw_cli_error(NULL, "sweep --resume: %s", r->resume_note);
    code = write_reports(r, &cl);
    code = report_early_stop(r, o, code);
    mw_sweep_result_free(r);
    return code;
}
