/*
 * offload.c - an offload split as llama.cpp's -ngl makes it (docs/PLAN.md,
 * "Offload split"), and a decode step on a GPU by name: pure functions.
 *
 * llama.cpp (src/llama-model.cpp, load_tensors): i_gpu_start =
 * max(n_layer + 1 - n_gpu_layers, 0); layer il (0 .. n_layer, n_layer being
 * the output layer) is on the GPU when il >= i_gpu_start. So -ngl counts
 * n_layer + 1 layers and takes the output layer (final norm, head) first,
 * then repeating layers from the last; the input layer (token embeddings)
 * always stays on the CPU ("there is very little benefit to offloading the
 * input layer"). A tied head is created TENSOR_DUPLICATED in the output
 * layer, so the GPU then holds a copy of the embedding table. Each layer's
 * KV cache lives with its layer (llama-kv-cache.cpp, dev_layer(il)).
 */
#include "plan/plan_internal.h"
#include "common/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int is_float(mw_dtype t)
{
    return t == MW_DTYPE_F32 || t == MW_DTYPE_F16 || t == MW_DTYPE_BF16 || t == MW_DTYPE_F64;
}

/* A tensor's bytes as mw_plan_weights counts them (stored, or converted to
 * o->weight_dtype with the same rule). */
uint64_t mw_plan_tensor_bytes(const mw_tensor_info *t, const mw_plan_opts *o)
{
    if (o->weight_dtype == MW_DTYPE_COUNT) return t->bytes;
    mw_dtype d = o->weight_dtype;
    if (t->n_dims < 2 && !is_float(d)) d = MW_DTYPE_F32;
    uint64_t b = mw_dtype_bytes(d, t->n_elems);
    if (b == MW_UNKNOWN || (t->n_dims >= 1 && t->shape[t->n_dims - 1] % mw_dtype_get(d)->block_elems != 0))
        b = mw_dtype_bytes(MW_DTYPE_F16, t->n_elems);
    return b;
}

/* The repeating layer a tensor belongs to, by its name in the checkpoint
 * layouts memwall reads ("model.layers.N.", "blk.N.", "transformer.h.N.",
 * "gpt_neox.layers.N."); -1 outside the layers. */
long mw_plan_layer_of(const char *name)
{
    static const char *const marks[] = {"layers.", "blk.", ".h.", "h."};
    for (size_t k = 0; k < sizeof marks / sizeof marks[0]; k++) {
        const char *p = strstr(name, marks[k]);
        if (!p || (k == 3 && p != name)) continue;
        p += strlen(marks[k]);
        if (*p < '0' || *p > '9') continue;
        char *end;
        long l = strtol(p, &end, 10);
        if (*end == '.') return l;
    }
    return -1;
}

/* An input-layer tensor: the token (and position / type) embeddings. */
static int is_input(const char *name)
{
    return strstr(name, "embed_tokens") || strstr(name, "token_embd") || strstr(name, "wte.") ||
           strstr(name, "wpe.") || strstr(name, "embed_in") || strstr(name, "position_embd") ||
           strstr(name, "embed_positions") || strstr(name, "token_types");
}

mw_status mw_plan_offload(const mw_model *m, const mw_plan_opts *opts, const mw_gpu_spec *g, mw_offload *out,
                          mw_err *err)
{
    MW_RETURN_IF(!g, err, MW_ERR_INVALID, "an offload split needs a GPU: give --gpu NAME");
    MW_RETURN_IF(opts->training, err, MW_ERR_INVALID,
                 "--gpu-layers plans inference (llama.cpp's -ngl), not --train");
    MW_RETURN_IF(opts->tp != 1 || opts->pp != 1 || opts->dp != 1, err, MW_ERR_INVALID,
                 "--gpu-layers splits one model between one GPU and the host; drop --tp, --pp and --dp "
                 "(and a GPU count)");
    MW_RETURN_IF(opts->gpu_layers != MW_GPU_LAYERS_AUTO && opts->gpu_layers < 0, err, MW_ERR_INVALID,
                 "--gpu-layers must be a count of layers or 'auto'");
    mw_plan_opts o = *opts;
    o.mem_bytes = MW_UNKNOWN;
    mw_plan p;
    MW_FORWARD(mw_plan_compute(m, &o, &p, err));
    o = p.opts; /* with the defaults filled in */
    const uint32_t L = m->hp.n_layers;
    uint64_t *layer_w = mw_calloc((size_t)L + 1, sizeof *layer_w, MW_MEM_OTHER);
    MW_RETURN_IF(!layer_w, err, MW_ERR_NOMEM, "out of memory planning the offload split");
    uint64_t input_w = 0, output_w = 0, tied_copy = 0;
    for (uint32_t i = 0; i < m->n_tensors; i++) {
        const mw_tensor_info *t = &m->tensors[i];
        uint64_t b = mw_plan_tensor_bytes(t, &o);
        long l = mw_plan_layer_of(t->name);
        if (l >= 0 && (uint64_t)l < L) layer_w[l] += b;
        else if (is_input(t->name)) {
            input_w += b;
            /* the head of a tied model is the token table, duplicated */
            if (m->hp.tied_embeddings && (strstr(t->name, "embed_tokens") || strstr(t->name, "token_embd") ||
                                          strstr(t->name, "wte.")))
                tied_copy = b;
        } else output_w += b;
    }
    const uint64_t kv_layer_token = p.kv_bytes_per_token / L;   /* exact: 2 x row x L */
    const uint64_t kv_layer = kv_layer_token * o.ctx * o.batch;
    const double pos = o.gen ? o.prompt + (o.gen + 1) / 2.0 : o.prompt; /* as mw_plan_decode_step */
    /* MoE: a step reads only the experts some sequence is routed to, at
     * most min(E, B x k) of E (as mw_plan_decode_step): the share of a
     * layer's matrices left unread */
    double unread = 0;
    if (m->hp.n_experts > 1) {
        const mw_hparams *hp = &m->hp;
        const double h = hp->n_embd, d = hp->head_dim, E = hp->n_experts;
        const double attn_w = 2 * h * hp->n_heads * d + 2 * h * hp->n_kv_heads * d;
        const double ffn_w = (hp->gated_ffn ? 3 : 2) * h * (double)hp->n_ff * E;
        const double k = hp->n_experts_used ? hp->n_experts_used : 1;
        const double read = (double)o.batch * k < E ? (double)o.batch * k : E;
        unread = ffn_w / (attn_w + ffn_w) * (1 - read / E);
    }
    const uint64_t compute = p.bytes[MW_COMP_ACTIVATIONS] + p.bytes[MW_COMP_SCRATCH];
    const uint64_t overhead = p.bytes[MW_COMP_OVERHEAD];
    const uint64_t usable = mw_gpu_spec_usable_bytes(g);
    const uint64_t margin = opts->gpu_margin_bytes != MW_UNKNOWN ? opts->gpu_margin_bytes : (1ull << 30);
    const uint64_t limit = opts->gpu_layers == MW_GPU_LAYERS_AUTO ? (usable > margin ? usable - margin : 0) : usable;

    /* the split for n GPU layers (n <= L + 1) */
    mw_offload r;
    uint32_t n = opts->gpu_layers == MW_GPU_LAYERS_AUTO ? L + 1
                 : (uint32_t)opts->gpu_layers > L + 1 ? L + 1 : (uint32_t)opts->gpu_layers;
    for (;;) {
        memset(&r, 0, sizeof r);
        r.n_layers = L;
        r.gpu_layers = n;
        r.output_on_gpu = n >= 1;
        r.gpu_repeating_layers = n >= 1 ? n - 1 : 0;
        const uint32_t first_gpu = L - r.gpu_repeating_layers;
        double gpu_read = 0, host_read = 0, gpu_layers_w = 0, host_layers_w = 0;
        for (uint32_t l = 0; l < L; l++) {
            if (l >= first_gpu) r.gpu_weights_bytes += layer_w[l], r.gpu_kv_bytes += kv_layer, gpu_layers_w += layer_w[l];
            else r.host_weights_bytes += layer_w[l], r.host_kv_bytes += kv_layer, host_layers_w += layer_w[l];
        }
        const uint64_t head = output_w + tied_copy;
        if (r.output_on_gpu) r.gpu_weights_bytes += head;
        else r.host_weights_bytes += output_w;   /* a tied head reads the host's table */
        r.host_embed_bytes = input_w;
        r.host_weights_bytes += input_w;
        r.gpu_compute_bytes = compute;
        r.gpu_overhead_bytes = overhead;
        r.gpu_bytes = r.gpu_weights_bytes + r.gpu_kv_bytes + compute + overhead;
        r.host_bytes = r.host_weights_bytes + r.host_kv_bytes;
        r.gpu_limit_bytes = limit;
        r.fits = r.gpu_bytes <= limit;
        /* a decode step reads every weight of its layers and head once (the
         * embedding table a row per sequence: not counted; MoE: the routed
         * experts) and the KV cache to the mean position, as
         * mw_plan_decode_step does */
        const double kv_read = (double)o.batch * pos * (double)kv_layer_token;
        gpu_read = (double)r.gpu_weights_bytes - gpu_layers_w * unread + kv_read * r.gpu_repeating_layers;
        host_read = (double)(r.host_weights_bytes - input_w) - host_layers_w * unread +
                    kv_read * (L - r.gpu_repeating_layers);
        if (!r.output_on_gpu && m->hp.tied_embeddings) host_read += (double)tied_copy;
        r.gpu_read_bytes = gpu_read;
        r.host_read_bytes = host_read;
        r.gpu_seconds = g->bandwidth_bytes_per_second > 0 ? gpu_read / g->bandwidth_bytes_per_second : -1;
        r.host_seconds = host_read == 0                       ? 0
                         : opts->host_bytes_per_second > 0 ? host_read / opts->host_bytes_per_second
                                                           : -1;
        r.decode_step_seconds = r.gpu_seconds < 0 || r.host_seconds < 0 ? -1 : r.gpu_seconds + r.host_seconds;
        if (opts->gpu_layers != MW_GPU_LAYERS_AUTO || r.fits || n == 0) break;
        n--;
    }
    mw_free(layer_w);
    *out = r;
    return MW_OK;
}

int mw_gpu_step_compute(const mw_model *m, const mw_plan *p, const mw_gpu_spec *g, mw_gpu_step *out)
{
    memset(out, 0, sizeof *out);
    if (p->opts.training || !(p->decode_step_bytes > 0) || !(g->bandwidth_bytes_per_second > 0)) return 0;
    mw_dtype wt = p->opts.weight_dtype != MW_DTYPE_COUNT ? p->opts.weight_dtype : m->hp.dtype;
    double peak;
    const char *type;
    if (wt == MW_DTYPE_F32 || wt == MW_DTYPE_F64) peak = g->peak_flops_fp32, type = "fp32";
    else if (wt == MW_DTYPE_F16 || wt == MW_DTYPE_BF16 || wt == MW_DTYPE_COUNT) peak = g->peak_flops_fp16, type = "fp16";
    else if (wt == MW_DTYPE_F8_E4M3 || wt == MW_DTYPE_F8_E5M2) peak = g->peak_flops_fp8, type = "fp8";
    else peak = g->peak_ops_int8, type = "int8"; /* quantized: int8 dot products (llama.cpp MMQ/MMVQ) */
    if (!(peak > 0)) peak = g->peak_flops_fp16, type = "fp16";
    if (!(peak > 0)) peak = g->peak_flops_fp32, type = "fp32";
    out->peak = peak > 0 ? peak : 0;
    out->peak_type = type;
    out->bandwidth_seconds = p->decode_step_bytes / g->bandwidth_bytes_per_second;
    out->compute_seconds = peak > 0 ? p->decode_step_flops / peak : -1;
    out->step_seconds = out->bandwidth_seconds >= out->compute_seconds ? out->bandwidth_seconds : out->compute_seconds;
    out->binds = out->bandwidth_seconds >= out->compute_seconds ? "bandwidth" : "compute";
    out->tokens_per_second = (double)p->opts.batch / out->step_seconds;
    return 1;
}
