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

/* long-only options of the GPU block (values past any letter) */
enum { OPT_GPU = 1001, OPT_GPU_LAYERS, OPT_HOST_BW };
#define PLAN_GPUS_MAX 8
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
    /* LoRA / QLoRA fine-tuning (long options only) */
    {"lora", required_argument, NULL, 0x4c01},
    {"lora-targets", required_argument, NULL, 0x4c02},
    {"qlora", no_argument, NULL, 0x4c03},
    {"lora-dtype", required_argument, NULL, 0x4c04},
    /* GPUs by name and offload splits (docs/PLAN.md) */
    {"gpu", required_argument, NULL, OPT_GPU},
    {"gpu-layers", required_argument, NULL, OPT_GPU_LAYERS},
    {"host-bw", required_argument, NULL, OPT_HOST_BW},
    /* output formats and exports (issue #13, cli.h) */
    MW_CLI_OUTPUT_OPTIONS,
    /* attention and runtimes (issue #13) */
    {"flash-attn", required_argument, NULL, OPT_FLASH_ATTN},
    {"runtime", required_argument, NULL, OPT_RUNTIME},
    /* paging under a memory budget (issue #15, docs/PAGING.md) */
    {"mem-budget", required_argument, NULL, 0x5001},
    {"prefetch", required_argument, NULL, 0x5002},
    {"stream-bw", required_argument, NULL, 0x5003},
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

/* The plan's reports, for mw_cli_outputs_write (--format, --export-*). */
typedef struct plan_out {
    const mw_model *m;
    const mw_plan *base;
    const mw_plan_target *targets;
    size_t n;
    const mw_ceilings *ceilings;
} plan_out;

static mw_status render_plan(mw_cli_format f, FILE *out, int color, void *user, mw_err *err)
{
    const plan_out *p = user;
    switch (f) {
    case MW_CLI_FORMAT_JSON: return mw_plan_report_json(p->m, p->base, p->targets, p->n, p->ceilings, out, err);
    case MW_CLI_FORMAT_CSV: return mw_plan_report_csv(p->m, p->base, p->targets, p->n, out, err);
    case MW_CLI_FORMAT_MARKDOWN: return mw_plan_report_markdown(p->m, p->base, p->targets, p->n, out, err);
    default:
        return mw_plan_report_text(p->m, p->base, p->targets, p->n, p->ceilings, out, color ? MW_REPORT_COLOR : 0,
                                   err);
    }
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
    int c, choice, ubatch_given = 0;
    mw_cli_outputs outs = {0};
    mw_err err;
    static const char *const optimizers[] = {"adamw", "adam", "sgd", "sgd-momentum", "adam8bit"};
    static const char *const recomputes[] = {"none", "selective", "full"};
    mw_cli_operands ops = {.max = 1};
    /* --gpu NAME[:N|xN] (repeatable) and --gpu-layers N|auto */
    const mw_gpu_spec *gpu_specs[PLAN_GPUS_MAX];
    uint32_t gpu_counts[PLAN_GPUS_MAX], n_gpu_args = 0, host_bw = 0;
    uint64_t host_bw_bytes = 0;
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
            if (c == 'd') {                  /* weight schemes (issue #13), then the plain types */
                int r = plan_weight_scheme(optarg, &o);
                if (r < 0) return MW_EXIT_USAGE;
                if (r > 0) break;
            }
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
        /* LoRA / QLoRA: adapters are trained, so each implies --train */
        case 0x4c01: if (!U32("--lora", 1, 65536, &o.lora_rank)) return MW_EXIT_USAGE; o.training = 1; break;
        case 0x4c02:
            if (!optarg[0]) {
                mw_cli_error("plan", "--lora-targets needs module names (q_proj,v_proj ...) or all-linear");
                return MW_EXIT_USAGE;
            }
            o.lora_targets = optarg;
            break;
        case 0x4c03: o.qlora = 1; o.training = 1; break;
        case 0x4c04: {
            mw_dtype t;
            if (mw_dtype_from_name(optarg, &t, &err) != MW_OK || (t != MW_DTYPE_F32 && t != MW_DTYPE_F16 &&
                                                                  t != MW_DTYPE_BF16)) {
                mw_cli_error("plan", "--lora-dtype must be f32, f16 or bf16, not '%s'", optarg);
                return MW_EXIT_USAGE;
            }
            o.lora_dtype = t;
            break;
        }
        case OPT_GPU:
            if (n_gpu_args == PLAN_GPUS_MAX) {
                mw_cli_error("plan", "--gpu may be given at most %d times", PLAN_GPUS_MAX);
                return MW_EXIT_USAGE;
            }
            if (mw_gpu_spec_find(optarg, &gpu_specs[n_gpu_args], &gpu_counts[n_gpu_args], &err) != MW_OK) {
                mw_cli_error("plan", "--gpu: %s", err.msg);
                return MW_EXIT_USAGE;
            }
            n_gpu_args++;
            break;
        case OPT_GPU_LAYERS:
            if (!strcmp(optarg, "auto")) {
                o.gpu_layers = MW_GPU_LAYERS_AUTO;
            } else {
                uint32_t n;
                if (!U32("--gpu-layers", 0, 1000000, &n)) return MW_EXIT_USAGE;
                o.gpu_layers = (int32_t)n;
            }
            break;
        case OPT_HOST_BW:
            if (!mw_cli_parse_size("plan", "--host-bw", optarg, 1, MW_CLI_SIZE_MAX, &host_bw_bytes))
                return MW_EXIT_USAGE;
            host_bw = 1;
            break;
        case 'j': if (!mw_cli_outputs_alias("plan", &outs, MW_CLI_FORMAT_JSON, "--json")) return MW_EXIT_USAGE; break;
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
        /* paging under a memory budget (issue #15) */
        case 0x5001:
            if (!mw_cli_parse_size("plan", "--mem-budget", optarg, 1, MW_CLI_SIZE_MAX, &o.mem_budget_bytes))
                return MW_EXIT_USAGE;
            break;
        case 0x5002: if (!U32("--prefetch", 1, 64, &o.prefetch_layers)) return MW_EXIT_USAGE; break;
        case 0x5003: {
            uint64_t bw;
            if (!mw_cli_parse_size("plan", "--stream-bw", optarg, 1, MW_CLI_SIZE_MAX, &bw)) return MW_EXIT_USAGE;
            o.stream_bytes_per_second = (double)bw;
            break;
        }
        case 'h': fputs(mw_cli_doc_find("plan")->help, stdout); return MW_EXIT_OK;
        /* output formats and exports (issue #13) */
        case MW_CLI_OPT_FORMAT:
        case MW_CLI_OPT_EXPORT_JSON:
        case MW_CLI_OPT_EXPORT_CSV:
        case MW_CLI_OPT_EXPORT_MARKDOWN:
            if (mw_cli_outputs_option("plan", &outs, c, optarg) < 0) return MW_EXIT_USAGE;
            break;
        case ':': mw_cli_error("plan", "option '%s' needs a value", argv[optind - 1]); return MW_EXIT_USAGE;
        default: mw_cli_error("plan", "unknown option '%s'", argv[optind - 1]); return MW_EXIT_USAGE;
        }
    }
    if (o.lora_targets && !o.lora_rank && !o.qlora) {
        mw_cli_error("plan", "--lora-targets needs --lora R (the adapters' rank) or --qlora");
        return MW_EXIT_USAGE;
    }
    if (o.qlora && o.weight_dtype != MW_DTYPE_COUNT) {
        mw_cli_error("plan", "--qlora holds the base in NF4; leave out --dtype (or use --lora R with --dtype)");
        return MW_EXIT_USAGE;
    }
    if (o.lora_dtype != MW_DTYPE_COUNT && !o.lora_rank && !o.qlora) {
        mw_cli_error("plan", "--lora-dtype needs --lora R or --qlora");
        return MW_EXIT_USAGE;
    }
    /* an offload split needs one GPU: from --gpu, else NVML's first */
    mw_gpu_spec nvml_gpu;
    char nvml_desc[128];
    const mw_gpu_spec *split_gpu = NULL;
    if (o.gpu_layers != MW_GPU_LAYERS_NONE) {
        if (n_gpu_args) {
            if (gpu_counts[0] != 1) {
                mw_cli_error("plan", "--gpu-layers splits between one GPU and the host; give --gpu %s "
                             "without a count", gpu_specs[0]->name);
                return MW_EXIT_USAGE;
            }
            split_gpu = gpu_specs[0];
        } else {
            mw_machine_memory mm;
            if (mw_machine_memory_read(&mm, &err) == MW_OK && mm.n_gpus > 0) {
                /* its figures from the table when NVML's name is a row's */
                const char *nm = mm.gpus[0].name;
                if (!strncmp(nm, "NVIDIA ", 7)) nm += 7;
                if (!strncmp(nm, "GeForce ", 8)) nm += 8;
                const mw_gpu_spec *row = NULL;
                memset(&nvml_gpu, 0, sizeof nvml_gpu);
                if (mw_gpu_spec_find(nm, &row, NULL, NULL) == MW_OK) nvml_gpu = *row;
                snprintf(nvml_desc, sizeof nvml_desc, "gpu 0 (%s, NVML)", mm.gpus[0].name);
                nvml_gpu.name = nvml_desc;
                nvml_gpu.description = nvml_desc;
                nvml_gpu.memory_bytes = mm.gpus[0].total_bytes;
                if (!row) nvml_gpu.source = "NVML (memory only; bandwidth unknown)";
                split_gpu = &nvml_gpu;
            }
        }
        if (!split_gpu) {
            mw_cli_error("plan", "--gpu-layers needs a GPU to split with: give --gpu NAME (NVML sees "
                         "none on this machine; `memwall plan --help` lists the names)");
            return MW_EXIT_USAGE;
        }
    } else if (host_bw && o.mem_budget_bytes == MW_UNKNOWN) {
        mw_cli_error("plan", "--host-bw is the host part's bandwidth of an offload split: give it with "
                     "--gpu-layers");
        return MW_EXIT_USAGE;
    }
    /* paging (issue #15): its options need a budget */
    if (o.mem_budget_bytes == MW_UNKNOWN && (o.prefetch_layers || o.stream_bytes_per_second > 0)) {
        mw_cli_error("plan", "--prefetch and --stream-bw plan paging: give them with --mem-budget SIZE");
        return MW_EXIT_USAGE;
    }

    /* an export must not replace the model it plans (issue #13) */
    if (ops.n >= 1 && mw_cli_outputs_clash("plan", &outs, "MODEL", ops.v[0])) return MW_EXIT_USAGE;
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
    mw_plan_target targets[9 + PLAN_GPUS_MAX + 1];
    mw_offload split;
    memset(targets, 0, sizeof targets);
    size_t nt = 0;
    uint64_t mem = o.mem_bytes;
    o.mem_bytes = MW_UNKNOWN;
    mw_plan base;
    /* paging (issue #15): the step's memory reads at this machine's DRAM
     * bandwidth (--host-bw, else its profile); the stream at --stream-bw,
     * else the profile's disk_cold tier (kept when `memwall roofline`
     * measured the tiers) */
    if (o.mem_budget_bytes != MW_UNKNOWN && !o.training) {
        mw_ceilings pc;
        const int have = mw_cli_ceilings(0, 0, NULL, 1, &pc);
        o.host_bytes_per_second = host_bw ? (double)host_bw_bytes : have ? pc.dram_read_bytes_per_second : 0;
        if (o.stream_bytes_per_second <= 0 && have && pc.disk_read_bytes_per_second > 0)
            o.stream_bytes_per_second = pc.disk_read_bytes_per_second;
    }
    if (mw_plan_compute(m, &o, &base, &err) != MW_OK) {
        mw_cli_error(NULL, "%s", err.msg);
        code = MW_EXIT_FAILURE;
        goto out;
    }
    if (mem != MW_UNKNOWN) {
        snprintf(targets[nt].name, sizeof targets[nt].name, "--mem");
        targets[nt++].plan.opts.mem_bytes = mem;
    }
    /* GPUs by name: each one's usable memory per device, tensor parallel
     * over its count unless --tp was given */
    for (uint32_t g = 0; g < n_gpu_args; g++) {
        mw_plan_target *x = &targets[nt++];
        if (gpu_counts[g] > 1) snprintf(x->name, sizeof x->name, "%s x%u", gpu_specs[g]->name, gpu_counts[g]);
        else snprintf(x->name, sizeof x->name, "%s", gpu_specs[g]->name);
        x->plan.opts.mem_bytes = mw_gpu_spec_usable_bytes(gpu_specs[g]);
        x->gpu = gpu_specs[g];
        x->gpu_count = gpu_counts[g];
    }
    if (mem == MW_UNKNOWN && !n_gpu_args) {
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
        if (targets[i].gpu && targets[i].gpu_count > 1 && o.tp == 1 && o.pp == 1) {
            if (targets[i].gpu_count > m->hp.n_heads) {
                mw_cli_error("plan", "--gpu %s: %u devices exceed the model's %u attention heads (tensor "
                             "parallel); give --tp and --pp", targets[i].name, targets[i].gpu_count,
                             m->hp.n_heads);
                code = MW_EXIT_USAGE;
                goto out;
            }
            ot.tp = targets[i].gpu_count;
        }
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
    if (split_gpu) {
        /* the host part's bandwidth: --host-bw, else this machine's profile */
        mw_plan_opts os = o;
        os.host_bytes_per_second = host_bw ? (double)host_bw_bytes : cp ? cp->dram_read_bytes_per_second : 0;
        if (mw_plan_offload(m, &os, split_gpu, &split, &err) != MW_OK) {
            mw_cli_error("plan", "%s", err.msg);
            code = MW_EXIT_USAGE;
            goto out;
        }
        mw_plan_target *x = &targets[nt++];
        snprintf(x->name, sizeof x->name, "offload split on %s", split_gpu->name);
        x->plan = base;
        x->plan.opts.host_bytes_per_second = os.host_bytes_per_second;
        x->gpu = split_gpu;
        x->gpu_count = 1;
        x->offload = &split;
    }
    /* standard output in --format, then each --export-* (cli.h) */
    plan_out po = {m, &base, targets, nt, cp};
    code = mw_cli_outputs_write(&outs, render_plan, &po);
out:
    mw_model_free(m);
    return code;
}
