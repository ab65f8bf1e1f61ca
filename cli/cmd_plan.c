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

/* long-only options: attention and runtimes (issue #13) */
enum { OPT_FLASH_ATTN = 0x1301, OPT_RUNTIME };

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
    /* attention and runtimes (issue #13) */
    {"flash-attn", required_argument, NULL, OPT_FLASH_ATTN},
    {"runtime", required_argument, NULL, OPT_RUNTIME},
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

/* The plan's largest batch (its inverse questions search up to 2^24) and
 * device count of a parallel dimension. */
#define PLAN_BATCH_MAX (1u << 24)
#define PLAN_DEVICES_MAX 65536u
#define U32(opt, min, max, out) mw_cli_parse_u32("plan", opt, optarg, min, max, out)

int mw_cmd_plan(int argc, char **argv)
{
    mw_plan_opts o;
    mw_plan_opts_init(&o);
    int json = 0, c, choice, ubatch_given = 0;
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
        case 'u': if (!U32("--ubatch", 1, MW_CLI_TOKENS_MAX, &o.ubatch)) return MW_EXIT_USAGE; ubatch_given = 1; break;
        case 'T': if (!U32("--tp", 1, PLAN_DEVICES_MAX, &o.tp)) return MW_EXIT_USAGE; break;
        case 'p': if (!U32("--pp", 1, PLAN_DEVICES_MAX, &o.pp)) return MW_EXIT_USAGE; break;
        case 'D': if (!U32("--dp", 1, PLAN_DEVICES_MAX, &o.dp)) return MW_EXIT_USAGE; break;
        case 'z': if (!U32("--zero", 0, 3, &o.zero)) return MW_EXIT_USAGE; break;
        case 'd':
        case 'k': {
            mw_dtype t;
            /* vLLM's --kv-cache-dtype names (issue #13): fp8 is E4M3 */
            if (c == 'k' && (!strcasecmp(optarg, "fp8") || !strcasecmp(optarg, "fp8_e4m3"))) t = MW_DTYPE_F8_E4M3;
            else if (c == 'k' && !strcasecmp(optarg, "fp8_e5m2")) t = MW_DTYPE_F8_E5M2;
            else if (mw_dtype_from_name(optarg, &t, &err) != MW_OK) {
                mw_cli_error("plan", "%s: %s", c == 'd' ? "--dtype" : "--kv-dtype", err.msg);
                return MW_EXIT_USAGE;
            }
            /* the KV cache types the runtime offers: checked after the options */
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
        /* attention and runtimes (issue #13) */
        case OPT_FLASH_ATTN: {
            static const char *const onoff[] = {"off", "on"};
            if (!parse_choice("--flash-attn", optarg, onoff, 2, &choice)) return MW_EXIT_USAGE;
            o.flash_attn = choice ? MW_FLASH_ATTN_ON : MW_FLASH_ATTN_OFF;
            break;
        }
        case OPT_RUNTIME:
            if (mw_runtime_from_name(optarg, &o.runtime, &err) != MW_OK) {
                mw_cli_error("plan", "--runtime: %s", err.msg);
                return MW_EXIT_USAGE;
            }
            break;
        case 'h': fputs(mw_cli_doc_find("plan")->help, stdout); return MW_EXIT_OK;
        case ':': mw_cli_error("plan", "option '%s' needs a value", argv[optind - 1]); return MW_EXIT_USAGE;
        default: mw_cli_error("plan", "unknown option '%s'", argv[optind - 1]); return MW_EXIT_USAGE;
        }
    }
    /* attention and runtimes (issue #13): the runtime's own step unless
     * --ubatch says; its KV types and attention agree, or it is a usage error */
    if (!ubatch_given && o.runtime != MW_RUNTIME_MEMWALL) o.ubatch = 0;
    if (mw_plan_check_runtime(&o, &err) != MW_OK) {
        mw_cli_error("plan", "%s", err.msg);
        return MW_EXIT_USAGE;
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
