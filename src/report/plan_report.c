/* plan_report.c - `memwall plan`: the predicted components and, for each
 * memory size, whether it fits and the largest batch and context that do;
 * text or JSON ("memwall.plan/1"). */
#include "memwall.h"
#include "common/error.h"
#include "common/json.h"
#include "report/json_util.h"
#include "report/ceilings.h"
#include "report/plan_assumptions.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

const char *mw_plan_optimizer_name(mw_optimizer o)
{
    static const char *const n[] = {"adamw", "adam", "sgd", "sgd-momentum", "adam8bit"};
    return (unsigned)o < 5 ? n[o] : "?";
}

const char *mw_plan_recompute_name(mw_recompute r)
{
    static const char *const n[] = {"none", "selective", "full"};
    return (unsigned)r < 3 ? n[r] : "?";
}

static void workload_text(const mw_model *m, const mw_plan_opts *o, FILE *out)
{
    char params[32];
    fprintf(out, "memwall plan: %s, %s parameters", m->path, mw_count_format(m->n_params, params, sizeof params));
    if (m->n_params_active && m->n_params_active != m->n_params) /* MoE (issue #13) */
        fprintf(out, " (%s active per token)", mw_count_format(m->n_params_active, params, sizeof params));
    fprintf(out, "\n");
    if (o->training) {
        fprintf(out, "  training: micro-batch %u x sequence %u, %s, %s%s, recompute %s", o->batch, o->ctx,
                o->mixed_precision ? "mixed precision" : "fp32", o->qlora ? "paged " : "",
                mw_plan_optimizer_name(o->optimizer), mw_plan_recompute_name(o->recompute));
    } else {
        const mw_dtype_info *w = mw_dtype_get(o->weight_dtype);
        fprintf(out, "  inference: batch %u, context %u (prompt %u + gen %u), weights %s, kv %s", o->batch,
                o->ctx, o->prompt, o->ctx - o->prompt, w ? w->name : "as stored",
                mw_dtype_get(o->kv_dtype)->name);
    }
    if (o->tp > 1 || o->pp > 1 || o->dp > 1 || o->zero)
        fprintf(out, "; per device of tp %u x pp %u x dp %u, ZeRO-%u", o->tp, o->pp, o->dp, o->zero);
    fprintf(out, "\n");
    /* --- weight scheme (issue #13): which tensors take which type --- */
    if (!o->training && o->weight_scheme.kind != MW_SCHEME_NONE)
        fprintf(out, "  weights: %s (%s)\n", o->weight_scheme.name, mw_weight_scheme_describe(&o->weight_scheme));
}

/* LoRA / QLoRA: what is trained, the weights' two parts, and the
 * assumptions (docs/PLAN.md "Fine-tuning with adapters"). */
static const char *lora_adapter_type(const mw_plan_opts *o)
{
    mw_dtype t = o->lora_dtype != MW_DTYPE_COUNT ? o->lora_dtype : o->qlora ? MW_DTYPE_BF16 : MW_DTYPE_F32;
    return mw_dtype_get(t)->name;
}

static const char *lora_base_type(const mw_plan *p)
{
    const mw_dtype_info *d = mw_dtype_get(p->lora_base_dtype);
    return p->opts.qlora ? "nf4" : d ? d->name : "as stored";
}

/* 4194304 -> "4,194,304", as PEFT prints counts */
static const char *commas(uint64_t v, char *buf, size_t cap)
{
    char digits[24];
    int n = snprintf(digits, sizeof digits, "%" PRIu64, v), k = 0;
    for (int i = 0; i < n && (size_t)k + 2 < cap; i++) {
        if (i && (n - i) % 3 == 0) buf[k++] = ',';
        buf[k++] = digits[i];
    }
    buf[k] = '\0';
    return buf;
}

static void lora_text(const mw_plan *p, FILE *out)
{
    const mw_plan_opts *o = &p->opts;
    if (!o->training) return;
    char a[32], b[32];
    if (!o->lora_rank) {
        fprintf(out, "  trainable: all %s parameters (full fine-tuning)\n", commas(p->trainable_params, a, sizeof a));
        return;
    }
    uint64_t all = p->params + p->trainable_params; /* PEFT's "all params": base + adapters */
    fprintf(out, "  %s r=%u on %s%s: %" PRIu64 " adapted linear layers, trainable params: %s || all params: %s"
            " || trainable%%: %.4f\n", o->qlora ? "QLoRA" : "LoRA", o->lora_rank, p->lora_targets,
            p->lora_default_targets ? " (PEFT's default for this architecture)" : "", p->lora_modules,
            commas(p->trainable_params, a, sizeof a), commas(all, b, sizeof b),
            all ? 100.0 * (double)p->trainable_params / (double)all : 0.0);
}

static void lora_parts_text(const mw_plan *p, FILE *out)
{
    const mw_plan_opts *o = &p->opts;
    if (!o->lora_rank) return;
    char a[32], b[32], c[32];
    fprintf(out, "  weights: frozen base %s (%s), adapters %s (%s); activations include the adapters' x*A %s\n",
            mw_size_format(p->lora_base_bytes, a, sizeof a), lora_base_type(p),
            mw_size_format(p->lora_adapter_bytes, b, sizeof b), lora_adapter_type(o),
            mw_size_format(p->lora_adapter_act_bytes, c, sizeof c));
    if (o->qlora)
        fprintf(out, "  assumed: QLoRA base NF4 (blocks of 64, double-quantized scales: 4.127 bits a weight), "
                "embeddings and output head bf16, compute bf16; adapters %s; paged AdamW (32-bit states) counted "
                "on the device, though it can page them to host memory under pressure; activations as full "
                "fine-tuning's (recompute %s)\n", lora_adapter_type(o), mw_plan_recompute_name(o->recompute));
    else
        fprintf(out, "  assumed: adapters %s (PEFT upcasts 16-bit adapters: autocast_adapter_dtype), optimizer "
                "state for the adapters only, no master copy; frozen base without gradients; activations as full "
                "fine-tuning's (recompute %s)\n", lora_adapter_type(o), mw_plan_recompute_name(o->recompute));
}

/* --- attention and runtimes (issue #13): one line for each assumption the
 * figures rest on, the same in the text and in JSON's "assumptions". --- */
#define ASSUME_MAX MW_PLAN_ASSUME_MAX
#define ASSUME_LEN MW_PLAN_ASSUME_LEN

/* The runtime's own choice of attention (src/plan/runtime.c) */
static int flash_is_default(const mw_plan_opts *o)
{
    int dflt_on = o->training || o->runtime != MW_RUNTIME_MEMWALL;
    return (o->flash_attn == MW_FLASH_ATTN_ON) == dflt_on;
}

size_t mw_plan_assumption_lines(const mw_plan *p, char line[ASSUME_MAX][ASSUME_LEN])
{
    const mw_plan_opts *o = &p->opts;
    const uint64_t act = p->bytes[MW_COMP_ACTIVATIONS], alt = p->act_alt_bytes;
    const int flash = o->flash_attn == MW_FLASH_ATTN_ON, dflt = flash_is_default(o);
    char a[32], b[32];
    size_t n = 0;
    if (o->training) {
        if (flash)
            snprintf(line[n++], ASSUME_LEN,
                     "attention: flash (%s): activations %s; unfused (Korthikanti's s*b*h*L*(34 + 5*a*s/h)) "
                     "would give %s", dflt ? "assumed for training: FlashAttention or PyTorch SDPA" : "--flash-attn on",
                     mw_size_format(act, a, sizeof a), mw_size_format(alt, b, sizeof b));
        else
            snprintf(line[n++], ASSUME_LEN,
                     "attention: unfused (--flash-attn off: the a*s*s scores, softmax and dropout mask kept): "
                     "activations %s; flash (34*s*b*h*L) would give %s",
                     mw_size_format(act, a, sizeof a), mw_size_format(alt, b, sizeof b));
    } else {
        static const char *const why_on[MW_RUNTIME_COUNT] = {
            "--flash-attn on", "llama.cpp's default: auto, on where the backend supports it",
            "vLLM's FlashAttention/FlashInfer backends", "transformers' default SDPA, its flash kernel"};
        static const char *const why_off[MW_RUNTIME_COUNT] = {
            "memwall's engine", "--flash-attn off", "--flash-attn off",
            "--flash-attn off: transformers' eager attention, scores and a float32 softmax"};
        unsigned r = (unsigned)o->runtime < MW_RUNTIME_COUNT ? (unsigned)o->runtime : 0;
        if (flash)
            snprintf(line[n++], ASSUME_LEN, "attention: flash (%s), tiles of scores %s; unfused would add %s",
                     dflt ? why_on[r] : "--flash-attn on", mw_size_format(p->act_scores_bytes, a, sizeof a),
                     mw_size_format(alt > act ? alt - act : 0, b, sizeof b));
        else
            snprintf(line[n++], ASSUME_LEN, "attention: unfused (%s), scores [b, a, T, S] %s; flash would save %s",
                     dflt ? why_off[r] : "--flash-attn off", mw_size_format(p->act_scores_bytes, a, sizeof a),
                     mw_size_format(act > alt ? act - alt : 0, b, sizeof b));
    }
    unsigned long long cells = (unsigned long long)p->kv_cells, toks = (unsigned long long)o->batch * o->ctx;
    switch (o->training ? MW_RUNTIME_COUNT : o->runtime) {
    case MW_RUNTIME_LLAMA_CPP:
        snprintf(line[n++], ASSUME_LEN,
                 "runtime: llama.cpp: KV cells padded to 256 (%llu for %llu tokens); prefill in ubatches of %u; "
                 "the logits of a whole ubatch in the compute buffer", cells, toks, o->ubatch);
        break;
    case MW_RUNTIME_VLLM:
        snprintf(line[n++], ASSUME_LEN,
                 "runtime: vllm: %.0f%% of GPU memory reserved (gpu_memory_utilization); KV in 16-token blocks "
                 "(%llu for %llu tokens); activations from a profiling run of %u tokens", 100 * p->mem_share,
                 cells, toks, o->ubatch);
        break;
    case MW_RUNTIME_HF:
        snprintf(line[n++], ASSUME_LEN,
                 "runtime: hf: transformers generate(); DynamicCache of exactly %llu tokens; the whole prompt in "
                 "one step; logits of the last position only (logits_to_keep=1)", toks);
        break;
    case MW_RUNTIME_MEMWALL:
        snprintf(line[n++], ASSUME_LEN,
                 "runtime: memwall: its own engine; KV for exactly %llu tokens; prefill in steps of %u", toks,
                 o->ubatch);
        break;
    default:
        snprintf(line[n++], ASSUME_LEN, "runtime: a PyTorch training step (ZeRO's and Megatron's accounting)");
        break;
    }
    const char *ov = o->overhead_bytes != MW_UNKNOWN ? "the low end given by the caller"
                     : o->runtime == MW_RUNTIME_VLLM ? "vLLM's non-torch memory and CUDA graphs; its CUDA "
                                                       "context lies outside the reservation"
                     : o->runtime == MW_RUNTIME_HF ? "a CUDA context and kernels, to +20% caching-allocator slack"
                                                   : "a lean C runtime, to a CUDA framework with +20% slack";
    snprintf(line[n++], ASSUME_LEN, "overhead: %s to %s (%s)", mw_size_format(p->bytes[MW_COMP_OVERHEAD], a, sizeof a),
             mw_size_format(p->overhead_high_bytes, b, sizeof b), ov);
    return n;
}

/* The memory the runtime may use of a target's size (vLLM: 90%). */
static uint64_t usable_mem(const mw_plan *q)
{
    return (uint64_t)((double)q->opts.mem_bytes * (q->mem_share > 0 ? q->mem_share : 1.0));
}

/* The decode speed this machine's ceilings allow: a step moves at least
 * decode_step_bytes at the DRAM read bandwidth and computes
 * decode_step_flops at the FP32 peak, so it takes at least the longer of the
 * two, and the batch makes at most batch tokens a step. @return 0 without
 * a decode step or usable ceilings. */
static int on_this_machine(const mw_plan *p, const mw_ceilings *c, double *step_s, double *tokens_s,
                           double *bytes_s, double *flops_s)
{
    if (p->opts.training || !(p->decode_step_bytes > 0) || !(p->decode_step_flops > 0) || !mw_ceilings_usable(c))
        return 0;
    *bytes_s = p->decode_step_bytes / c->dram_read_bytes_per_second;
    *flops_s = p->decode_step_flops / c->peak_flops_f32;
    *step_s = *bytes_s > *flops_s ? *bytes_s : *flops_s;
    *tokens_s = (double)p->opts.batch / *step_s;
    return 1;
}

static void on_this_machine_text(const mw_plan *p, const mw_ceilings *c, FILE *out)
{
    double step, tps, bs, fs;
    /* no profile: nothing said (a plan is about memory; JSON has null) */
    if (!on_this_machine(p, c, &step, &tps, &bs, &fs)) return;
    char a[32], b[32], c1[32], d[32], e[32], f[32];
    fprintf(out, "  on this machine: at most %.4g tokens/s at batch %u, a decode step taking at least %s: %s binds "
            "(%s at %s: %s; %.3g GFLOP at %s: %s)\n", tps, p->opts.batch, mw_seconds_format(step, a, sizeof a),
            bs >= fs ? "memory bandwidth" : "compute", mw_size_format((uint64_t)p->decode_step_bytes, b, sizeof b),
            mw_rate_format(c->dram_read_bytes_per_second, "B/s", c1, sizeof c1), mw_seconds_format(bs, d, sizeof d),
            p->decode_step_flops / 1e9, mw_rate_format(c->peak_flops_f32, "FLOP/s", e, sizeof e),
            mw_seconds_format(fs, f, sizeof f));
    fprintf(out, "  (machine profile %s, measured %s%s)\n", c->path, c->measured,
            c->noisy ? "; its figures were noisy" : "");
}

/* ---- GPUs by name and offload splits (docs/PLAN.md) ---- */

/* A GPU target's decode step, under its memory answers. */
static void gpu_step_text(const mw_model *m, const mw_plan_target *t, FILE *out)
{
    const mw_gpu_spec *g = t->gpu;
    const mw_plan *q = &t->plan;
    char a[32], b[32], c[32], d[32], e[32];
    if (t->gpu_count > 1)
        fprintf(out, "  %u x %s, tensor parallel over %u (as vLLM's tensor_parallel_size); per device:\n",
                t->gpu_count, g->description, q->opts.tp);
    else
        fprintf(out, "  %s%s\n", g->description,
                g->unified_memory ? "; unified memory: the plan uses the 75% macOS lets the GPU wire" : "");
    mw_gpu_step st;
    if (!mw_gpu_step_compute(m, q, g, &st)) return;
    fprintf(out, "  decode step at least %s, at most %.4g tokens/s at batch %u: %s binds (%s at %s: %s; ",
            mw_seconds_format(st.step_seconds, a, sizeof a), st.tokens_per_second, q->opts.batch,
            st.binds[0] == 'b' ? "memory bandwidth" : "compute",
            mw_size_format((uint64_t)q->decode_step_bytes, b, sizeof b),
            mw_rate_format(g->bandwidth_bytes_per_second, "B/s", c, sizeof c),
            mw_seconds_format(st.bandwidth_seconds, d, sizeof d));
    if (st.compute_seconds >= 0)
        fprintf(out, "%.3g GFLOP at %s %s: %s)\n", q->decode_step_flops / 1e9, st.peak_type,
                mw_rate_format(st.peak, strcmp(st.peak_type, "int8") ? "FLOP/s" : "OP/s", e, sizeof e), mw_seconds_format(st.compute_seconds, a, sizeof a));
    else
        fprintf(out, "peak FLOP/s unknown for this GPU: compute not bounded)\n");
}

static void offload_text(const mw_plan_target *t, FILE *out, const char *bold, const char *reset)
{
    const mw_offload *s = t->offload;
    char a[32], b[32], c[32], d[32], e[32];
    fprintf(out, "%s%s%s: %u of %u layers on the GPU (%u repeating%s; llama.cpp -ngl %u), %s\n", bold, t->name,
            reset, s->gpu_layers, s->n_layers + 1, s->gpu_repeating_layers,
            s->output_on_gpu ? " + the output layer" : "", s->gpu_layers,
            s->fits ? "fits" : "does not fit");
    fprintf(out, "  %-6s %12s %12s %12s %12s\n", "device", "weights", "kv_cache", "compute+ovh", "total");
    fprintf(out, "  %-6s %12s %12s %12s %12s  of %s\n", "gpu", mw_size_format(s->gpu_weights_bytes, a, sizeof a),
            mw_size_format(s->gpu_kv_bytes, b, sizeof b),
            mw_size_format(s->gpu_compute_bytes + s->gpu_overhead_bytes, c, sizeof c),
            mw_size_format(s->gpu_bytes, d, sizeof d), mw_size_format(s->gpu_limit_bytes, e, sizeof e));
    fprintf(out, "  %-6s %12s %12s %12s %12s  (embeddings %s stay on the host, as llama.cpp keeps them)\n",
            "host", mw_size_format(s->host_weights_bytes, a, sizeof a), mw_size_format(s->host_kv_bytes, b, sizeof b),
            "-", mw_size_format(s->host_bytes, c, sizeof c), mw_size_format(s->host_embed_bytes, d, sizeof d));
    if (s->decode_step_seconds >= 0) {
        fprintf(out, "  decode step about %s (gpu %s at %s: %s; ", mw_seconds_format(s->decode_step_seconds, a, sizeof a),
                mw_size_format((uint64_t)s->gpu_read_bytes, b, sizeof b),
                mw_rate_format(t->gpu->bandwidth_bytes_per_second, "B/s", c, sizeof c),
                mw_seconds_format(s->gpu_seconds, d, sizeof d));
        fprintf(out, "host %s at %s: %s), at most %.4g tokens/s at batch %u\n",
                mw_size_format((uint64_t)s->host_read_bytes, a, sizeof a),
                mw_rate_format(t->plan.opts.host_bytes_per_second, "B/s", b, sizeof b),
                mw_seconds_format(s->host_seconds, c, sizeof c), (double)t->plan.opts.batch / s->decode_step_seconds,
                t->plan.opts.batch);
    } else {
        fprintf(out, "  decode step unknown: %s\n", s->gpu_seconds < 0 ? "the GPU's bandwidth is unknown"
                                                             : "give --host-bw (or measure this machine: memwall roofline)");
    }
    fprintf(out, "  (bandwidth-bound: each tier reads its weights and KV cache once a step)\n");
}

/* ---- paging under a memory budget (issue #15; docs/PLAN.md "Paging under
 * a memory budget"): the reader streams the layers that do not fit while
 * the step computes, so a decode step takes the longer of the stream
 * (streamed bytes / the slow tier) and the step's memory reads (all its
 * bytes / host bandwidth). The streamed bytes are read once a step for the
 * whole batch. ---- */

static void num_or_null(cJSON *o, const char *key, double v);

/* The step time of q (< 0 unknown) and what binds ("stream", "memory"). */
static double paging_step(const mw_plan *q, const char **binds)
{
    const double s = q->stream_step_seconds, r = q->resident_step_seconds;
    *binds = NULL;
    if (s < 0) return -1;
    if (r < 0) {
        *binds = "stream";
        return q->split.streamed_bytes_per_step ? s : -1;
    }
    *binds = s >= r ? "stream" : "memory";
    return s >= r ? s : r;
}

static const uint32_t paging_batches[] = {1, 4, 16};

/* The same plan at batch b (paging_batches): its step and tokens/s. */
static int paging_at_batch(const mw_model *m, const mw_plan *p, uint32_t b, double *step, double *tps,
                           const char **binds)
{
    mw_plan_opts o = p->opts;
    o.batch = b;
    o.mem_bytes = MW_UNKNOWN;
    mw_plan q;
    if (mw_plan_compute(m, &o, &q, NULL) != MW_OK) return 0;
    *step = paging_step(&q, binds);
    *tps = *step > 0 ? b / *step : -1;
    return *step > 0;
}

static void paging_text(const mw_model *m, const mw_plan *p, FILE *out, const char *bold, const char *reset)
{
    const mw_budget_split *s = &p->split;
    char a[32], b[32], c[32];
    fprintf(out, "%spaging%s under a weights budget of %s (--prefetch %u):\n", bold, reset,
            mw_size_format(s->budget_bytes, a, sizeof a), p->opts.prefetch_layers ? p->opts.prefetch_layers : 2);
    fprintf(out, "  resident: %u of %u layers, %s with the embeddings, output and norms (%s) and %u stream "
            "buffer(s) of %s\n", s->resident_layers, s->n_layers, mw_size_format(s->resident_bytes, a, sizeof a),
            mw_size_format(s->always_bytes, b, sizeof b), s->slots, mw_size_format(s->slot_bytes, c, sizeof c));
    if (!s->streamed_layers) {
        fprintf(out, "  everything fits: nothing is streamed\n");
        return;
    }
    fprintf(out, "  streamed: %u layers, %s a decode step, %s over the prefill (%u-token steps)\n",
            s->streamed_layers, mw_size_format(s->streamed_bytes_per_step, a, sizeof a),
            mw_size_format(p->stream_prefill_bytes, b, sizeof b), p->opts.ubatch);
    fprintf(out, "  smallest budget that works: %s\n", mw_size_format(s->min_budget_bytes, a, sizeof a));
    const char *binds;
    double step = paging_step(p, &binds);
    if (p->stream_step_seconds < 0) {
        fprintf(out, "  time per step unknown: give the slow tier's bandwidth with --stream-bw (measure it:\n"
                "  memwall roofline, tier disk_cold)\n");
        return;
    }
    fprintf(out, "  decode step: stream %.3g s at %s/s", p->stream_step_seconds,
            mw_size_format((uint64_t)p->opts.stream_bytes_per_second, a, sizeof a));
    if (p->resident_step_seconds >= 0)
        fprintf(out, ", memory %.3g s at %s/s: %.3g s, the %s binds\n", p->resident_step_seconds,
                mw_size_format((uint64_t)p->opts.host_bytes_per_second, b, sizeof b), step, binds);
    else
        fprintf(out, ": at least %.3g s (host bandwidth unknown: memwall roofline, or --host-bw)\n", step);
    fprintf(out, "  batching amortizes the stream (read once a step for the whole batch):");
    for (size_t i = 0; i < sizeof paging_batches / sizeof paging_batches[0]; i++) {
        double st, tps;
        const char *bd;
        if (paging_at_batch(m, p, paging_batches[i], &st, &tps, &bd))
            fprintf(out, "%s batch %u %.3g tokens/s", i ? "," : "", paging_batches[i], tps);
    }
    fprintf(out, "\n");
}

static void paging_json(cJSON *j, const mw_model *m, const mw_plan *p)
{
    /* absent without a budget: plans without one are as before */
    if (p->opts.mem_budget_bytes == MW_UNKNOWN || p->opts.training) return;
    const mw_budget_split *s = &p->split;
    cJSON *x = cJSON_AddObjectToObject(j, "paging");
    if (!x) return;
    mw_json_add_budget_split(x, s);
    cJSON_AddNumberToObject(x, "prefetch_layers", p->opts.prefetch_layers ? p->opts.prefetch_layers : 2);
    cJSON_AddBoolToObject(x, "streaming", p->paging);
    cJSON_AddNumberToObject(x, "streamed_prefill_bytes", (double)p->stream_prefill_bytes);
    num_or_null(x, "stream_bandwidth", p->opts.stream_bytes_per_second > 0 ? p->opts.stream_bytes_per_second : -1);
    num_or_null(x, "host_bandwidth", p->opts.host_bytes_per_second > 0 ? p->opts.host_bytes_per_second : -1);
    num_or_null(x, "stream_step_s", p->stream_step_seconds);
    num_or_null(x, "memory_step_s", p->resident_step_seconds);
    const char *binds;
    double step = paging_step(p, &binds);
    num_or_null(x, "decode_step_s", step);
    if (binds && step >= 0) cJSON_AddStringToObject(x, "binds", binds);
    else cJSON_AddNullToObject(x, "binds");
    cJSON *bs = cJSON_AddArrayToObject(x, "batches");
    for (size_t i = 0; bs && i < sizeof paging_batches / sizeof paging_batches[0]; i++) {
        double st = -1, tps = -1;
        const char *bd;
        paging_at_batch(m, p, paging_batches[i], &st, &tps, &bd);
        cJSON *e = cJSON_CreateObject();
        if (!e) break;
        cJSON_AddNumberToObject(e, "batch", paging_batches[i]);
        num_or_null(e, "decode_step_s", st > 0 ? st : -1);
        num_or_null(e, "tokens_per_s", tps);
        cJSON_AddItemToArray(bs, e);
    }
}

mw_status mw_plan_report_text(const mw_model *m, const mw_plan *p, const mw_plan_target *t,
                              size_t n_targets, const mw_ceilings *ceilings, FILE *out, unsigned flags, mw_err *err)
{
    const char *bold = flags & MW_REPORT_COLOR ? "\033[1m" : "", *reset = flags & MW_REPORT_COLOR ? "\033[0m" : "";
    const char *red = flags & MW_REPORT_COLOR ? "\033[31m" : "", *green = flags & MW_REPORT_COLOR ? "\033[32m" : "";
    char a[32], b[32];
    workload_text(m, &p->opts, out);
    lora_text(p, out); /* LoRA / QLoRA: what is trained */
    fprintf(out, "%s  %-18s %12s %7s%s\n", bold, "component", "bytes", "share", reset);
    for (int c = 0; c < MW_COMP_COUNT; c++) {
        if (c != MW_COMP_OVERHEAD && p->bytes[c] == 0 &&
            (c == MW_COMP_GRADIENTS || c == MW_COMP_OPTIMIZER || c == MW_COMP_KV_CACHE ||
             c == MW_COMP_SCRATCH))
            continue;
        if (c == MW_COMP_OVERHEAD) {
            fprintf(out, "  %-18s %12s %7s  to %s\n", "runtime overhead", mw_size_format(p->bytes[c], a, sizeof a),
                    "", mw_size_format(p->overhead_high_bytes, b, sizeof b));
            continue;
        }
        fprintf(out, "  %-18s %12s %6.1f%%", mw_component_name((mw_component)c),
                mw_size_format(p->bytes[c], a, sizeof a),
                p->total_bytes ? 100.0 * (double)p->bytes[c] / (double)p->total_bytes : 0.0);
        if (c == MW_COMP_KV_CACHE) fprintf(out, "  %s per token", mw_size_format(p->kv_bytes_per_token, b, sizeof b));
        /* issue #13: sliding-window layers hold their window only */
        if (c == MW_COMP_KV_CACHE && p->kv_sliding_layers)
            fprintf(out, " of all layers\n    KV: %u local layers hold %u tokens, %u global hold %u",
                    p->kv_sliding_layers, p->kv_window, p->kv_global_layers, p->opts.ctx);
        if (c == MW_COMP_ACTIVATIONS && !p->opts.training)
            fprintf(out, "  (one layer's peak; scores %s, logits %s)", mw_size_format(p->act_scores_bytes, b, sizeof b),
                    (mw_size_format(p->act_logits_bytes, a, sizeof a), a));
        fprintf(out, "\n");
    }
    fprintf(out, "%s  %-18s %12s%s  to %s\n", bold, "total", mw_size_format(p->total_bytes, a, sizeof a), reset,
            mw_size_format(p->total_high_bytes, b, sizeof b));
    lora_parts_text(p, out); /* LoRA / QLoRA: the weights' parts, the assumptions */
    /* the assumptions beside the numbers (issue #13) */
    char assume[ASSUME_MAX][ASSUME_LEN];
    for (size_t i = 0, n = mw_plan_assumption_lines(p, assume); i < n; i++) fprintf(out, "  %s\n", assume[i]);
    if (!p->opts.training && p->decode_step_bytes > 0)
        fprintf(out, "  a decode step of the batch reads %s and does %.3g GFLOP: %.3g FLOP per byte\n",
                mw_size_format((uint64_t)p->decode_step_bytes, a, sizeof a), p->decode_step_flops / 1e9,
                p->decode_step_flops / p->decode_step_bytes);
    on_this_machine_text(p, ceilings, out);
    /* paging under a memory budget (issue #15) */
    if (!p->opts.training && p->opts.mem_budget_bytes != MW_UNKNOWN) paging_text(m, p, out, bold, reset);
    for (size_t i = 0; i < n_targets; i++) {
        const mw_plan *q = &t[i].plan;
        if (t[i].offload) {
            offload_text(&t[i], out, bold, reset);
            continue;
        }
        fprintf(out, "%s%s%s: %s: ", bold, t[i].name, reset, mw_size_format(q->opts.mem_bytes, a, sizeof a));
        if (q->fits_high) fprintf(out, "%sfits%s", green, reset);
        else if (q->fits) fprintf(out, "fits unless the runtime takes more than %s",
                                  mw_size_format(usable_mem(q) - (q->total_bytes - q->bytes[MW_COMP_OVERHEAD]), b, sizeof b));
        else fprintf(out, "%sdoes not fit%s (%s short)", red, reset,
                     mw_size_format(q->total_bytes - usable_mem(q), b, sizeof b));
        if (q->mem_share > 0 && q->mem_share < 1) /* vLLM's reservation */
            fprintf(out, " in the %.0f%% the runtime reserves", 100 * q->mem_share);
        fprintf(out, "\n");
        const char *unit = p->opts.training ? "micro-batch" : "batch";
        if (q->max_batch)
            fprintf(out, "  largest %s at context %u: %u (%u with the overhead's high end); largest part there: %s\n",
                    unit, p->opts.ctx, q->max_batch, q->max_batch_high, mw_component_name(q->max_batch_dominant));
        else
            fprintf(out, "  no %s fits at context %u\n", unit, p->opts.ctx);
        if (q->max_ctx) {
            fprintf(out, "  largest context at %s %u: %u", unit, p->opts.batch, q->max_ctx);
            if (m->hp.n_ctx_train && q->max_ctx > m->hp.n_ctx_train)
                fprintf(out, " (beyond the %u the model was trained for)", m->hp.n_ctx_train);
            fprintf(out, "\n");
        }
        if (t[i].gpu) gpu_step_text(m, &t[i], out);
    }
    return mw_report_end(out, "plan report", err);
}

static void add_components(cJSON *o, const mw_plan *p)
{
    cJSON_AddNumberToObject(o, "weights_bytes", (double)p->bytes[MW_COMP_WEIGHTS]);
    cJSON_AddNumberToObject(o, "kv_cache_bytes", (double)p->bytes[MW_COMP_KV_CACHE]);
    cJSON_AddNumberToObject(o, "activations_bytes", (double)p->bytes[MW_COMP_ACTIVATIONS]);
    cJSON_AddNumberToObject(o, "scratch_bytes", (double)p->bytes[MW_COMP_SCRATCH]);
    cJSON_AddNumberToObject(o, "gradients_bytes", (double)p->bytes[MW_COMP_GRADIENTS]);
    cJSON_AddNumberToObject(o, "optimizer_bytes", (double)p->bytes[MW_COMP_OPTIMIZER]);
    cJSON_AddNumberToObject(o, "overhead_low_bytes", (double)p->bytes[MW_COMP_OVERHEAD]);
    cJSON_AddNumberToObject(o, "overhead_high_bytes", (double)p->overhead_high_bytes);
    cJSON_AddNumberToObject(o, "total_bytes", (double)p->total_bytes);
    cJSON_AddNumberToObject(o, "total_high_bytes", (double)p->total_high_bytes);
}

static void num_or_null(cJSON *o, const char *key, double v)
{
    if (v >= 0) cJSON_AddNumberToObject(o, key, v);
    else cJSON_AddNullToObject(o, key);
}

/* "gpus" (each --gpu target) and "offload" (a --gpu-layers split). */
static void gpus_json(cJSON *j, const mw_model *m, const mw_plan_target *t, size_t n)
{
    cJSON *gs = NULL;
    for (size_t i = 0; i < n; i++) {
        const mw_gpu_spec *g = t[i].gpu;
        if (!g) continue;
        const mw_plan *q = &t[i].plan;
        if (t[i].offload) {
            const mw_offload *s = t[i].offload;
            cJSON *x = cJSON_AddObjectToObject(j, "offload");
            if (!x) continue;
            cJSON_AddStringToObject(x, "gpu", g->name);
            cJSON_AddNumberToObject(x, "n_layers", s->n_layers);
            cJSON_AddNumberToObject(x, "gpu_layers", s->gpu_layers);
            cJSON_AddNumberToObject(x, "gpu_repeating_layers", s->gpu_repeating_layers);
            cJSON_AddBoolToObject(x, "output_on_gpu", s->output_on_gpu);
            cJSON_AddBoolToObject(x, "fits", s->fits);
            cJSON_AddNumberToObject(x, "gpu_limit_bytes", (double)s->gpu_limit_bytes);
            cJSON_AddNumberToObject(x, "gpu_bytes", (double)s->gpu_bytes);
            cJSON_AddNumberToObject(x, "gpu_weights_bytes", (double)s->gpu_weights_bytes);
            cJSON_AddNumberToObject(x, "gpu_kv_cache_bytes", (double)s->gpu_kv_bytes);
            cJSON_AddNumberToObject(x, "gpu_compute_bytes", (double)s->gpu_compute_bytes);
            cJSON_AddNumberToObject(x, "gpu_overhead_bytes", (double)s->gpu_overhead_bytes);
            cJSON_AddNumberToObject(x, "host_bytes", (double)s->host_bytes);
            cJSON_AddNumberToObject(x, "host_weights_bytes", (double)s->host_weights_bytes);
            cJSON_AddNumberToObject(x, "host_embeddings_bytes", (double)s->host_embed_bytes);
            cJSON_AddNumberToObject(x, "host_kv_cache_bytes", (double)s->host_kv_bytes);
            num_or_null(x, "gpu_bandwidth", g->bandwidth_bytes_per_second > 0 ? g->bandwidth_bytes_per_second : -1);
            num_or_null(x, "host_bandwidth", q->opts.host_bytes_per_second > 0 ? q->opts.host_bytes_per_second : -1);
            num_or_null(x, "gpu_step_s", s->gpu_seconds);
            num_or_null(x, "host_step_s", s->host_seconds);
            num_or_null(x, "decode_step_s", s->decode_step_seconds);
            continue;
        }
        if (!gs) gs = cJSON_AddArrayToObject(j, "gpus");
        cJSON *x = gs ? cJSON_CreateObject() : NULL;
        if (!x) continue;
        cJSON_AddStringToObject(x, "name", g->name);
        cJSON_AddStringToObject(x, "description", g->description);
        cJSON_AddNumberToObject(x, "count", t[i].gpu_count);
        cJSON_AddNumberToObject(x, "tp", q->opts.tp);
        cJSON_AddNumberToObject(x, "memory_bytes", (double)g->memory_bytes);
        cJSON_AddNumberToObject(x, "usable_memory_bytes", (double)q->opts.mem_bytes);
        cJSON_AddBoolToObject(x, "unified_memory", g->unified_memory);
        cJSON_AddNumberToObject(x, "bandwidth", g->bandwidth_bytes_per_second);
        num_or_null(x, "peak_flops_fp32", g->peak_flops_fp32 > 0 ? g->peak_flops_fp32 : -1);
        num_or_null(x, "peak_flops_fp16", g->peak_flops_fp16 > 0 ? g->peak_flops_fp16 : -1);
        num_or_null(x, "peak_flops_fp8", g->peak_flops_fp8 > 0 ? g->peak_flops_fp8 : -1);
        num_or_null(x, "peak_ops_int8", g->peak_ops_int8 > 0 ? g->peak_ops_int8 : -1);
        cJSON_AddBoolToObject(x, "fits", q->fits);
        cJSON_AddNumberToObject(x, "max_batch", q->max_batch);
        cJSON_AddNumberToObject(x, "max_ctx", q->max_ctx);
        mw_gpu_step st;
        if (mw_gpu_step_compute(m, q, g, &st)) {
            cJSON_AddNumberToObject(x, "decode_step_s", st.step_seconds);
            cJSON_AddNumberToObject(x, "bandwidth_step_s", st.bandwidth_seconds);
            num_or_null(x, "compute_step_s", st.compute_seconds);
            cJSON_AddStringToObject(x, "peak_type", st.peak_type);
            cJSON_AddNumberToObject(x, "tokens_per_s", st.tokens_per_second);
            cJSON_AddStringToObject(x, "binds", st.binds);
        } else {
            cJSON_AddNullToObject(x, "decode_step_s");
            cJSON_AddNullToObject(x, "tokens_per_s");
            cJSON_AddNullToObject(x, "binds");
        }
        cJSON_AddStringToObject(x, "source", g->source);
        cJSON_AddItemToArray(gs, x);
    }
}

mw_status mw_plan_report_json(const mw_model *m, const mw_plan *p, const mw_plan_target *t,
                              size_t n_targets, const mw_ceilings *c, FILE *out, mw_err *err)
{
    mw_json_init();
    /* cJSON_Add* drop a key quietly when an allocation fails: count the
     * failures, so a report with a key missing is an error, not output */
    const uint64_t mark = mw_json_mark();
    const mw_plan_opts *o = &p->opts;
    cJSON *j = cJSON_CreateObject();
    MW_RETURN_IF(!j, err, MW_ERR_NOMEM, "out of memory writing the JSON report");
    cJSON_AddStringToObject(j, "schema", "memwall.plan/1");
    cJSON_AddStringToObject(j, "model", m->path);
    cJSON *h = cJSON_AddObjectToObject(j, "hparams");
    if (h) mw_json_add_hparams(h, &m->hp);
    cJSON *w = cJSON_AddObjectToObject(j, "workload");
    if (w) {
        cJSON_AddStringToObject(w, "mode", o->training ? "training" : "inference");
        cJSON_AddNumberToObject(w, "batch", o->batch);
        cJSON_AddNumberToObject(w, "ctx", o->ctx);
        cJSON_AddNumberToObject(w, "prompt", o->prompt);
        cJSON_AddNumberToObject(w, "ubatch", o->ubatch);
        cJSON_AddNumberToObject(w, "gen", o->ctx - o->prompt);
        const mw_dtype_info *wd = mw_dtype_get(o->weight_dtype);
        if (wd) cJSON_AddStringToObject(w, "weight_dtype", wd->name);
        else cJSON_AddNullToObject(w, "weight_dtype");
        cJSON_AddStringToObject(w, "kv_dtype", mw_dtype_get(o->kv_dtype)->name);
        cJSON_AddStringToObject(w, "act_dtype", mw_dtype_get(o->act_dtype)->name);
        cJSON_AddStringToObject(w, "optimizer", mw_plan_optimizer_name(o->optimizer));
        cJSON_AddBoolToObject(w, "mixed_precision", o->mixed_precision);
        cJSON_AddStringToObject(w, "recompute", mw_plan_recompute_name(o->recompute));
        cJSON_AddNumberToObject(w, "tp", o->tp);
        cJSON_AddNumberToObject(w, "pp", o->pp);
        cJSON_AddNumberToObject(w, "dp", o->dp);
        cJSON_AddNumberToObject(w, "zero", o->zero);
        /* --- weight scheme (issue #13): null when --dtype named a plain type or none --- */
        if (o->weight_scheme.kind != MW_SCHEME_NONE) {
            cJSON_AddStringToObject(w, "weight_scheme", o->weight_scheme.name);
            cJSON_AddStringToObject(w, "weight_scheme_detail", mw_weight_scheme_describe(&o->weight_scheme));
        } else {
            cJSON_AddNullToObject(w, "weight_scheme");
            cJSON_AddNullToObject(w, "weight_scheme_detail");
        }
    }
    cJSON_AddNumberToObject(j, "params", (double)p->params);
    cJSON_AddNumberToObject(j, "params_active", (double)p->params_active); /* MoE (issue #13) */
    add_components(j, p);
    cJSON_AddNumberToObject(j, "kv_bytes_per_token", (double)p->kv_bytes_per_token);
    /* issue #13: sliding-window layers (docs/JSON.md) */
    if (!p->opts.training) {
        cJSON *kw = cJSON_AddObjectToObject(j, "kv_layers");
        if (kw) {
            cJSON_AddNumberToObject(kw, "sliding", p->kv_sliding_layers);
            cJSON_AddNumberToObject(kw, "global", p->kv_global_layers);
            cJSON_AddNumberToObject(kw, "sliding_tokens", p->kv_window);
            cJSON_AddNumberToObject(kw, "global_tokens", p->opts.ctx);
        }
    }
    cJSON_AddNumberToObject(j, "activation_layer_bytes", (double)p->act_layer_bytes);
    cJSON_AddNumberToObject(j, "attention_scores_bytes", (double)p->act_scores_bytes);
    cJSON_AddNumberToObject(j, "logits_bytes", (double)p->act_logits_bytes);
    cJSON_AddStringToObject(j, "dominant", mw_component_name(p->dominant));
    /* attention and runtimes (issue #13) */
    cJSON_AddStringToObject(j, "runtime", mw_runtime_name(o->runtime));
    cJSON_AddBoolToObject(j, "flash_attn", o->flash_attn == MW_FLASH_ATTN_ON);
    cJSON_AddNumberToObject(j, "activations_other_attention_bytes", (double)p->act_alt_bytes);
    cJSON_AddNumberToObject(j, "kv_cells", (double)p->kv_cells);
    cJSON_AddNumberToObject(j, "mem_share", p->mem_share);
    cJSON *as = cJSON_AddArrayToObject(j, "assumptions");
    char assume[ASSUME_MAX][ASSUME_LEN];
    for (size_t i = 0, n = mw_plan_assumption_lines(p, assume); as && i < n; i++)
        cJSON_AddItemToArray(as, cJSON_CreateString(assume[i]));
    if (!p->opts.training) {
        cJSON_AddNumberToObject(j, "decode_step_bytes", p->decode_step_bytes);
        cJSON_AddNumberToObject(j, "decode_step_flops", p->decode_step_flops);
        double step, tps, bs, fs;
        if (on_this_machine(p, c, &step, &tps, &bs, &fs)) {
            cJSON *x = cJSON_AddObjectToObject(j, "on_this_machine");
            if (x) {
                mw_json_add_ceilings_source(x, c);
                cJSON_AddNumberToObject(x, "step_seconds_min", step);
                cJSON_AddNumberToObject(x, "bandwidth_step_seconds", bs);
                cJSON_AddNumberToObject(x, "compute_step_seconds", fs);
                cJSON_AddNumberToObject(x, "tokens_per_second_max", tps);
                cJSON_AddStringToObject(x, "binds", bs >= fs ? "bandwidth" : "compute");
            }
        } else {
            cJSON_AddNullToObject(j, "on_this_machine");
        }
    }
    paging_json(j, m, p); /* issue #15: only with --mem-budget */
    /* training: what is trained; LoRA / QLoRA's parts (null without) */
    if (o->training) cJSON_AddNumberToObject(j, "trainable_params", (double)p->trainable_params);
    else cJSON_AddNullToObject(j, "trainable_params");
    if (o->lora_rank) {
        cJSON *l = cJSON_AddObjectToObject(j, "lora");
        if (l) {
            cJSON_AddNumberToObject(l, "rank", o->lora_rank);
            cJSON_AddStringToObject(l, "targets", p->lora_targets);
            cJSON_AddBoolToObject(l, "default_targets", p->lora_default_targets);
            cJSON_AddNumberToObject(l, "modules", (double)p->lora_modules);
            cJSON_AddBoolToObject(l, "qlora", o->qlora);
            cJSON_AddStringToObject(l, "base_dtype", lora_base_type(p));
            cJSON_AddStringToObject(l, "adapter_dtype", lora_adapter_type(o));
            cJSON_AddNumberToObject(l, "all_params", (double)(p->params + p->trainable_params));
            cJSON_AddNumberToObject(l, "base_weights_bytes", (double)p->lora_base_bytes);
            cJSON_AddNumberToObject(l, "adapter_weights_bytes", (double)p->lora_adapter_bytes);
            cJSON_AddNumberToObject(l, "adapter_activations_bytes", (double)p->lora_adapter_act_bytes);
            cJSON_AddBoolToObject(l, "paged_optimizer", o->qlora);
        }
    } else {
        cJSON_AddNullToObject(j, "lora");
    }
    if (n_targets) {
        /* the first memory size answers the top-level keys */
        cJSON_AddNumberToObject(j, "mem_bytes", (double)t[0].plan.opts.mem_bytes);
        cJSON_AddBoolToObject(j, "fits", t[0].plan.fits);
        cJSON_AddNumberToObject(j, "max_batch", t[0].plan.max_batch);
        cJSON_AddNumberToObject(j, "max_ctx", t[0].plan.max_ctx);
    } else {
        cJSON_AddNullToObject(j, "max_batch");
    }
    cJSON *ts = cJSON_AddArrayToObject(j, "targets");
    gpus_json(j, m, t, n_targets);
    for (size_t i = 0; ts && i < n_targets; i++) {
        const mw_plan *q = &t[i].plan;
        if (t[i].offload) continue;
        cJSON *x = cJSON_CreateObject();
        if (!x) break;
        cJSON_AddStringToObject(x, "name", t[i].name);
        cJSON_AddNumberToObject(x, "mem_bytes", (double)q->opts.mem_bytes);
        cJSON_AddBoolToObject(x, "fits", q->fits);
        cJSON_AddBoolToObject(x, "fits_with_high_overhead", q->fits_high);
        cJSON_AddNumberToObject(x, "max_batch", q->max_batch);
        cJSON_AddNumberToObject(x, "max_batch_high_overhead", q->max_batch_high);
        cJSON_AddNumberToObject(x, "max_ctx", q->max_ctx);
        cJSON_AddStringToObject(x, "dominant_at_max_batch", mw_component_name(q->max_batch_dominant));
        cJSON_AddItemToArray(ts, x);
    }
    return mw_json_write(j, out, 1, "JSON report", mark, err);
}
