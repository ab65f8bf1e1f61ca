/*
 * sparse_matvec.c - is memwall's sparse storage (issue #14, docs/SPARSE.md)
 * faster, not just smaller? y = W x with the engine's kernels on 2 threads
 * (its thread pool, output rows split as the forward pass splits them), for
 * dense F32 / F16 / Q8_0 against the same base type stored unstructured at
 * 50% (F32_SU, F16_SU, Q8_SU; and Q8_SUK, a scale per 256 inputs with x in
 * Q8_K, when k is a multiple of 256) and 2:4 (F32_S24, F16_S24, Q8_S24).
 *
 * Matrices larger than the L3: each variant's matrix is allocated in as
 * many copies as make at least --mib MiB (default 256: 8 x this machine's
 * 32 MiB L3) and the runs go round the copies, so every run streams its
 * weights from DRAM, as a decode step does. Each run: prepare x for the
 * type (mw_k_prepare_x, as the engine does per product) and one product;
 * median (min-max) of --runs runs (default 21, at least 9) after 2 warm-up
 * runs; the three variants of a base type take turns, run after run, so a
 * busy machine slows them alike. Masks are random (exactly `keep` of each row, or 2 of each group
 * of 4), so the values' positions are as irregular as a magnitude prune's.
 *
 * Prints a markdown table: bytes and time of each variant, GB/s of weight
 * bytes, and the sparse variant's bytes and time as fractions of its dense
 * base's.
 *
 * usage: bench_sparse_matvec [--runs N] [--threads N] [--m M] [--mib MIB] [--quick]
 *                            [--shape N K]
 * --quick: the 4096 x 4096 matrix only; --shape: that matrix only (with a
 * small --mib, e.g. --shape 256 4096 --mib 1 --threads 1, it stays in the
 * caches: the kernels' own speed, without DRAM).
 */
#include "memwall.h"
#include "engine/kernels.h"
#include "engine/kernels_isa.h"
#include "engine/sparse.h"
#include "engine/threadpool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"

typedef struct job {
    mw_dtype t;
    const uint8_t *W;
    int64_t keep, m, n, k;
    const float *x;
    const void *xq;
    float *y;
} job;

static void work(void *p, int ith, int nth)
{
    job *j = p;
    int64_t lo, hi;
    mw_pool_split(j->n, ith, nth, &lo, &hi);
    if (lo >= hi) return;
    if (mw_dtype_is_sparse(j->t))
        mw_k_matmul_sparse(j->t, j->W, j->keep, j->x, j->xq, j->y, j->m, j->n, j->k, lo, hi);
    else
        mw_k_matmul(j->t, j->W, j->x, j->xq, j->y, j->m, j->n, j->k, lo, hi);
}

/* one row of k random weights in type t (sparse: a random mask) */
static void make_row(mw_dtype t, int64_t k, int64_t keep, float *w, uint64_t *mask, uint8_t *dst)
{
    for (int64_t i = 0; i < k; i++) w[i] = rnd();
    if (!mw_dtype_is_sparse(t)) {
        if (t == MW_DTYPE_F32) memcpy(dst, w, (size_t)k * 4);
        else if (t == MW_DTYPE_F16) mw_k_row_to_f16(w, (uint16_t *)dst, k);
        else mw_k_quant_row_q8_0(w, dst, k);
        return;
    }
    memset(mask, 0, (size_t)(k / 64) * 8);
    if (mw_sparse_is_24(t)) {
        for (int64_t g = 0; g < k / 4; g++) {
            int a = (int)((rng >> 7) % 4), b = (int)((rng >> 17) % 3);
            rnd();
            if (b >= a) b++;
            mask[g / 16] |= (1ull << (4 * (g % 16) + a)) | (1ull << (4 * (g % 16) + b));
        }
    } else {
        int64_t have = 0;
        while (have < keep) {
            rnd();
            int64_t p = (int64_t)((rng >> 11) % (uint64_t)k);
            if (mask[p / 64] >> (p % 64) & 1) continue;
            mask[p / 64] |= 1ull << (p % 64);
            have++;
        }
    }
    mw_sparse_pack_row(t, w, mask, k, dst);
}

typedef struct result {
    uint64_t bytes;
    stat3 s;
} result;

typedef struct variant {
    mw_dtype t, xt;
    int64_t keep;
    uint64_t bytes;
    int copies;
    uint8_t **W;
    void *xq;
    double tv[MAX_RUNS];
} variant;

/* The nv variants of a group (dense, _SU, [Q8_SUK,] _S24) are timed in
 * turn, run after run, so that whatever else the machine does weighs on all
 * alike (this project's machines are shared). */
#define MAX_V 4
static void bench_group(const mw_dtype *types, int nv, result *res, int64_t n, int64_t k, int64_t m, int runs,
                        double mib, mw_pool *pool)
{
    variant v[MAX_V];
    float *w = malloc((size_t)k * sizeof *w);
    uint64_t *mask = malloc((size_t)(k / 64) * 8);
    float *x = alloc_or_die_for("bench_sparse_matvec", (size_t)(m * k) * 4);
    float *y = alloc_or_die_for("bench_sparse_matvec", (size_t)(m * n) * 4);
    for (int i = 0; i < nv; i++) {
        variant *V = &v[i];
        const mw_dtype t = types[i];
        V->t = t;
        V->keep = mw_dtype_is_sparse(t) && !mw_sparse_is_24(t) ? mw_sparse_row_keep(k, mw_sparse_keep_q16(0.5))
                                                                 : k / 2;
        const uint64_t rb = mw_dtype_is_sparse(t) ? mw_sparse_row_bytes(t, k, V->keep) : mw_dtype_bytes(t, (uint64_t)k);
        V->bytes = rb * (uint64_t)n;
        V->copies = (int)((mib * 1048576.0 + (double)V->bytes - 1) / (double)V->bytes);
        if (V->copies < 1) V->copies = 1;
        V->W = malloc((size_t)V->copies * sizeof *V->W);
        rng = 88172645463325252ull; /* the same values for every type */
        for (int c = 0; c < V->copies; c++) {
            V->W[c] = alloc_or_die_for("bench_sparse_matvec", (size_t)V->bytes);
            for (int64_t r = 0; r < n; r++) make_row(t, k, V->keep, w, mask, V->W[c] + (uint64_t)r * rb);
        }
        V->xt = mw_dtype_is_sparse(t) ? mw_sparse_x_type(t) : t;
        size_t xb = mw_k_prepare_x_bytes(V->xt, m, k);
        V->xq = xb ? alloc_or_die_for("bench_sparse_matvec", xb) : NULL;
    }
    for (int64_t i = 0; i < m * k; i++) x[i] = rnd();
    for (int r = -2; r < runs; r++) {
        for (int i = 0; i < nv; i++) {
            variant *V = &v[i];
            job j = {V->t, V->W[(r + 2) % V->copies], V->keep, m, n, k, x, V->xq, y};
            double t0 = now_s();
            if (V->xq) mw_k_prepare_x(V->xt, x, m, k, V->xq);
            mw_pool_run(pool, work, &j);
            double t1 = now_s();
            if (r >= 0) V->tv[r] = t1 - t0;
        }
    }
    for (int i = 0; i < nv; i++) {
        res[i].bytes = v[i].bytes;
        res[i].s = stats(v[i].tv, runs);
        for (int c = 0; c < v[i].copies; c++) free(v[i].W[c]);
        free(v[i].W);
        free(v[i].xq);
    }
    free(w), free(mask), free(x), free(y);
}

int main(int argc, char **argv)
{
    int runs = 21, threads = 2;
    int64_t m = 1;
    double mib = 256;
    int quick = 0;
    int64_t sn = 0, sk = 0; /* --shape N K: that matrix alone */
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--runs") && i + 1 < argc) runs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--m") && i + 1 < argc) m = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--mib") && i + 1 < argc) mib = atof(argv[++i]);
        else if (!strcmp(argv[i], "--quick")) quick = 1;
        else if (!strcmp(argv[i], "--shape") && i + 2 < argc) {
            sn = atoll(argv[++i]);
            sk = atoll(argv[++i]);
        }
        else {
            fprintf(stderr, "usage: bench_sparse_matvec [--runs N] [--threads N] [--m M] [--mib MIB] [--quick] "
                            "[--shape N K]\n");
            return 2;
        }
    }
    if ((sn || sk) && (sn < 1 || sk < 64 || sk % 64 || sn * sk > ((int64_t)1 << 32))) {
        fprintf(stderr, "bench_sparse_matvec: --shape N K: N >= 1, K a multiple of 64\n");
        return 2;
    }
    if (runs < 9 || runs > MAX_RUNS || threads < 1 || m < 1 || m > 512 || !(mib > 0)) {
        fprintf(stderr, "bench_sparse_matvec: --runs 9..%d, --threads >= 1, --m 1..512, --mib > 0\n", MAX_RUNS);
        return 2;
    }
    mw_pool *pool;
    mw_err err;
    if (mw_pool_init(&pool, threads, &err) != MW_OK) {
        fprintf(stderr, "bench_sparse_matvec: %s\n", err.msg);
        return 1;
    }
    struct { int64_t n, k; } shapes[] = {{4096, 4096}, {11008, 4096}, {4096, 11008}};
    if (sn) shapes[0].n = sn, shapes[0].k = sk, quick = 1;
    static const mw_dtype groups[3][MAX_V] = {
        {MW_DTYPE_F32, MW_DTYPE_F32_SU, MW_DTYPE_F32_S24, MW_DTYPE_COUNT},
        {MW_DTYPE_F16, MW_DTYPE_F16_SU, MW_DTYPE_F16_S24, MW_DTYPE_COUNT},
        {MW_DTYPE_Q8_0, MW_DTYPE_Q8_SU, MW_DTYPE_Q8_SUK, MW_DTYPE_Q8_S24},
    };
    printf("y = W x, m = %lld, %d threads, kernels: %s%s; median (min-max) of %d runs; >= %.0f MiB of weights "
           "cycled per variant\n\n",
           (long long)m, threads, mw_k_isa_name(mw_k_isa()), mw_k_sparse_simd() ? " (sparse: avx512)" : " (sparse: scalar)",
           runs, mib);
    printf("| W [n x k] | type | MiB | ms | GB/s | bytes / dense | time / dense |\n");
    printf("|---|---|---:|---:|---:|---:|---:|\n");
    const size_t n_shapes = quick ? 1 : sizeof shapes / sizeof shapes[0];
    for (size_t si = 0; si < n_shapes; si++) {
        for (int g = 0; g < 3; g++) {
            fprintf(stderr, "%lldx%lld %s group ...\n", (long long)shapes[si].n, (long long)shapes[si].k,
                    mw_dtype_get(groups[g][0])->name);
            result res[MAX_V];
            mw_dtype types[MAX_V];
            int nv = 0;
            for (int v = 0; v < MAX_V; v++) /* (Q8_SUK: k a multiple of 256) */
                if (groups[g][v] != MW_DTYPE_COUNT && (groups[g][v] != MW_DTYPE_Q8_SUK || shapes[si].k % 256 == 0))
                    types[nv++] = groups[g][v];
            bench_group(types, nv, res, shapes[si].n, shapes[si].k, m, runs, mib, pool);
            for (int v = 0; v < nv; v++) {
                const result r = res[v], base = res[0];
                printf("| %lld x %lld | %s | %.1f | %.3f (%.3f-%.3f) | %.1f | %.3f | %.3f |\n",
                       (long long)shapes[si].n, (long long)shapes[si].k, mw_dtype_get(types[v])->name,
                       (double)r.bytes / 1048576.0, r.s.med * 1e3, r.s.min * 1e3, r.s.max * 1e3,
                       (double)r.bytes / r.s.med * 1e-9, (double)r.bytes / (double)base.bytes,
                       r.s.med / base.s.med);
                fflush(stdout);
            }
        }
    }
    mw_pool_free(pool);
    return 0;
}
