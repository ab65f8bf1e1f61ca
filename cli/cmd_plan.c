/*
 * cmd_plan.c - `memwall plan MODEL`: predicted memory, component by
 * component, and the largest batch and context that fit. Options are
 * documented in cli/doc/plan.txt.
 */
#include "cli.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

const struct option mw_cmd_plan_options[] = {
    {"batch", required_argument, NULL, 'b'},
    {"ctx", required_argument, NULL, 'c'},
    {"prompt", required_argument, NULL, 'P'},
    {"gen", required_argument, NULL, 'g'},
    {"ubatch", required_argument, NULL, 'u'},
    {"dtype", required_argument, NULL, 'd'},
    {"kv-dtype", required_argument, NULL, 'k'},
    {"train", no_argument, NULL, 't'},
    {"optimizer", required_argument, NULL, 'O'},
    {"fp32", no_argument, NULL, 'F'},
    {"recompute", required_argument, NULL, 'R'},
    {"tp", required_argument, NULL, 'T'},
    {"pp", required_argument, NULL, 'p'},
    {"dp", required_argument, NULL, 'D'},
    {"zero", required_argument, NULL, 'z'},
    {"mem", required_argument, NULL, 'm'},
    {"json", no_argument, NULL, 'j'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static int parse_choice(const char *opt, const char *text, const char *const *names, int n, int *out)
{
    for (int i = 0; i < n; i++) {
        if (!strcmp(text, names[i])) {
            *out = i;
            return 1;
        }
    }
    char list[256] = "";
    for (int i = 0; i < n; i++) {
        strncat(list, names[i], sizeof list - strlen(list) - 1);
        if (i + 1 < n) strncat(list, ", ", sizeof list - strlen(list) - 1);
    }
    mw_cli_error("plan", "%s must be one of %s, not '%s'", opt, list, text);
    return 0;
}

/* --- weight schemes (issue #13, hub/--dtype helper) ---
 * --dtype NAME: a downloaded format (llama.cpp file type, gptq/awq int4,
 * fp8, nf4) sets o->weight_scheme and its base type (1); a plain type name
 * clears the scheme for the type parsing that follows (0); neither is a
 * usage error naming both lists (-1). */
static int plan_weight_scheme(const char *name, mw_plan_opts *o)
{
    mw_err err;
    mw_dtype t;
    if (mw_weight_scheme_parse(name, &o->weight_scheme, &err) == MW_OK) {
        o->weight_dtype = o->weight_scheme.base;
        return 1;
    }
    o->weight_scheme.kind = MW_SCHEME_NONE;
    if (!strchr(name, '-') && mw_dtype_from_name(name, &t, NULL) == MW_OK) return 0;
    if (strchr(name, '-') && (!strncasecmp(name, "gptq", 4) || !strncasecmp(name, "awq", 3)))
        mw_cli_error("plan", "--dtype: %s", err.msg);       /* a group size it cannot take */
    else
        mw_cli_error("plan", "--dtype: unknown type \"%s\" (types: f32, f16, bf16, q8_0, q4_0, "
                     "q4_k, q5_k, q6_k, iq*, f8_e4m3, ...; formats: %s)", name, mw_weight_scheme_names());
    return -1;
}

/* The plan's largest batch (its inverse questions search up to 2^24) and
 * device count of a parallel dimension. */
#define PLAN_BATCH_MAX (1u << 24)
#define PLAN_DEVICES_MAX 65536u
#define U32(opt, min, max, out) mw_cli_parse_u32("plan", opt, optarg, min, max, out)

int mw_cmd_plan(int argc, char **argv)
{
    mw_plan_opts o;
    mw_plan_opts_init(&o);
    int json = 0, c, choice;
    mw_err err;
    static const char *const optimizers[] = {"adamw", "adam", "sgd", "sgd-momentum", "adam8bit"};
    static const char *const recomputes[] = {"none", "selective", "full"};
    mw_cli_operands ops = {.max = 1};
    optind = 1;
    opterr = 0;
    while ((c = mw_cli_getopt(argc, argv, "+:b:c:d:jh", mw_cmd_plan_options, &ops)) != -1) {
        switch (c) {
        case 'b': if (!U32("--batch", 1, PLAN_BATCH_MAX, &o.batch)) return MW_EXIT_USAGE; break;
        case 'c': if (!U32("--ctx", 1, MW_CLI_TOKENS_MAX, &o.ctx)) return MW_EXIT_USAGE; break;
        case 'P': if (!U32("--prompt", 1, MW_CLI_TOKENS_MAX, &o.prompt)) return MW_EXIT_USAGE; break;
        case 'g': if (!U32("--gen", 0, MW_CLI_TOKENS_MAX, &o.gen)) return MW_EXIT_USAGE; break;
        case 'u': if (!U32("--ubatch", 1, MW_CLI_TOKENS_MAX, &o.ubatch)) return MW_EXIT_USAGE; break;
        case 'T': if (!U32("--tp", 1, PLAN_DEVICES_MAX, &o.tp)) return MW_EXIT_USAGE; break;
        case 'p': if (!U32("--pp", 1, PLAN_DEVICES_MAX, &o.pp)) return MW_EXIT_USAGE; break;
        case 'D': if (!U32("--dp", 1, PLAN_DEVICES_MAX, &o.dp)) return MW_EXIT_USAGE; break;
        case 'z': if (!U32("--zero", 0, 3, &o.zero)) return MW_EXIT_USAGE; break;
        case 'd':
        case 'k': {
            if (c == 'd') {                  /* weight schemes (issue #13), then the plain types */
                int r = plan_weight_scheme(optarg, &o);
                if (r < 0) return MW_EXIT_USAGE;
                if (r > 0) break;
            }
            mw_dtype t;
            if (mw_dtype_from_name(optarg, &t, &err) != MW_OK) {
                mw_cli_error("plan", "%s: %s", c == 'd' ? "--dtype" : "--kv-dtype", err.msg);
                return MW_EXIT_USAGE;
            }
            if (c == 'k' && t != MW_DTYPE_F32 && t != MW_DTYPE_F16 && t != MW_DTYPE_BF16 && t != MW_DTYPE_Q8_0) {
                /* the planner's KV cache types (mw_plan_compute) */
                mw_cli_error("plan", "--kv-dtype must be f32, f16, bf16 or q8_0, not '%s'", optarg);
                return MW_EXIT_USAGE;
            }
            if (c == 'd') o.weight_dtype = t;
            else o.kv_dtype = t;
            break;
        }
        case 't': o.training = 1; break;
        case 'F': o.mixed_precision = 0; break;
        case 'O':
            if (!parse_choice("--optimizer", optarg, optimizers, 5, &choice)) return MW_EXIT_USAGE;
            o.optimizer = (mw_optimizer)choice;
            break;
        case 'R':
            if (!parse_choice("--recompute", optarg, recomputes, 3, &choice)) return MW_EXIT_USAGE;
            o.recompute = (mw_recompute)choice;
            break;
        case 'm':
            if (!mw_cli_parse_size("plan", "--mem", optarg, MW_CLI_MEM_MIN, MW_CLI_SIZE_MAX, &o.mem_bytes))
                return MW_EXIT_USAGE;
            break;
        case 'j': json = 1; break;
        case 'h': fputs(mw_cli_doc_find("plan")->help, stdout); return MW_EXIT_OK;
        case ':': mw_cli_error("plan", "option '%s' needs a value", argv[optind - 1]); return MW_EXIT_USAGE;
        default: mw_cli_error("plan", "unknown option '%s'", argv[optind - 1]); return MW_EXIT_USAGE;
        }
    }
    mw_model *m = NULL;
    int code = mw_cli_open_model("plan", &ops, &m);
    if (code != MW_EXIT_OK) return code;
    /* the options bounded by the model: a wrong command line, not a failure */
    if (m->has_hparams && (o.pp > m->hp.n_layers || o.tp > m->hp.n_heads)) {
        if (o.pp > m->hp.n_layers)
            mw_cli_error("plan", "--pp %u exceeds the model's %u layers", o.pp, m->hp.n_layers);
        else
            mw_cli_error("plan", "--tp %u exceeds the model's %u attention heads", o.tp, m->hp.n_heads);
        mw_model_free(m);
        return MW_EXIT_USAGE;
    }

    /* The memory sizes to answer for: --mem, else this host's available
     * memory and each GPU's total. */
    mw_plan_target targets[9];
    size_t nt = 0;
    uint64_t mem = o.mem_bytes;
    o.mem_bytes = MW_UNKNOWN;
    mw_plan base;
    if (mw_plan_compute(m, &o, &base, &err) != MW_OK) {
        mw_cli_error(NULL, "%s", err.msg);
        code = MW_EXIT_FAILURE;
        goto out;
    }
    if (mem != MW_UNKNOWN) {
        snprintf(targets[nt].name, sizeof targets[nt].name, "--mem");
        targets[nt++].plan.opts.mem_bytes = mem;
    } else {
        mw_machine_memory mm;
        if (mw_machine_memory_read(&mm, &err) == MW_OK) {
            snprintf(targets[nt].name, sizeof targets[nt].name, "this host (available memory)");
            targets[nt++].plan.opts.mem_bytes = mm.host_available_bytes;
            for (uint32_t g = 0; g < mm.n_gpus && nt < 9; g++) {
                snprintf(targets[nt].name, sizeof targets[nt].name, "gpu %u (%s, total)", g, mm.gpus[g].name);
                targets[nt++].plan.opts.mem_bytes = mm.gpus[g].total_bytes;
            }
        }
    }
    for (size_t i = 0; i < nt; i++) {
        mw_plan_opts ot = o;
        ot.mem_bytes = targets[i].plan.opts.mem_bytes;
        if (mw_plan_compute(m, &ot, &targets[i].plan, &err) != MW_OK) {
            mw_cli_error(NULL, "%s", err.msg);
            code = MW_EXIT_FAILURE;
            goto out;
        }
    }
    /* this machine's ceilings bound the decode speed: its profile when
     * there is one (plan never measures: memwall roofline does) */
    mw_ceilings ceilings;
    const mw_ceilings *cp = !o.training && mw_cli_ceilings(0, 0, NULL, 0, &ceilings) ? &ceilings : NULL;
    mw_status st = json ? mw_plan_report_json(m, &base, targets, nt, cp, stdout, &err)
                        : mw_plan_report_text(m, &base, targets, nt, cp, stdout,
                                              mw_cli_use_color(STDOUT_FILENO) ? MW_REPORT_COLOR : 0, &err);
    if (st != MW_OK) {
        mw_cli_error(NULL, "%s", err.msg);
        code = MW_EXIT_FAILURE;
    }
out:
    mw_model_free(m);
    return code;
}
