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
#include "engine/stream.h" /* issue #15, paging */
#include "format/model.h"
#include "format/tokenizer.h"
#include "common/error.h"
#include "common/sort.h"

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
    o->mem_available_bytes = MW_UNKNOWN;
    o->stop_token = -1;
    o->mem_budget_bytes = MW_UNKNOWN; /* paging (issue #15): none unless asked */
}

void mw_run_result_free(mw_run_result *r)
{
    if (!r) return;
    mw_free(r->generated);
    mw_free(r->gen_lens);
    if (r->texts)
        for (uint32_t s = 0; s < r->batch; s++) mw_free(r->texts[s]);
    mw_free(r->texts);
    mw_free(r->logits);
    mw_free(r);
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
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

/* The run's state, freed in one place, and the shape of its workload. */
typedef struct run_state {
    mw_pool *pool;
    mw_llama *m;
    mw_kv_cache kv;
    mw_forward fw;
    int32_t **prompts;
    uint32_t *lens;
    int32_t *tok, *seq, *pos, *last;
    double *step_times;
    /* text (opts.text): the vocabulary, the prompt's ids, and per sequence
     * the bytes of its decoded prompt and of its continuation given out */
    mw_tokenizer *tok_vocab;
    uint32_t *prompt_ids;
    size_t n_prompt_ids;
    size_t prompt_text_bytes;
    size_t *text_given;
    uint32_t *id_buf;                /* prompt + generated ids of a sequence */
    uint8_t *done;                   /* sequences that generated the stop    */
    int32_t stop;                    /* the stop token, -1: none             */
    double text_seconds;             /* spent decoding and giving out text   */
    uint32_t batch;                  /* sequences                            */
    uint32_t max_len;                /* the longest prompt                   */
    uint32_t ctx;                    /* KV tokens per sequence               */
} run_state;

static void state_free(run_state *S)
{
    mw_forward_free(&S->fw);
    mw_kv_cache_free(&S->kv);
    mw_llama_free(S->m);
    mw_pool_free(S->pool);
    if (S->prompts)
        for (uint32_t s = 0; s < S->batch; s++) mw_free(S->prompts[s]);
    mw_free(S->prompts);
    mw_free(S->lens);
    mw_free(S->tok);
    mw_free(S->seq);
    mw_free(S->pos);
    mw_free(S->last);
    mw_free(S->step_times);
    mw_tokenizer_free(S->tok_vocab);
    mw_free(S->prompt_ids);
    mw_free(S->text_given);
    mw_free(S->id_buf);
    mw_free(S->done);
}

static mw_status predict(const mw_llama *m, const mw_run_opts *o, uint32_t batch, uint32_t prompt,
                         uint32_t ctx, mw_plan *out, mw_err *err)
{
    mw_model *pm = NULL;
    if (o->mem_budget_bytes != MW_UNKNOWN && m->path) {
        /* issue #15: the budget split needs the file's tensors, as the
         * engine's own split used them */
        MW_FORWARD(mw_model_open(m->path, &pm, err));
    } else {
        pm = mw_model_from_hparams(MW_SOURCE_GGUF, "engine", &m->hp, m->n_params, m->weights_bytes);
    }
    MW_RETURN_IF(!pm, err, MW_ERR_NOMEM, "out of memory planning");
    mw_plan_opts po;
    mw_plan_opts_init(&po);
    po.batch = batch;
    po.prompt = prompt;
    po.ctx = ctx;
    po.gen = ctx - prompt;
    po.ubatch = o->ubatch;
    po.kv_dtype = o->kv_dtype;
    po.mem_budget_bytes = o->mem_budget_bytes; /* issue #15, paging */
    po.prefetch_layers = o->prefetch_layers;
    if (m->stream) { /* the reads the stream uses (DIRECT may fall back) */
        mw_stream_stats ss;
        mw_stream_get_stats(m->stream, &ss);
        po.stream_io = ss.io;
    }
    mw_status st = mw_plan_compute(pm, &po, out, err);
    mw_model_free(pm);
    return st;
}

/* The options as the run uses them: the batch, and the threads (0: the
 * CPUs online). */
static mw_status check_opts(mw_run_opts *o, uint32_t *batch, mw_err *err)
{
    MW_RETURN_IF(o->ubatch == 0, err, MW_ERR_INVALID, "ubatch must be at least 1");
    *batch = o->n_seqs ? o->n_seqs : (o->batch ? o->batch : 1);
    MW_RETURN_IF(o->n_seqs && o->batch && o->batch != o->n_seqs, err, MW_ERR_INVALID,
                 "--batch %u but %u prompts given: give one or the other", o->batch, o->n_seqs);
    MW_RETURN_IF(*batch > 4096, err, MW_ERR_INVALID, "--batch %u is more than 4096", *batch);
    MW_RETURN_IF(o->text && o->n_seqs, err, MW_ERR_INVALID,
                 "a text prompt and %u token-id prompts given: give one or the other", o->n_seqs);
    MW_RETURN_IF(o->stop_token < MW_RUN_STOP_EOS, err, MW_ERR_INVALID, "stop token %d is not an id",
                 o->stop_token);
    if (o->threads == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        o->threads = n > 0 ? (uint32_t)n : 1;
    }
    return MW_OK;
}

/* With a text prompt: the model's vocabulary and the prompt's ids (BOS as
 * the vocabulary asks); the stop token resolved (MW_RUN_STOP_EOS: EOS). */
static mw_status tokenize_prompt(run_state *S, const mw_run_opts *o, mw_err *err)
{
    S->stop = o->stop_token;
    if (!o->text) {
        MW_RETURN_IF(S->stop == MW_RUN_STOP_EOS, err, MW_ERR_INVALID,
                     "stopping at EOS needs a text prompt (the vocabulary says which id EOS is)");
        return MW_OK;
    }
    MW_RETURN_IF(!S->m->path, err, MW_ERR_UNSUPPORTED,
                 "the demo model has no vocabulary of real text: give a GGUF file that has one "
                 "(tokenizer.ggml.*; the built-in \"tiny\" does), or token ids with --tokens");
    MW_RETURN_IF(o->text_len == 0, err, MW_ERR_INVALID, "the text prompt is empty: give some text");
    /* the file's mapping, or (no_mmap: let go after loading) the file */
    MW_FORWARD(S->m->model ? mw_tokenizer_from_model(S->m->model, &S->tok_vocab, err)
                           : mw_tokenizer_open(S->m->path, &S->tok_vocab, err));
    MW_RETURN_IF(mw_tokenizer_vocab_size(S->tok_vocab) > S->m->hp.n_vocab, err, MW_ERR_INVALID,
                 "%s: the vocabulary has %u tokens but the model's output only %u: the file's "
                 "tokenizer.ggml.tokens does not belong to its weights",
                 S->m->path, mw_tokenizer_vocab_size(S->tok_vocab), S->m->hp.n_vocab);
    MW_FORWARD(mw_tokenizer_encode(S->tok_vocab, o->text, o->text_len,
                                   mw_tokenizer_adds_bos(S->tok_vocab) ? MW_TOK_ADD_BOS : 0u,
                                   &S->prompt_ids, &S->n_prompt_ids, err));
    MW_RETURN_IF(S->n_prompt_ids > UINT32_MAX / 2, err, MW_ERR_INVALID, "the text prompt is %zu tokens: too long",
                 S->n_prompt_ids);
    if (S->stop == MW_RUN_STOP_EOS) S->stop = (int32_t)mw_tokenizer_eos(S->tok_vocab);
    /* the decoded prompt's length: each continuation is what follows it */
    char *pt;
    MW_FORWARD(mw_tokenizer_decode(S->tok_vocab, S->prompt_ids, S->n_prompt_ids, &pt, &S->prompt_text_bytes, err));
    mw_free(pt);
    return MW_OK;
}

/* The workload's shape (S->max_len, S->ctx) from the options alone, before
 * anything of its size is allocated. */
static mw_status workload_shape(run_state *S, const mw_run_opts *o, mw_err *err)
{
    S->max_len = o->text ? (uint32_t)S->n_prompt_ids : o->prompt;
    if (o->n_seqs) {
        S->max_len = 0;
        for (uint32_t s = 0; s < S->batch; s++)
            if (o->n_tokens[s] > S->max_len) S->max_len = o->n_tokens[s];
    }
    uint64_t need = (uint64_t)S->max_len + o->gen;
    S->ctx = o->ctx ? o->ctx : (uint32_t)(need <= UINT32_MAX ? need : UINT32_MAX);
    MW_RETURN_IF(need > S->ctx, err, MW_ERR_INVALID,
                 "--ctx %u is too small for a prompt of %u and %u generated tokens", S->ctx, S->max_len, o->gen);
    /* text is read for its meaning: past the positions the model was
     * trained on it is not (token ids, for measuring memory, may go on) */
    const uint32_t trained = S->m->hp.n_ctx_train;
    MW_RETURN_IF(o->text && trained && need > trained, err, MW_ERR_INVALID,
                 "the text prompt is %u tokens and %u more are to be generated: %llu positions, more than the "
                 "model's context length %u (llama.context_length): give a shorter text or a smaller --gen",
                 S->max_len, o->gen, (unsigned long long)need, trained);
    return MW_OK;
}

/* The plan of the workload, refused when it needs more than
 * o->mem_available_bytes: failing here, with the plan's numbers, beats an
 * OOM kill halfway through the allocations. */
static mw_status check_fit(const mw_plan *p, const mw_run_opts *o, mw_err *err)
{
    if (o->mem_available_bytes == MW_UNKNOWN || p->total_bytes <= o->mem_available_bytes) return MW_OK;
    char need[32], w[32], kv[32], act[32], avail[32];
    return mw_err_set(err, MW_ERR_NOMEM,
                      "the plan of this run needs %s (weights %s, KV cache %s, activations %s), %s available: "
                      "lower --prompt/--batch/--ctx, or give --force",
                      mw_size_format(p->total_bytes, need, sizeof need),
                      mw_size_format(p->bytes[MW_COMP_WEIGHTS], w, sizeof w),
                      mw_size_format(p->bytes[MW_COMP_KV_CACHE], kv, sizeof kv),
                      mw_size_format(p->bytes[MW_COMP_ACTIVATIONS], act, sizeof act),
                      mw_size_format(o->mem_available_bytes, avail, sizeof avail));
}

/* The prompts: given, or random tokens from the seed. */
static mw_status make_prompts(run_state *S, const mw_run_opts *o, mw_err *err)
{
    const mw_hparams *hp = &S->m->hp;
    S->prompts = mw_calloc(S->batch, sizeof *S->prompts, MW_MEM_OTHER);
    S->lens = mw_calloc(S->batch, sizeof *S->lens, MW_MEM_OTHER);
    MW_RETURN_IF(!S->prompts || !S->lens, err, MW_ERR_NOMEM, "out of memory");
    uint64_t rng = o->seed;
    for (uint32_t s = 0; s < S->batch; s++) {
        uint32_t len = o->n_seqs ? o->n_tokens[s] : o->text ? (uint32_t)S->n_prompt_ids : o->prompt;
        MW_RETURN_IF(len == 0, err, MW_ERR_INVALID, "prompt %u is empty", s + 1);
        S->prompts[s] = mw_malloc(len * sizeof(int32_t), MW_MEM_OTHER);
        MW_RETURN_IF(!S->prompts[s], err, MW_ERR_NOMEM, "out of memory");
        for (uint32_t i = 0; i < len; i++) {
            int32_t t = o->n_seqs ? o->tokens[s][i]
                        : o->text ? (int32_t)S->prompt_ids[i] : (int32_t)(splitmix(&rng) % hp->n_vocab);
            MW_RETURN_IF(t < 0 || (uint32_t)t >= hp->n_vocab, err, MW_ERR_INVALID,
                         "prompt %u, token %u: id %d is outside the vocabulary (0..%u)", s + 1, i + 1, t,
                         hp->n_vocab - 1);
            S->prompts[s][i] = t;
        }
        S->lens[s] = len;
    }
    return MW_OK;
}

/* The KV cache, the forward pass's arena (for its two step shapes: the
 * first prefill step is the largest; decode attends to ctx) and the step
 * buffers. */
static mw_status alloc_buffers(run_state *S, mw_run_result *r, const mw_run_opts *o, mw_err *err)
{
    const uint32_t batch = S->batch;
    int64_t n_pre = 0;
    for (uint32_t s = 0; s < batch; s++) n_pre += S->lens[s] < o->ubatch ? S->lens[s] : o->ubatch;
    mw_step_shape shapes[2] = {{n_pre, S->max_len}, {batch, S->ctx}};
    r->batch = batch;             /* what mw_run_result_free frees by */
    MW_FORWARD(mw_kv_cache_init(&S->kv, S->m, o->kv_dtype, batch, S->ctx, err));
    MW_FORWARD(mw_forward_init(&S->fw, S->m, &S->kv, S->pool, shapes, o->gen ? 2 : 1, batch, err));
    int64_t cap = n_pre > batch ? n_pre : batch;
    S->tok = mw_malloc(cap * sizeof(int32_t), MW_MEM_OTHER);
    S->seq = mw_malloc(cap * sizeof(int32_t), MW_MEM_OTHER);
    S->pos = mw_malloc(cap * sizeof(int32_t), MW_MEM_OTHER);
    S->last = mw_malloc(batch * sizeof(int32_t), MW_MEM_OTHER);
    S->step_times = mw_malloc((o->gen ? o->gen : 1) * sizeof(double), MW_MEM_OTHER);
    /* the output buffer of the logits, as the plan counts it: activations */
    r->logits = mw_malloc((size_t)batch * S->m->hp.n_vocab * sizeof(float), MW_MEM_ACTIVATIONS);
    r->generated = mw_malloc((size_t)batch * (o->gen ? o->gen : 1) * sizeof(int32_t), MW_MEM_OTHER);
    r->gen_lens = mw_calloc(batch, sizeof *r->gen_lens, MW_MEM_OTHER);
    S->done = mw_calloc(batch, 1, MW_MEM_OTHER);
    MW_RETURN_IF(!S->tok || !S->seq || !S->pos || !S->last || !S->step_times || !r->logits || !r->generated ||
                     !r->gen_lens || !S->done,
                 err, MW_ERR_NOMEM, "out of memory");
    if (o->text) {
        r->texts = mw_calloc(batch, sizeof *r->texts, MW_MEM_OTHER);
        S->text_given = mw_calloc(batch, sizeof *S->text_given, MW_MEM_OTHER);
        S->id_buf = mw_malloc((S->n_prompt_ids + o->gen + 1) * sizeof *S->id_buf, MW_MEM_OTHER);
        MW_RETURN_IF(!r->texts || !S->text_given || !S->id_buf, err, MW_ERR_NOMEM, "out of memory");
    }
    return MW_OK;
}

/* Prefill: steps of up to ubatch tokens of every sequence still in its
 * prompt. Counts the prompt tokens in r. */
static mw_status prefill(run_state *S, mw_run_result *r, const mw_run_opts *o, mw_err *err)
{
    for (uint32_t done_to = 0; done_to < S->max_len; done_to += o->ubatch) {
        int64_t n = 0;
        for (uint32_t s = 0; s < S->batch; s++) {
            S->last[s] = -1;
            for (uint32_t i = done_to; i < S->lens[s] && i < done_to + o->ubatch; i++) {
                S->tok[n] = S->prompts[s][i];
                S->seq[n] = (int32_t)s;
                S->pos[n] = (int32_t)i;
                if (i == S->lens[s] - 1) S->last[s] = (int32_t)n;
                n++;
            }
        }
        if (n == 0) continue;
        r->prompt_tokens += (uint64_t)n;
        MW_FORWARD(mw_forward_step(&S->fw, n, S->tok, S->seq, S->pos, S->last, r->logits, err));
    }
    return MW_OK;
}

/* The length of text[0..n) without a partial UTF-8 character at its end
 * (a byte token's character whose other bytes are still to come). */
static size_t whole_chars(const char *text, size_t n)
{
    size_t i = n, back = 0;
    while (i > 0 && back < 4 && ((unsigned char)text[i - 1] & 0xC0) == 0x80) i--, back++;
    if (i == 0) return n;
    unsigned char lead = (unsigned char)text[i - 1];
    size_t need = lead >= 0xF0 ? 3 : lead >= 0xE0 ? 2 : lead >= 0xC0 ? 1 : 0;
    return need > back ? i - 1 : n;
}

/* Sequence s's continuation after `steps` tokens: decodes prompt and
 * generation together (so that the first piece keeps its leading space) and
 * gives out the bytes past what was given, whole characters only unless
 * final. Returns non-zero when the callback asks to stop. */
static int give_text(run_state *S, mw_run_result *r, const mw_run_opts *o, uint32_t s, uint32_t steps, int final,
                     mw_status *st, mw_err *err)
{
    size_t n = S->n_prompt_ids;
    memcpy(S->id_buf, S->prompt_ids, n * sizeof *S->id_buf);
    for (uint32_t g = 0; g < r->gen_lens[s] && g < steps; g++)
        S->id_buf[n++] = (uint32_t)r->generated[(size_t)s * o->gen + g];
    char *text;
    size_t len;
    if ((*st = mw_tokenizer_decode(S->tok_vocab, S->id_buf, n, &text, &len, err)) != MW_OK) return 1;
    size_t from = S->prompt_text_bytes + S->text_given[s];
    size_t to = final ? len : whole_chars(text, len);
    int stop = 0;
    if (to > from) {
        if (o->on_text) stop = o->on_text(o->on_text_user, s, text + from, to - from);
        S->text_given[s] = to - S->prompt_text_bytes;
    }
    if (final) {
        /* the result's text: the continuation alone */
        size_t cont = len - S->prompt_text_bytes;
        memmove(text, text + S->prompt_text_bytes, cont);
        text[cont] = '\0';
        r->texts[s] = text;
    } else {
        mw_free(text);
    }
    return stop;
}

/* Greedy decoding: each step feeds the token chosen from the last logits,
 * and its time is kept in S->step_times. A sequence that generates the stop
 * token is done (it still steps with the others); generation ends when all
 * are, or when the text callback asks. */
static mw_status decode(run_state *S, mw_run_result *r, const mw_run_opts *o, mw_err *err)
{
    const uint32_t n_vocab = S->m->hp.n_vocab;
    uint32_t steps = 0;
    for (uint32_t g = 0; g < o->gen; g++) {
        double ts = now();
        uint32_t live = 0;
        for (uint32_t s = 0; s < S->batch; s++) {
            int32_t t = argmax(r->logits + (size_t)s * n_vocab, n_vocab);
            r->generated[(size_t)s * o->gen + g] = t;
            if (!S->done[s]) {
                r->gen_lens[s] = g + 1;
                if (t == S->stop) S->done[s] = 1;
                else live++;
            }
            S->tok[s] = t;
            S->seq[s] = (int32_t)s;
            S->pos[s] = (int32_t)(S->lens[s] + g);
            S->last[s] = (int32_t)s;
        }
        MW_FORWARD(mw_forward_step(&S->fw, S->batch, S->tok, S->seq, S->pos, S->last, r->logits, err));
        S->step_times[g] = now() - ts;
        steps = g + 1;
        int stop = live == 0;
        if (o->text) {
            double tt = now();
            mw_status st = MW_OK;
            for (uint32_t s = 0; s < S->batch; s++)
                if (r->gen_lens[s] == g + 1 && give_text(S, r, o, s, steps, 0, &st, err)) stop = 1;
            MW_FORWARD(st);
            S->text_seconds += now() - tt;
        }
        if (stop) break;
    }
    if (o->text) {
        double tt = now();
        mw_status st = MW_OK;
        for (uint32_t s = 0; s < S->batch; s++) {
            give_text(S, r, o, s, steps, 1, &st, err);
            MW_FORWARD(st);
        }
        S->text_seconds += now() - tt;
    }
    /* the generated ids as batch x steps */
    if (steps < o->gen)
        for (uint32_t s = 1; s < S->batch; s++)
            memmove(r->generated + (size_t)s * steps, r->generated + (size_t)s * o->gen, steps * sizeof(int32_t));
    r->gen_per_seq = steps;
    return MW_OK;
}

/* What the run held, by tag since base (weights mapped from a file: their
 * tensors' bytes), next to the plan's prediction already in r. */
static void measure_held(const run_state *S, const mw_mem_stats *base, mw_run_result *r)
{
    mw_mem_stats held;
    mw_mem_get_stats(&held);
    r->measured[MW_COMP_WEIGHTS] = S->m->mapped ? S->m->weights_bytes
                                                : held.current_bytes[MW_MEM_WEIGHTS] - base->current_bytes[MW_MEM_WEIGHTS];
    r->weights_mapped = S->m->mapped;
    r->measured[MW_COMP_KV_CACHE] = held.current_bytes[MW_MEM_KV_CACHE] - base->current_bytes[MW_MEM_KV_CACHE];
    r->measured[MW_COMP_ACTIVATIONS] =
        held.current_bytes[MW_MEM_ACTIVATIONS] - base->current_bytes[MW_MEM_ACTIVATIONS];
    r->measured[MW_COMP_SCRATCH] = held.current_bytes[MW_MEM_SCRATCH] - base->current_bytes[MW_MEM_SCRATCH];
}

/* issue #15, paging: the split and the stream's figures. */
static void paging_result(const run_state *S, mw_run_result *r)
{
    r->split = S->m->split;
    r->paging = S->m->split.streamed_layers > 0;
    r->stream_decode_bytes_per_step = S->m->split.streamed_bytes_per_step;
    if (S->m->stream) {
        mw_stream_stats ss;
        mw_stream_get_stats(S->m->stream, &ss);
        r->stream_io = ss.io;
        r->stream_bytes_read = ss.bytes_read;
        r->stream_read_seconds = ss.read_seconds;
        r->stream_wait_seconds = ss.wait_seconds;
    }
}

mw_status mw_run(const char *model, const mw_run_opts *opts, mw_run_result **out, mw_err *err)
{
    *out = NULL;
    mw_run_opts o = *opts;
    run_state S;
    memset(&S, 0, sizeof S);
    MW_FORWARD(check_opts(&o, &S.batch, err));
    mw_run_result *r = mw_calloc(1, sizeof *r, MW_MEM_OTHER);
    mw_status st = r ? MW_OK : mw_err_set(err, MW_ERR_NOMEM, "out of memory");
    mw_mem_stats base;
    mw_mem_get_stats(&base);
    if (st == MW_OK) st = mw_pool_init(&S.pool, (int)o.threads, err);

    double t0 = now();
    /* issue #15, paging: under a memory budget (docs/PAGING.md) */
    int paging = o.mem_budget_bytes != MW_UNKNOWN;
    if (st == MW_OK && paging && (o.no_mmap || o.mlock))
        st = mw_err_set(err, MW_ERR_INVALID, "--mem-budget reads the resident weights itself and streams "
                        "the rest: drop --no-mmap and --mlock");
    if (st == MW_OK && paging)
        st = mw_llama_load_budget(model, o.mem_budget_bytes, o.prefetch_layers, o.stream_io, S.pool, &S.m, err);
    else if (st == MW_OK) st = mw_llama_load(model, o.no_mmap, o.mlock, S.pool, &S.m, err);
    double t_load = now() - t0;
    /* the plan of the workload, checked before anything of its size */
    if (st == MW_OK) st = tokenize_prompt(&S, &o, err);
    if (st == MW_OK) st = workload_shape(&S, &o, err);
    if (st == MW_OK) st = predict(S.m, &o, S.batch, S.max_len, S.ctx, &r->predicted, err);
    if (st == MW_OK) st = check_fit(&r->predicted, &o, err);
    if (st == MW_OK) st = make_prompts(&S, &o, err);
    if (st == MW_OK) st = alloc_buffers(&S, r, &o, err);
    if (st != MW_OK) goto done;

    double tp = now();
    st = prefill(&S, r, &o, err);
    double t_prompt = now() - tp;
    if (st != MW_OK) goto done;
    double td = now();
    st = decode(&S, r, &o, err);
    double t_decode = now() - td - S.text_seconds;
    if (st != MW_OK) goto done;

    measure_held(&S, &base, r);
    if (paging) paging_result(&S, r);
    snprintf(r->model, sizeof r->model, "%s", model);
    r->batch = S.batch;
    r->n_vocab = S.m->hp.n_vocab;
    r->threads = o.threads;
    r->gen_tokens = (uint64_t)S.batch * r->gen_per_seq;
    r->prompt_text_tokens = (uint32_t)S.n_prompt_ids;
    r->load_seconds = t_load;
    r->prompt_seconds = t_prompt;
    r->decode_seconds = t_decode;
    r->prompt_tokens_per_second = t_prompt > 0 ? (double)r->prompt_tokens / t_prompt : 0;
    r->decode_tokens_per_second = t_decode > 0 ? (double)r->gen_tokens / t_decode : 0;
    if (r->gen_per_seq) {
        qsort(S.step_times, r->gen_per_seq, sizeof(double), mw_cmp_double);
        r->decode_step_seconds = S.step_times[r->gen_per_seq / 2];
    }
done:
    state_free(&S);
    if (st != MW_OK) {
        mw_run_result_free(r);
        return st;
    }
    *out = r;
    return MW_OK;
}
