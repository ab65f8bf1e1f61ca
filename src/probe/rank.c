/*
 * rank.c - which rank of a distributed job a process is (issue #16,
 * docs/CLUSTER.md): the variables launchers put in their workers'
 * environments. torchrun sets RANK and LOCAL_RANK, Open MPI's mpirun
 * OMPI_COMM_WORLD_RANK / _LOCAL_RANK and PMIX_RANK, MPICH-style launchers
 * PMI_RANK and MPI_LOCALRANKID, srun SLURM_PROCID and SLURM_LOCALID.
 */
#include "memwall.h"

#include <stdlib.h>
#include <string.h>

/* in the order they are believed: a torchrun under srun gives its workers
 * RANK, and they inherit the launcher task's SLURM_PROCID */
static const char *const rank_vars[] = {"RANK", "OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK",
                                        "SLURM_PROCID", NULL};
static const char *const local_vars[] = {"LOCAL_RANK", "OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID",
                                         "SLURM_LOCALID", NULL};

/* value: a decimal integer 0 .. 2^31-1, nothing else; else MW_RANK_NONE */
static int32_t parse_rank(const char *v, size_t len)
{
    if (len == 0 || len > 10) return MW_RANK_NONE;
    int64_t r = 0;
    for (size_t i = 0; i < len; i++) {
        if (v[i] < '0' || v[i] > '9') return MW_RANK_NONE;
        r = r * 10 + (v[i] - '0');
    }
    return r > INT32_MAX ? MW_RANK_NONE : (int32_t)r;
}

/* the value of name in env (NUL-separated "NAME=value"), or NULL */
static const char *find_var(const char *env, size_t len, const char *name, size_t *vlen)
{
    const size_t nl = strlen(name);
    for (size_t i = 0; i < len;) {
        const char *e = env + i;
        const char *nul = memchr(e, '\0', len - i);
        const size_t el = nul ? (size_t)(nul - e) : len - i;
        if (el > nl && e[nl] == '=' && memcmp(e, name, nl) == 0) {
            *vlen = el - nl - 1;
            return e + nl + 1;
        }
        i += el + 1;
    }
    return NULL;
}

static int32_t first_rank(const char *env, size_t len, const char *const *vars)
{
    for (const char *const *v = vars; *v; v++) {
        const char *val;
        size_t vlen = 0;
        if (env) val = find_var(env, len, *v, &vlen);
        else if ((val = getenv(*v)) != NULL) vlen = strlen(val);
        if (!val) continue;
        int32_t r = parse_rank(val, vlen);
        if (r != MW_RANK_NONE) return r;
    }
    return MW_RANK_NONE;
}

void mw_rank_from_environ(const char *env, size_t len, int32_t *rank, int32_t *local_rank)
{
    if (rank) *rank = first_rank(env, len, rank_vars);
    if (local_rank) *local_rank = first_rank(env, len, local_vars);
}
