/*
 * cmd_run.c - `memwall run [MODEL]`: the built-in engine on a GGUF file or
 * the demo model. Options are documented in cli/doc/run.txt.
 */
#include "cli.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const struct option mw_cmd_run_options[] = {
    {"batch", required_argument, NULL, 'b'},
    {"prompt", required_argument, NULL, 'p'},
    {"gen", required_argument, NULL, 'n'},
    {"ctx", required_argument, NULL, 'c'},
    {"threads", required_argument, NULL, 't'},
    {"seed", required_argument, NULL, 'S'},
    {"tokens", required_argument, NULL, 'T'},
    {"text", required_argument, NULL, 'x'},
    {"text-file", required_argument, NULL, 'X'},
    {"ignore-eos", no_argument, NULL, 'E'},
    {"logits", required_argument, NULL, 'L'},
    {"kv-dtype", required_argument, NULL, 'k'},
    {"no-mmap", no_argument, NULL, 'M'},
    {"mlock", no_argument, NULL, 'l'},
    {"force", no_argument, NULL, 'f'},
    {"refresh", no_argument, NULL, 'F'},
    {"json", no_argument, NULL, 'j'},
    {"help", no_argument, NULL, 'h'},
    /* output formats and exports (issue #13, cli.h) */
    MW_CLI_OUTPUT_OPTIONS,
    /* paging under a memory budget (issue #15, docs/PAGING.md) */
    {"mem-budget", required_argument, NULL, 'G'},
    {"prefetch", required_argument, NULL, 'P'},
    {"stream-io", required_argument, NULL, 'I'},
    {NULL, 0, NULL, 0},
};

/* "1,2,3;4,5" -> sequences of token ids. Returns 0 (message printed) on a
 * malformed list. */
typedef struct token_lists {
    uint32_t n;
    int32_t *seqs[4096];
    uint32_t lens[4096];
} token_lists;

static int parse_tokens(const char *text, token_lists *tl)
{
    tl->n = 0;
    const char *p = text;
    while (*p) {
        if (tl->n == 4096) {
            mw_cli_error("run", "--tokens: more than 4096 sequences");
            return 0;
        }
        size_t cap = 16, len = 0;
        int32_t *ids = malloc(cap * sizeof *ids);
        if (!ids) return 0;
        for (;;) {
            char *end;
            errno = 0;
            long v = strtol(p, &end, 10);
            if (end == p || errno || v < 0 || v > INT32_MAX) {
                mw_cli_error("run", "--tokens: expected a token id at \"%.20s\" (give \"1,2,3\" or \"1,2;3,4\")", p);
                free(ids);
                return 0;
            }
            if (len == cap) {
                int32_t *n2 = realloc(ids, (cap *= 2) * sizeof *ids);
                if (!n2) { free(ids); return 0; }
                ids = n2;
            }
            ids[len++] = (int32_t)v;
            p = end;
            if (*p == ',') { p++; continue; }
            break;
        }
        tl->seqs[tl->n] = ids;
        tl->lens[tl->n++] = (uint32_t)len;
        if (*p == ';') { p++; continue; }
        if (*p) {
            mw_cli_error("run", "--tokens: unexpected \"%.20s\"", p);
            return 0;
        }
    }
    if (tl->n == 0) mw_cli_error("run", "--tokens: no token ids given");
    return tl->n > 0;
}

static int write_logits(const char *path, const mw_run_result *r)
{
    FILE *f = fopen(path, "wbe");
    if (!f) {
        mw_cli_error(NULL, "cannot create %s: %s", path, strerror(errno));
        return 0;
    }
    /* little-endian f32 on every machine memwall builds for (x86-64, arm64) */
    size_t n = (size_t)r->batch * r->n_vocab;
    int ok = fwrite(r->logits, sizeof(float), n, f) == n;
    ok = fclose(f) == 0 && ok;
    if (!ok) mw_cli_error(NULL, "cannot write %s", path);
    return ok;
}

/* The workload's options against each other (mw_run checks them too, but
 * a wrong command line exits 2): --batch beside --tokens, and a --ctx that
 * holds the prompt and the generation. Prints the error; 0 when wrong. */
static int check_shape(const mw_run_opts *o)
{
    if (o->n_seqs && o->batch && o->batch != o->n_seqs) {
        mw_cli_error("run", "--batch %u but %u prompts given in --tokens: give one or the other", o->batch,
                     o->n_seqs);
        return 0;
    }
    if (o->text) return 1;   /* its length is known once tokenized (mw_run checks) */
    uint32_t longest = o->prompt;
    if (o->n_seqs) {
        longest = 0;
        for (uint32_t s = 0; s < o->n_seqs; s++)
            if (o->n_tokens[s] > longest) longest = o->n_tokens[s];
    }
    if (o->ctx && (uint64_t)longest + o->gen > o->ctx) {
        mw_cli_error("run", "--ctx %u is too small for a prompt of %u and %u generated tokens", o->ctx, longest,
                     o->gen);
        return 0;
    }
    return 1;
}

/* Streaming the generated text of sequence 0 to a terminal as it comes. */
static int stream_text(void *user, uint32_t seq, const char *piece, size_t len)
{
    (void)user;
    if (seq == 0) {
        mw_cli_write_model_text(stdout, piece, len);
        fflush(stdout);
    }
    return 0;
}

/* The prompt and sequence 0's generated text, as a terminal would have
 * shown them streamed; the other sequences had the same prompt. */
static void print_text(const mw_run_result *r, const char *prompt, size_t prompt_len, int streamed)
{
    if (!streamed) {
        fwrite(prompt, 1, prompt_len, stdout);
        if (r->texts && r->texts[0]) mw_cli_write_model_text(stdout, r->texts[0], strlen(r->texts[0]));
    }
    fputs("\n", stdout);
    if (r->batch > 1) printf("(the same text for each of the %u sequences: one shown)\n", r->batch);
    printf("\n");
}

/* The text prompt of --text / --text-file. Returns the exit code of a
 * failure (message printed), or MW_EXIT_OK. */
static int take_text(const char *text, const char *text_file, mw_run_opts *o, char **owned)
{
    *owned = NULL;
    if (text && text_file) {
        mw_cli_error("run", "--text and --text-file both given: give one");
        return MW_EXIT_USAGE;
    }
    if (text) {
        o->text = text;
        o->text_len = strlen(text);
    } else if (text_file) {
        size_t len;
        if (!mw_cli_read_file("run", "--text-file", text_file, (size_t)64 << 20, owned, &len))
            return MW_EXIT_FAILURE;
        o->text = *owned;
        o->text_len = len;
    } else {
        return MW_EXIT_OK;
    }
    if (o->n_seqs) {
        mw_cli_error("run", "--tokens and a text prompt both given: give one");
        return MW_EXIT_USAGE;
    }
    return MW_EXIT_OK;
}

/* The run's reports, for mw_cli_outputs_write (--format, --export-*). */
typedef struct run_out {
    const mw_run_result *r;
    const mw_ceilings *ceilings;
} run_out;

static mw_status render_run(mw_cli_format f, FILE *out, int color, void *user, mw_err *err)
{
    const run_out *p = user;
    switch (f) {
    case MW_CLI_FORMAT_JSON: return mw_run_report_json(p->r, p->ceilings, out, err);
    case MW_CLI_FORMAT_CSV: return mw_run_report_csv(p->r, out, err);
    case MW_CLI_FORMAT_MARKDOWN: return mw_run_report_markdown(p->r, out, err);
    default: return mw_run_report_text(p->r, p->ceilings, out, color ? MW_REPORT_COLOR : 0, err);
    }
}

#define U32(opt, min, max, out) mw_cli_parse_u32("run", opt, optarg, min, max, out)

int mw_cmd_run(int argc, char **argv)
{
    mw_run_opts o;
    mw_run_opts_init(&o);
    mw_cli_outputs outs = {0};
    int force = 0, refresh = 0, ignore_eos = 0, c;
    const char *logits = NULL, *tokens = NULL, *text = NULL, *text_file = NULL;
    char *text_owned = NULL;
    mw_err err;
    mw_cli_operands ops = {.max = 1};
    optind = 1;
    opterr = 0;
    while ((c = mw_cli_getopt(argc, argv, "+:b:p:n:c:t:jh", mw_cmd_run_options, &ops)) != -1) {
        switch (c) {
        case 'b': if (!U32("--batch", 1, MW_CLI_BATCH_MAX, &o.batch)) return MW_EXIT_USAGE; break;
        case 'p': if (!U32("--prompt", 1, MW_CLI_TOKENS_MAX, &o.prompt)) return MW_EXIT_USAGE; break;
        case 'n': if (!U32("--gen", 0, MW_CLI_TOKENS_MAX, &o.gen)) return MW_EXIT_USAGE; break;
        case 'c': if (!U32("--ctx", 1, MW_CLI_TOKENS_MAX, &o.ctx)) return MW_EXIT_USAGE; break;
        case 't': if (!U32("--threads", 1, MW_CLI_THREADS_MAX, &o.threads)) return MW_EXIT_USAGE; break;
        case 'S': {
            char *end;
            errno = 0;
            o.seed = strtoull(optarg, &end, 10);
            if (errno || *end || optarg[0] < '0' || optarg[0] > '9') {
                mw_cli_error("run", "--seed needs a whole number, not '%s'", optarg);
                return MW_EXIT_USAGE;
            }
            break;
        }
        case 'T': tokens = optarg; break;
        case 'x': text = optarg; break;
        case 'X': text_file = optarg; break;
        case 'E': ignore_eos = 1; break;
        case 'L': logits = optarg; break;
        case 'k':
            if (mw_dtype_from_name(optarg, &o.kv_dtype, &err) != MW_OK) {
                mw_cli_error("run", "--kv-dtype: %s", err.msg);
                return MW_EXIT_USAGE;
            }
            if (o.kv_dtype != MW_DTYPE_F32 && o.kv_dtype != MW_DTYPE_F16 && o.kv_dtype != MW_DTYPE_Q8_0) {
                /* the engine's KV cache types (mw_kv_cache_init) */
                mw_cli_error("run", "--kv-dtype must be f32, f16 or q8_0, not '%s'", optarg);
                return MW_EXIT_USAGE;
            }
            break;
        case 'M': o.no_mmap = 1; break;
        case 'l': o.mlock = 1; break;
        case 'f': force = 1; break;
        case 'F': refresh = 1; break;
        case 'j': if (!mw_cli_outputs_alias("run", &outs, MW_CLI_FORMAT_JSON, "--json")) return MW_EXIT_USAGE; break;
        case 'h': fputs(mw_cli_doc_find("run")->help, stdout); return MW_EXIT_OK;
        /* output formats and exports (issue #13) */
        case MW_CLI_OPT_FORMAT:
        case MW_CLI_OPT_EXPORT_JSON:
        case MW_CLI_OPT_EXPORT_CSV:
        case MW_CLI_OPT_EXPORT_MARKDOWN:
            if (mw_cli_outputs_option("run", &outs, c, optarg) < 0) return MW_EXIT_USAGE;
            break;
        /* paging under a memory budget (issue #15) */
        case 'G':
            if (!mw_cli_parse_size("run", "--mem-budget", optarg, 1, UINT64_MAX - 1, &o.mem_budget_bytes))
                return MW_EXIT_USAGE;
            break;
        case 'P': if (!U32("--prefetch", 1, 64, &o.prefetch_layers)) return MW_EXIT_USAGE; break;
        case 'I':
            if (!strcmp(optarg, "auto")) o.stream_io = MW_STREAM_IO_AUTO;
            else if (!strcmp(optarg, "buffered")) o.stream_io = MW_STREAM_IO_BUFFERED;
            else if (!strcmp(optarg, "direct")) o.stream_io = MW_STREAM_IO_DIRECT;
            else {
                mw_cli_error("run", "--stream-io must be auto, buffered or direct, not '%s'", optarg);
                return MW_EXIT_USAGE;
            }
            break;
        case ':': mw_cli_error("run", "option '%s' needs a value", argv[optind - 1]); return MW_EXIT_USAGE;
        default: mw_cli_error("run", "unknown option '%s'", argv[optind - 1]); return MW_EXIT_USAGE;
        }
    }
    if (ops.n > 1) {
        mw_cli_error("run", "unexpected '%s': give one model at most (a GGUF file, or \"demo\")", ops.v[1]);
        return MW_EXIT_USAGE;
    }
    const char *model = ops.n ? ops.v[0] : MW_DEMO_MODEL;
    /* an export must not replace what the run reads or writes (issue #13) */
    if (mw_cli_outputs_clash("run", &outs, "MODEL", ops.n ? ops.v[0] : NULL) ||
        mw_cli_outputs_clash("run", &outs, "--logits", logits) ||
        mw_cli_outputs_clash("run", &outs, "--text-file", text_file))
        return MW_EXIT_USAGE;
    static token_lists tl;
    int code = MW_EXIT_OK;
    if (tokens) {
        if (!parse_tokens(tokens, &tl)) {
            code = MW_EXIT_USAGE;
            goto out;
        }
        o.n_seqs = tl.n;
        o.tokens = (const int32_t *const *)tl.seqs;
        o.n_tokens = tl.lens;
    }
    if ((code = take_text(text, text_file, &o, &text_owned)) != MW_EXIT_OK) goto out;
    if (ignore_eos && !o.text) {
        mw_cli_error("run", "--ignore-eos goes with --text or --text-file");
        code = MW_EXIT_USAGE;
        goto out;
    }
    /* issue #15: --prefetch and --stream-io go with --mem-budget */
    if (o.mem_budget_bytes == MW_UNKNOWN && (o.prefetch_layers || o.stream_io != MW_STREAM_IO_AUTO)) {
        mw_cli_error("run", "--prefetch and --stream-io go with --mem-budget SIZE");
        code = MW_EXIT_USAGE;
        goto out;
    }
    if (!check_shape(&o)) {
        code = MW_EXIT_USAGE;
        goto out;
    }
    /* text: stop at EOS (unless --ignore-eos), stream to a terminal */
    int streamed = 0;
    if (o.text) {
        o.stop_token = ignore_eos ? -1 : MW_RUN_STOP_EOS;
        if (outs.format == MW_CLI_FORMAT_TABLE && isatty(STDOUT_FILENO) && o.batch <= 1) {
            streamed = 1;
            o.on_text = stream_text;
            fwrite(o.text, 1, o.text_len, stdout);
            fflush(stdout);
        }
    }
    if (!force) {
        /* refuse what cannot fit (mw_run checks the plan before allocating):
         * the host's available memory, or our memory cgroup's limit when
         * lower; unknown: no check */
        mw_machine_memory mm;
        if (mw_machine_memory_read(&mm, NULL) == MW_OK && mm.host_available_bytes > 0)
            o.mem_available_bytes = mm.host_available_bytes;
    }
    /* the ceilings the decode step is judged against: this machine's
     * profile when there is one, read after the run (under a sweep, its
     * point's memory and time are the run's); measured only with
     * --refresh, before the run, so that the two do not share the CPUs */
    mw_ceilings ceilings;
    int have_ceilings = refresh ? mw_cli_ceilings(1, 1, NULL, 0, &ceilings) : 0;
    mw_run_result *r = NULL;
    if (mw_run(model, &o, &r, &err) != MW_OK) {
        if (streamed) fputs("\n", stdout);
        mw_cli_error(NULL, "%s", err.msg);
        code = MW_EXIT_FAILURE;
    } else {
        /* the text goes with the table only: the other formats parse */
        if (o.text && outs.format == MW_CLI_FORMAT_TABLE) print_text(r, o.text, o.text_len, streamed);
        if (!refresh) have_ceilings = mw_cli_ceilings(0, 0, NULL, 0, &ceilings);
        if (logits && !write_logits(logits, r)) code = MW_EXIT_FAILURE;
        const mw_ceilings *cp = have_ceilings ? &ceilings : NULL;
        /* standard output in --format, then each --export-* (cli.h) */
        run_out ro = {r, cp};
        if (mw_cli_outputs_write(&outs, render_run, &ro) != MW_EXIT_OK) code = MW_EXIT_FAILURE;
    }
    mw_run_result_free(r);
out:
    free(text_owned);
    for (uint32_t i = 0; i < tl.n; i++) free(tl.seqs[i]);
    tl.n = 0;
    return code;
}
