/*
 * cmd_eval.c - `memwall eval MODEL --text-file F`: perplexity over a text,
 * and with --ref MODEL2 the KL divergence against a reference. Options are
 * documented in cli/doc/eval.txt; the method in docs/EVAL.md.
 */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

const struct option mw_cmd_eval_options[] = {
    {"text-file", required_argument, NULL, 'f'},
    {"ctx", required_argument, NULL, 'c'},
    {"chunks", required_argument, NULL, 'C'},
    {"stride", required_argument, NULL, 's'},
    {"ref", required_argument, NULL, 'r'},
    {"threads", required_argument, NULL, 't'},
    {"kv-dtype", required_argument, NULL, 'k'},
    {"json", no_argument, NULL, 'j'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

#define U32(opt, min, max, out) mw_cli_parse_u32("eval", opt, optarg, min, max, out)

/* The held-out text beside a built-in model's file (models/NAME.heldout.txt)
 * into buf. Returns the exit code of a failure (message printed): 2 when
 * model is not a built-in name (a --text-file is needed), 1 when its file
 * or text is not found; MW_EXIT_OK with buf set. */
static int builtin_heldout(const char *model, char *buf, size_t cap)
{
    const char *const *b = mw_builtin_model_names();
    while (*b && strcmp(*b, model) != 0) b++;
    if (!*b || access(model, F_OK) == 0) {
        mw_cli_error("eval", "no --text-file given: the text to compute the perplexity over (the built-in "
                     "models have their held-out text)");
        return MW_EXIT_USAGE;
    }
    mw_err err;
    if (mw_builtin_model_path(model, buf, cap, &err) != MW_OK) {
        mw_cli_error(NULL, "%s", err.msg);
        return MW_EXIT_FAILURE;
    }
    size_t n = strlen(buf);
    const char *ext = ".heldout.txt";
    if (n >= 5 && n - 5 + strlen(ext) < cap) strcpy(buf + n - 5, ext);   /* NAME.gguf -> NAME.heldout.txt */
    if (access(buf, R_OK) != 0) {
        mw_cli_error(NULL, "the held-out text of \"%s\" is not at %s: give --text-file", model, buf);
        return MW_EXIT_FAILURE;
    }
    return MW_EXIT_OK;
}

int mw_cmd_eval(int argc, char **argv)
{
    mw_eval_opts o;
    mw_eval_opts_init(&o);
    int json = 0, c;
    mw_err err;
    mw_cli_operands ops = {.max = 1};
    optind = 1;
    opterr = 0;
    while ((c = mw_cli_getopt(argc, argv, "+:f:c:t:jh", mw_cmd_eval_options, &ops)) != -1) {
        switch (c) {
        case 'f': o.text_file = optarg; break;
        case 'c': if (!U32("--ctx", 3, 1u << 20, &o.ctx)) return MW_EXIT_USAGE; break;
        case 'C': if (!U32("--chunks", 1, MW_CLI_TOKENS_MAX, &o.max_chunks)) return MW_EXIT_USAGE; break;
        case 's': if (!U32("--stride", 1, 1u << 20, &o.stride)) return MW_EXIT_USAGE; break;
        case 'r': o.ref = optarg; break;
        case 't': if (!U32("--threads", 1, MW_CLI_THREADS_MAX, &o.threads)) return MW_EXIT_USAGE; break;
        case 'k':
            if (mw_dtype_from_name(optarg, &o.kv_dtype, &err) != MW_OK) {
                mw_cli_error("eval", "--kv-dtype: %s", err.msg);
                return MW_EXIT_USAGE;
            }
            if (o.kv_dtype != MW_DTYPE_F32 && o.kv_dtype != MW_DTYPE_F16 && o.kv_dtype != MW_DTYPE_Q8_0) {
                mw_cli_error("eval", "--kv-dtype must be f32, f16 or q8_0, not '%s'", optarg);
                return MW_EXIT_USAGE;
            }
            break;
        case 'j': json = 1; break;
        case 'h': fputs(mw_cli_doc_find("eval")->help, stdout); return MW_EXIT_OK;
        case ':': mw_cli_error("eval", "option '%s' needs a value", argv[optind - 1]); return MW_EXIT_USAGE;
        default: mw_cli_error("eval", "unknown option '%s'", argv[optind - 1]); return MW_EXIT_USAGE;
        }
    }
    if (ops.n > 1) {
        mw_cli_error("eval", "unexpected '%s': give one model (a GGUF file); the reference goes in --ref", ops.v[1]);
        return MW_EXIT_USAGE;
    }
    /* the default: the built-in trained model, on its held-out text */
    const char *model = ops.n ? ops.v[0] : "tiny";
    if (o.ctx && o.stride && o.stride >= o.ctx) {
        mw_cli_error("eval", "--stride %u must be below --ctx %u (a window scores its last stride tokens)", o.stride,
                     o.ctx);
        return MW_EXIT_USAGE;
    }
    char heldout[4096];
    if (!o.text_file) {
        /* a built-in model's held-out text (models/NAME.heldout.txt) */
        int code = builtin_heldout(model, heldout, sizeof heldout);
        if (code != MW_EXIT_OK) return code;
        o.text_file = heldout;
    }
    /* Ctrl-C stops between chunks; what was measured is printed */
    mw_cli_stop_signal = 0;
    o.cancel = &mw_cli_stop_signal;
    mw_cli_catch_stop_signals(1);
    mw_eval_result *r = NULL;
    mw_status st = mw_eval(model, &o, &r, &err);
    mw_cli_catch_stop_signals(0);
    const int sig = mw_cli_stop_signal;
    if (st != MW_OK) {
        mw_cli_error(NULL, "%s", err.msg);
        return sig ? 128 + sig : MW_EXIT_FAILURE;
    }
    if (r->interrupted)
        fprintf(stderr, "memwall: stopped by %s after %u of %u chunks; the figures are over those\n",
                mw_signal_name(sig), r->chunks, r->chunks_available);
    st = json ? mw_eval_report_json(r, stdout, &err)
              : mw_eval_report_text(r, stdout, mw_cli_use_color(STDOUT_FILENO) ? MW_REPORT_COLOR : 0, &err);
    int code = st == MW_OK ? MW_EXIT_OK : MW_EXIT_FAILURE;
    if (st != MW_OK) mw_cli_error(NULL, "%s", err.msg);
    mw_eval_result_free(r);
    return sig && code == MW_EXIT_OK ? 128 + sig : code;
}
