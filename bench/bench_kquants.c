/*
 * bench_kquants.c - speed of the K-quant matrix products (Q4_K, Q5_K, Q6_K
 * weights times Q8_K activations, src/engine/kernels_x86.c) per path and
 * thread count, against Q8_0 and Q4_0 weights on the same shapes.
 *
 * A benchmark, not a test: a markdown table on stdout, progress on stderr.
 * Shapes (n = k = 4096, a 7B-class layer's square projection):
 *   - m = 1 (decode): W is cycled through copies filling 128 MiB, so each
 *     call reads its weights from DRAM: GB/s of weight bytes and GFLOP/s.
 *   - m = 64 (prefill): one W (L3-sized or a little more): GFLOP/s.
 * Threads split W's rows (mw_k_matmul's [j0, j1)) over the engine's pool,
 * as forward.c does. x is prepared once outside the timing (it is per layer
 * input and small). Cell: median (min–max) over the runs of the time per
 * call, each run repeating calls for at least ~50 ms (the scalar path: one
 * call per run at m = 64).
 *
 * usage: bench_kquants [--runs N] [--threads T] [--quick] [--ktypes-only]
 */
#include "memwall.h"
#include "engine/kernels.h"
#include "engine/kernels_isa.h"
#include "engine/threadpool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_util.h"

#define alloc_or_die(n) alloc_or_die_for("bench_kquants", (n))

static void quant_row(mw_dtype t, const float *src, void *dst, int64_t k)
{
    switch (t) {
    case MW_DTYPE_Q4_K: mw_k_quant_row_q4_k(src, dst, k); break;
    case MW_DTYPE_Q5_K: mw_k_quant_row_q5_k(src, dst, k); break;
    case MW_DTYPE_Q6_K: mw_k_quant_row_q6_k(src, dst, k); break;
    case MW_DTYPE_Q8_0: mw_k_quant_row_q8_0(src, dst, k); break;
    default: mw_k_quant_row_q4_0(src, dst, k); break;
    }
}

/* W [n, k] of type t in `copies` copies, x [m, k] prepared for it */
typedef struct problem {
    mw_dtype t;
    int64_t m, n, k;
    int copies, next;
    uint8_t *W;
    float *x, *y;
    void *xq;
    size_t w_bytes;
} problem;

static void problem_init(problem *p, mw_dtype t, int64_t m, int64_t n, int64_t k, int copies)
{
    *p = (problem){.t = t, .m = m, .n = n, .k = k, .copies = copies};
    const size_t row = (size_t)mw_dtype_bytes(t, (uint64_t)k);
    p->w_bytes = row * (size_t)n;
    p->W = alloc_or_die(p->w_bytes * (size_t)copies);
    float *tmp = alloc_or_die((size_t)k * sizeof(float));
    for (int64_t j = 0; j < n; j++) {
        for (int64_t l = 0; l < k; l++) tmp[l] = rnd();
        quant_row(t, tmp, p->W + (size_t)j * row, k);
    }
    for (int c = 1; c < copies; c++) memcpy(p->W + (size_t)c * p->w_bytes, p->W, p->w_bytes);
    free(tmp);
    p->x = alloc_or_die((size_t)(m * k) * sizeof(float));
    p->y = alloc_or_die((size_t)(m * n) * sizeof(float));
    for (int64_t i = 0; i < m * k; i++) p->x[i] = rnd() * 20.0f;
    p->xq = alloc_or_die(mw_k_prepare_x_bytes(t, m, k) + 1);
    mw_k_prepare_x(t, p->x, m, k, p->xq);
}

static void problem_free(problem *p)
{
    free(p->W);
    free(p->x);
    free(p->y);
    free(p->xq);
}

static void work(void *args, int ith, int nth)
{
    problem *p = args;
    int64_t lo, hi;
    mw_pool_split(p->n, ith, nth, &lo, &hi);
    mw_k_matmul(p->t, p->W + (size_t)p->next * p->w_bytes, p->x, p->xq, p->y, p->m, p->n, p->k, lo, hi);
}

static void call(mw_pool *pool, problem *p)
{
    mw_pool_run(pool, work, p);
    p->next = (p->next + 1) % p->copies;
}

static stat3 time_matmul(mw_pool *pool, problem *p, int runs, double min_run_s)
{
    double v[MAX_RUNS];
    for (int c = 0; c < p->copies; c++) call(pool, p); /* warm up */
    double t0 = now_s();
    call(pool, p);
    double one = now_s() - t0;
    long reps = one > 0 ? (long)(min_run_s / one) + 1 : 1000;
    for (int r = 0; r < runs; r++) {
        t0 = now_s();
        for (long i = 0; i < reps; i++) call(pool, p);
        v[r] = (now_s() - t0) / (double)reps;
    }
    return stats(v, runs);
}

static const char *cell(char *buf, size_t cap, stat3 s, double work_units, int prec)
{
    if (s.n <= 0) snprintf(buf, cap, "–");
    else if (s.n == 1) snprintf(buf, cap, "%.*f", prec, work_units / s.med);
    else snprintf(buf, cap, "%.*f (%.*f–%.*f)", prec, work_units / s.med, prec, work_units / s.max, prec,
                  work_units / s.min);
    return buf;
}

int main(int argc, char **argv)
{
    int runs = 5, max_threads = 2, ktypes_only = 0;
    double min_run_s = 0.05;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--runs") && i + 1 < argc) {
            runs = atoi(argv[++i]);
        } else if (!strcmp(argv[i], "--threads") && i + 1 < argc) {
            max_threads = atoi(argv[++i]);
        } else if (!strcmp(argv[i], "--quick")) {
            runs = 3;
            min_run_s = 0.01;
        } else if (!strcmp(argv[i], "--ktypes-only")) {
            ktypes_only = 1;
        } else {
            fprintf(stderr, "usage: bench_kquants [--runs N] [--threads T] [--quick] [--ktypes-only]\n");
            return 2;
        }
    }
    if (runs < 1 || runs > MAX_RUNS) runs = 5;
    if (max_threads < 1 || max_threads > 64) max_threads = 2;

    static const mw_dtype types[] = {MW_DTYPE_Q4_K, MW_DTYPE_Q5_K, MW_DTYPE_Q6_K, MW_DTYPE_Q8_0,
                                     MW_DTYPE_Q4_0};
    const int64_t K = 4096, N = 4096, M_PREFILL = 64;
    const double dram_bytes = 128.0 * 1024 * 1024;

    printf("## K-quant mw_k_matmul, n = k = %lld (best path here: %s)\n\n", (long long)N,
           mw_k_isa_name(mw_k_isa()));
    printf("m = 1: weights cycled through 128 MiB (read from DRAM). Median (min–max) of %d runs.\n\n", runs);
    printf("| type | path | threads | m=1 GB/s | m=1 GFLOP/s | m=%lld GFLOP/s |\n", (long long)M_PREFILL);
    printf("|---|---|---|---|---|---|\n");
    fflush(stdout);

    for (size_t ti = 0; ti < (ktypes_only ? 3 : sizeof types / sizeof types[0]); ti++) {
        const mw_dtype t = types[ti];
        const char *tn = mw_dtype_get(t)->name;
        fprintf(stderr, "bench_kquants: %s: making the weights\n", tn);
        mw_k_force_isa(MW_K_ISA_AUTO);
        const double wb = (double)mw_dtype_bytes(t, (uint64_t)K) * (double)N;
        int copies = (int)(dram_bytes / wb) + 1;
        problem p1, pm;
        problem_init(&p1, t, 1, N, K, copies);
        problem_init(&pm, t, M_PREFILL, N, K, 1);
        for (int isa = MW_K_ISA_SCALAR; isa < MW_K_ISA_COUNT; isa++) {
            if (mw_k_force_isa(isa) != 0) continue;
            /* x is prepared on the path, as the engine does (same bytes on every path) */
            mw_k_prepare_x(t, p1.x, 1, K, p1.xq);
            mw_k_prepare_x(t, pm.x, M_PREFILL, K, pm.xq);
            const int slow = isa == MW_K_ISA_SCALAR;
            for (int nt = 1; nt <= max_threads; nt *= 2) {
                if (slow && nt > 1) break;
                mw_pool *pool;
                mw_err err;
                if (mw_pool_init(&pool, nt, &err) != MW_OK) {
                    fprintf(stderr, "bench_kquants: %s\n", err.msg);
                    return 1;
                }
                const int r = slow ? (runs < 3 ? runs : 3) : runs;
                fprintf(stderr, "bench_kquants: %s %s %d thread(s)\n", tn, mw_k_isa_name(isa), nt);
                char a[64], b[64], c[64];
                stat3 s1 = time_matmul(pool, &p1, r, slow ? 0.0 : min_run_s);
                cell(a, sizeof a, s1, wb * 1e-9, 1);
                cell(b, sizeof b, s1, 2.0 * (double)N * (double)K * 1e-9, 1);
                stat3 s3 = time_matmul(pool, &pm, r, slow ? 0.0 : min_run_s);
                cell(c, sizeof c, s3, 2.0 * (double)M_PREFILL * (double)N * (double)K * 1e-9, 1);
                printf("| %s | %s | %d | %s | %s | %s |\n", tn, mw_k_isa_name(isa), nt, a, b, c);
                fflush(stdout);
                mw_pool_free(pool);
            }
        }
        problem_free(&p1);
        problem_free(&pm);
    }
    mw_k_force_isa(MW_K_ISA_AUTO);
    printf("\nGB/s counts weight bytes only. GFLOP/s = 2·m·n·k / time.\n");
    return 0;
}
