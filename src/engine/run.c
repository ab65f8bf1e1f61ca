/*
 * run.c - mw_run: load, prefill the prompts, decode greedily, measure.
 *
 * Prompts are processed in steps of at most ubatch tokens of every sequence
 * still in its prompt (all sequences together, as the planner assumes);
 * decoding then feeds one token of each sequence per step. The measured
 * breakdown is the counting allocator's bytes per tag held during the run
 * (weights mapped from a file count as their tensors' bytes), next to
 * mw_plan_compute's prediction for the same settings.
 */
#include "engine/llama.h"
#include "engine/threadpool.h"
#include "format/model.h"
#include "common/error.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void mw_run_opts_init(mw_run_opts *o)
{
    memset(o, 0, sizeof *o);
    o->prompt = 64;
    o->gen = 32;
    o->ubatch = 512;
    o->seed = 1;
    o->kv_dtype = MW_DTYPE_F16;
}

void mw_run_result_free(mw_run_result *r)
{
    if (!r) return;
    mw_free(r->generated);
    mw_free(r->logits);
    mw_free(r);
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static uint64_t splitmix(uint64_t *s)
{
    uint64_t x = (*s += 0x9e3779b97f4a7c15ull);
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

static int32_t argmax(const float *x, uint32_t n)
{
    uint32_t best = 0;
    for (uint32_t i = 1; i < n; i++)
        if (x[i] > x[best]) best = i;
    return (int32_t)best;
}

/* The run's state, freed in one place. */
typedef struct run_state {
    mw_pool *pool;
    mw_llama *m;
    mw_kv_cache kv;
    mw_forward fw;
    int32_t **prompts;
    uint32_t *lens;
    int32_t *tok, *seq, *pos, *last;
    double *step_times;
} run_state;

static void state_free(run_state *S, uint32_t batch)
{
    mw_forward_free(&S->fw);
    mw_kv_cache_free(&S->kv);
    mw_llama_free(S->m);
    mw_pool_free(S->pool);
    if (S->prompts)
        for (uint32_t s = 0; s < batch; s++) mw_free(S->prompts[s]);
    mw_free(S->prompts);
    mw_free(S->lens);
    mw_free(S->tok);
    mw_free(S->seq);
    mw_free(S->pos);
    mw_free(S->last);
    mw_free(S->step_times);
}

static mw_status predict(const mw_llama *m, const mw_run_opts *o, uint32_t batch, uint32_t prompt,
                         uint32_t ctx, mw_plan *out, mw_err *err)
{
    mw_model *pm = mw_model_from_hparams(MW_SOURCE_GGUF, "engine", &m->hp, m->n_params, m->weights_bytes);
    MW_RETURN_IF(!pm, err, MW_ERR_NOMEM, "out of memory planning");
    mw_plan_opts po;
    mw_plan_opts_init(&po);
    po.batch = batch;
    po.prompt = prompt;
    po.ctx = ctx;
    po.gen = ctx - prompt;
    po.ubatch = o->ubatch;
    po.kv_dtype = o->kv_dtype;
    mw_status st = mw_plan_compute(pm, &po, out, err);
    mw_model_free(pm);
    return st;
}

mw_status mw_run(const char *model, const mw_run_opts *opts, mw_run_result **out, mw_err *err)
{
    *out = NULL;
    mw_run_opts o = *opts;
    MW_RETURN_IF(o.ubatch == 0, err, MW_ERR_INVALID, "ubatch must be at least 1");
    uint32_t batch = o.n_seqs ? o.n_seqs : (o.batch ? o.batch : 1);
    MW_RETURN_IF(o.n_seqs && o.batch && o.batch != o.n_seqs, err, MW_ERR_INVALID,
                 "--batch %u but %u prompts given: give one or the other", o.batch, o.n_seqs);
    MW_RETURN_IF(batch > 4096, err, MW_ERR_INVALID, "--batch %u is more than 4096", batch);
    if (o.threads == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        o.threads = n > 0 ? (uint32_t)n : 1;
    }
    run_state S;
    memset(&S, 0, sizeof S);
    mw_run_result *r = mw_calloc(1, sizeof *r, MW_MEM_OTHER);
    mw_status st = r ? MW_OK : mw_err_set(err, MW_ERR_NOMEM, "out of memory");
    mw_mem_stats base, held;
    mw_mem_get_stats(&base);
    if (st == MW_OK) st = mw_pool_init(&S.pool, (int)o.threads, err);

    double t0 = now();
    if (st == MW_OK) st = mw_llama_load(model, o.no_mmap, o.mlock, S.pool, &S.m, err);
    double t_load = now() - t0;
    if (st != MW_OK) goto done;
    const mw_hparams *hp = &S.m->hp;

    /* the prompts: given, or random tokens from the seed */
    S.prompts = mw_calloc(batch, sizeof *S.prompts, MW_MEM_OTHER);
    S.lens = mw_calloc(batch, sizeof *S.lens, MW_MEM_OTHER);
    if (!S.prompts || !S.lens) { st = mw_err_set(err, MW_ERR_NOMEM, "out of memory"); goto done; }
    uint32_t max_len = 0;
    uint64_t rng = o.seed;
    for (uint32_t s = 0; s < batch; s++) {
        uint32_t len = o.n_seqs ? o.n_tokens[s] : o.prompt;
        if (len == 0) { st = mw_err_set(err, MW_ERR_INVALID, "prompt %u is empty", s + 1); goto done; }
        S.prompts[s] = mw_malloc(len * sizeof(int32_t), MW_MEM_OTHER);
        if (!S.prompts[s]) { st = mw_err_set(err, MW_ERR_NOMEM, "out of memory"); goto done; }
        for (uint32_t i = 0; i < len; i++) {
            int32_t t = o.n_seqs ? o.tokens[s][i] : (int32_t)(splitmix(&rng) % hp->n_vocab);
            if (t < 0 || (uint32_t)t >= hp->n_vocab) {
                st = mw_err_set(err, MW_ERR_INVALID, "prompt %u, token %u: id %d is outside the vocabulary "
                                "(0..%u)", s + 1, i + 1, t, hp->n_vocab - 1);
                goto done;
            }
            S.prompts[s][i] = t;
        }
        S.lens[s] = len;
        if (len > max_len) max_len = len;
    }
    uint32_t ctx = o.ctx ? o.ctx : max_len + o.gen;
    if ((uint64_t)max_len + o.gen > ctx) {
        st = mw_err_set(err, MW_ERR_INVALID, "--ctx %u is too small for a prompt of %u and %u generated "
                        "tokens", ctx, max_len, o.gen);
        goto done;
    }

    /* step shapes: the first prefill step is the largest; decode attends to ctx */
    int64_t n_pre = 0;
    for (uint32_t s = 0; s < batch; s++) n_pre += S.lens[s] < o.ubatch ? S.lens[s] : o.ubatch;
    mw_step_shape shapes[2] = {{n_pre, max_len}, {batch, ctx}};
    st = mw_kv_cache_init(&S.kv, S.m, o.kv_dtype, batch, ctx, err);
    if (st == MW_OK) st = mw_forward_init(&S.fw, S.m, &S.kv, S.pool, shapes, o.gen ? 2 : 1, batch, err);
    if (st != MW_OK) goto done;
    int64_t cap = n_pre > batch ? n_pre : batch;
    S.tok = mw_malloc(cap * sizeof(int32_t), MW_MEM_OTHER);
    S.seq = mw_malloc(cap * sizeof(int32_t), MW_MEM_OTHER);
    S.pos = mw_malloc(cap * sizeof(int32_t), MW_MEM_OTHER);
    S.last = mw_malloc(batch * sizeof(int32_t), MW_MEM_OTHER);
    S.step_times = mw_malloc((o.gen ? o.gen : 1) * sizeof(double), MW_MEM_OTHER);
    /* the output buffer of the logits, as the plan counts it: activations */
    r->logits = mw_malloc((size_t)batch * hp->n_vocab * sizeof(float), MW_MEM_ACTIVATIONS);
    r->generated = mw_malloc((size_t)batch * (o.gen ? o.gen : 1) * sizeof(int32_t), MW_MEM_OTHER);
    if (!S.tok || !S.seq || !S.pos || !S.last || !S.step_times || !r->logits || !r->generated) {
        st = mw_err_set(err, MW_ERR_NOMEM, "out of memory");
        goto done;
    }

    /* prefill */
    double tp = now();
    uint64_t prompt_tokens = 0;
    for (uint32_t done_to = 0; done_to < max_len; done_to += o.ubatch) {
        int64_t n = 0;
        for (uint32_t s = 0; s < batch; s++) {
            S.last[s] = -1;
            for (uint32_t i = done_to; i < S.lens[s] && i < done_to + o.ubatch; i++) {
                S.tok[n] = S.prompts[s][i];
                S.seq[n] = (int32_t)s;
                S.pos[n] = (int32_t)i;
                if (i == S.lens[s] - 1) S.last[s] = (int32_t)n;
                n++;
            }
        }
        if (n == 0) continue;
        prompt_tokens += (uint64_t)n;
        st = mw_forward_step(&S.fw, n, S.tok, S.seq, S.pos, S.last, r->logits, err);
        if (st != MW_OK) goto done;
    }
    double t_prompt = now() - tp;

    /* greedy decoding: each step feeds the token chosen from the last logits */
    double td = now();
    for (uint32_t g = 0; g < o.gen; g++) {
        double ts = now();
        for (uint32_t s = 0; s < batch; s++) {
            int32_t t = argmax(r->logits + (size_t)s * hp->n_vocab, hp->n_vocab);
            r->generated[(size_t)s * o.gen + g] = t;
            S.tok[s] = t;
            S.seq[s] = (int32_t)s;
            S.pos[s] = (int32_t)(S.lens[s] + g);
            S.last[s] = (int32_t)s;
        }
        st = mw_forward_step(&S.fw, batch, S.tok, S.seq, S.pos, S.last, r->logits, err);
        if (st != MW_OK) goto done;
        S.step_times[g] = now() - ts;
    }
    double t_decode = now() - td;

    /* what the run held, by tag, against what the plan predicts */
    mw_mem_get_stats(&held);
    r->measured[MW_COMP_WEIGHTS] = S.m->mapped ? S.m->weights_bytes
                                               : held.current_bytes[MW_MEM_WEIGHTS] - base.current_bytes[MW_MEM_WEIGHTS];
    r->weights_mapped = S.m->mapped;
    r->measured[MW_COMP_KV_CACHE] = held.current_bytes[MW_MEM_KV_CACHE] - base.current_bytes[MW_MEM_KV_CACHE];
    r->measured[MW_COMP_ACTIVATIONS] =
        held.current_bytes[MW_MEM_ACTIVATIONS] - base.current_bytes[MW_MEM_ACTIVATIONS];
    r->measured[MW_COMP_SCRATCH] = held.current_bytes[MW_MEM_SCRATCH] - base.current_bytes[MW_MEM_SCRATCH];
    st = predict(S.m, &o, batch, max_len, ctx, &r->predicted, err);
    if (st != MW_OK) goto done;

    snprintf(r->model, sizeof r->model, "%s", model);
    r->batch = batch;
    r->n_vocab = hp->n_vocab;
    r->threads = o.threads;
    r->prompt_tokens = prompt_tokens;
    r->gen_tokens = (uint64_t)batch * o.gen;
    r->gen_per_seq = o.gen;
    r->load_seconds = t_load;
    r->prompt_seconds = t_prompt;
    r->decode_seconds = t_decode;
    r->prompt_tokens_per_second = t_prompt > 0 ? (double)prompt_tokens / t_prompt : 0;
    r->decode_tokens_per_second = t_decode > 0 ? (double)r->gen_tokens / t_decode : 0;
    if (o.gen) {
        qsort(S.step_times, o.gen, sizeof(double), cmp_double);
        r->decode_step_seconds = S.step_times[o.gen / 2];
    }
done:
    state_free(&S, batch);
    if (st != MW_OK) {
        mw_run_result_free(r);
        return st;
    }
    *out = r;
    return MW_OK;
}
