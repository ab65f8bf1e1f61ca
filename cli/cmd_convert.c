/*
 * cmd_convert.c - `memwall convert IN OUT.gguf [--dtype T] [--keep T:GLOB]`
 * (a llama-family model to GGUF at another precision, src/convert/) and
 * `memwall convert --demo OUT.gguf` (the built-in demo model). Options:
 * cli/doc/convert.txt.
 */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const struct option mw_cmd_convert_options[] = {
    {"demo", no_argument, NULL, 'D'},
    {"dtype", required_argument, NULL, 'd'},
    {"keep", required_argument, NULL, 'k'},
    {"quiet", no_argument, NULL, 'q'},
    {"json", no_argument, NULL, 'J'},
    {"threads", required_argument, NULL, 't'},
    /* pruning (docs/REMEDIES.md) and sparse storage (docs/SPARSE.md) */
    {"prune", required_argument, NULL, 'P'},
    {"prune-score", required_argument, NULL, 'S'},
    {"calib", required_argument, NULL, 'C'},
    {"densify", no_argument, NULL, 'Z'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

#define MAX_KEEP 64

typedef struct bar {
    int on, drawn;
    double after;                    /* seconds before the bar shows */
} bar;

static void on_progress(const mw_convert_progress *p, void *user)
{
    bar *b = user;
    if (!b->on || p->elapsed_s < b->after) return;
    char x[32], y[32];
    fprintf(stderr, "\r\033[Kconvert: %u/%u tensors, %s/%s, %.1f s", p->done, p->total,
            mw_size_format(p->bytes_done, x, sizeof x), mw_size_format(p->bytes_total, y, sizeof y), p->elapsed_s);
    fflush(stderr);
    b->drawn = 1;
}

static void on_warn(const char *line, void *user)
{
    (void)user;
    fprintf(stderr, "memwall convert: warning: %s\n", line);
}

int mw_cmd_convert(int argc, char **argv)
{
    int demo = 0, quiet = 0, json = 0, score_given = 0, c;
    const char *dtype_name = NULL;
    mw_convert_keep keep[MAX_KEEP];
    uint32_t n_keep = 0;
    mw_convert_opts o = {0};
    mw_err err;
    mw_cli_operands ops = {.max = 2};
    optind = 1;
    opterr = 0;
    while ((c = mw_cli_getopt(argc, argv, "+:d:k:qt:h", mw_cmd_convert_options, &ops)) != -1) {
        switch (c) {
        case 'D': demo = 1; break;
        case 'd': dtype_name = optarg; break;
        case 'k': {
            const char *colon = strchr(optarg, ':');
            char tname[32];
            if (!colon || colon == optarg || !colon[1] || (size_t)(colon - optarg) >= sizeof tname) {
                mw_cli_error("convert", "--keep %s: give TYPE:PATTERN, e.g. --keep q8_0:token_embd.weight", optarg);
                return MW_EXIT_USAGE;
            }
            if (n_keep == MAX_KEEP) {
                mw_cli_error("convert", "more than %d --keep rules", MAX_KEEP);
                return MW_EXIT_USAGE;
            }
            memcpy(tname, optarg, (size_t)(colon - optarg));
            tname[colon - optarg] = '\0';
            if (mw_dtype_from_name(tname, &keep[n_keep].type, &err) != MW_OK) {
                mw_cli_error("convert", "--keep %s: %s", optarg, err.msg);
                return MW_EXIT_USAGE;
            }
            keep[n_keep++].pattern = colon + 1;
            break;
        }
        case 'q': quiet = 1; break;
        case 't':
            if (!mw_cli_parse_u32("convert", "--threads", optarg, 1, MW_CLI_THREADS_MAX, &o.threads))
                return MW_EXIT_USAGE;
            break;
        case 'J': json = 1; break;
        case 'P':
            if (!strcmp(optarg, "2:4")) {
                o.prune_kind = 2;
            } else {
                char *end;
                errno = 0;
                double r = strtod(optarg, &end);
                if (errno || end == optarg || *end || !(r > 0 && r < 1)) {
                    mw_cli_error("convert", "--prune %s: give a ratio between 0 and 1 (exclusive, e.g. 0.5) "
                                            "or 2:4", optarg);
                    return MW_EXIT_USAGE;
                }
                o.prune_kind = 1;
                o.prune_ratio = r;
            }
            break;
        case 'S':
            score_given = 1;
            if (!strcmp(optarg, "magnitude")) o.prune_score = 0;
            else if (!strcmp(optarg, "wanda")) o.prune_score = 1;
            else {
                mw_cli_error("convert", "--prune-score %s: magnitude or wanda", optarg);
                return MW_EXIT_USAGE;
            }
            break;
        case 'C': o.calib_path = optarg; break;
        case 'Z': o.densify = 1; break;
        case 'h': fputs(mw_cli_doc_find("convert")->help, stdout); return MW_EXIT_OK;
        case ':': mw_cli_error("convert", "option '%s' needs a value", argv[optind - 1]); return MW_EXIT_USAGE;
        default: mw_cli_error("convert", "unknown option '%s'", argv[optind - 1]); return MW_EXIT_USAGE;
        }
    }
    if (ops.n > 2) {
        mw_cli_error("convert", "unexpected '%s': memwall convert IN OUT.gguf", ops.v[2]);
        return MW_EXIT_USAGE;
    }
    if (demo) {
        mw_dtype dtype = MW_DTYPE_F16;
        if (ops.n > 1) {
            mw_cli_error("convert", "unexpected '%s': give one output file: memwall convert --demo OUT.gguf",
                         ops.v[1]);
            return MW_EXIT_USAGE;
        }
        if (ops.n != 1) {
            mw_cli_error("convert", "give one output file: memwall convert --demo OUT.gguf");
            return MW_EXIT_USAGE;
        }
        if (n_keep || json || o.threads || o.prune_kind || o.calib_path || o.densify || score_given) {
            mw_cli_error("convert", "--demo takes only --dtype (convert the written file for more)");
            return MW_EXIT_USAGE;
        }
        if (dtype_name && mw_dtype_from_name(dtype_name, &dtype, &err) != MW_OK) {
            mw_cli_error("convert", "--dtype: %s", err.msg);
            return MW_EXIT_USAGE;
        }
        if (mw_demo_write(ops.v[0], dtype, &err) != MW_OK) {
            mw_cli_error(NULL, "%s", err.msg);
            return MW_EXIT_FAILURE;
        }
        return MW_EXIT_OK;
    }
    if (ops.n != 2) {
        mw_cli_error("convert", "give the model and the output file: memwall convert IN OUT.gguf "
                                "(or --demo OUT.gguf)");
        return MW_EXIT_USAGE;
    }
    if (!o.prune_kind && (o.calib_path || score_given)) {
        mw_cli_error("convert", "--prune-score and --calib go with --prune R|2:4");
        return MW_EXIT_USAGE;
    }
    if (o.calib_path && o.prune_score != 1) {
        mw_cli_error("convert", "--calib is Wanda's calibration text: add --prune-score wanda");
        return MW_EXIT_USAGE;
    }
    if (o.prune_score == 1 && !o.calib_path) {
        mw_cli_error("convert", "--prune-score wanda needs calibration text: --calib FILE");
        return MW_EXIT_USAGE;
    }
    if (o.calib_path && access(o.calib_path, R_OK) != 0) {
        mw_cli_error("convert", "--calib %s: %s", o.calib_path, strerror(errno));
        return MW_EXIT_USAGE;
    }
    if (dtype_name) {
        mw_weight_scheme ws;
        mw_dtype t;
        if (mw_weight_scheme_parse(dtype_name, &ws, NULL) != MW_OK &&
            mw_dtype_from_name(dtype_name, &t, NULL) != MW_OK) {
            mw_cli_error("convert", "--dtype %s: not a type (f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, q4_k, "
                                    "q5_k, q6_k) nor a llama.cpp file type (q4_k_m, q5_k_m, q4_k_s, q5_k_s, "
                                    "q6_k, q8_0, ...)", dtype_name);
            return MW_EXIT_USAGE;
        }
    }
    /* the bar: on a terminal, for conversions past a second
     * (MEMWALL_PROGRESS_AFTER=SECONDS: tests/cli/convert_prune.sh draws it
     * for tiny's 0.1 s conversions) */
    bar b = {!quiet && isatty(STDERR_FILENO), 0, 1.0};
    const char *after = getenv("MEMWALL_PROGRESS_AFTER");
    if (after && *after) b.after = strtod(after, NULL);
    o.in = ops.v[0];
    o.out = ops.v[1];
    o.dtype = dtype_name;
    o.keep = keep;
    o.n_keep = n_keep;
    o.progress = on_progress;
    o.progress_user = &b;
    o.warn = on_warn;
    mw_convert_result r;
    mw_status st = mw_convert(&o, &r, &err);
    if (b.drawn) fputc('\n', stderr);
    if (st != MW_OK) {
        mw_cli_error(NULL, "%s", err.msg);
        return MW_EXIT_FAILURE;
    }
    if (quiet && !json) return MW_EXIT_OK;
    st = json ? mw_convert_report_json(&r, stdout, &err) : mw_convert_report_text(&r, stdout, &err);
    if (st != MW_OK) {
        mw_cli_error(NULL, "%s", err.msg);
        return MW_EXIT_FAILURE;
    }
    return MW_EXIT_OK;
}
