/* test_hub.c - Hugging Face model ids from a fake local hub cache made in
 * a temporary folder: where the cache is (the environment's order), refs
 * to snapshots with their links into blobs/, a models--org--name folder
 * given directly, revisions, and every error: not cached (with the
 * download command and a matching preset), no snapshots, a missing, empty,
 * non-hex, dangling, FIFO, huge or looping ref. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "memwall.h"
#include "format/hub.h"
#include "common/test_hooks.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define H1 "0123456789abcdef0123456789abcdef01234567"
#define H2 "fedcba9876543210fedcba9876543210fedcba98"

/* a small llama: 2 layers of 64, 4 heads, 2 KV heads, FFN 128, vocab 256 */
static const char config[] =
    "{\"architectures\": [\"LlamaForCausalLM\"], \"model_type\": \"llama\", \"hidden_size\": 64,"
    " \"intermediate_size\": 128, \"num_hidden_layers\": 2, \"num_attention_heads\": 4,"
    " \"num_key_value_heads\": 2, \"vocab_size\": 256, \"max_position_embeddings\": 512,"
    " \"rms_norm_eps\": 1e-5, \"tie_word_embeddings\": false, \"torch_dtype\": \"bfloat16\"}";

static char root[256];     /* $HF_HOME */
static char hub[512];      /* $HF_HOME/hub */

static void sh(const char *fmt, ...)
{
    char cmd[4 * PATH_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    assert_int_equal(system(cmd), 0);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

/* models--org--name with blobs/cfg, snapshots/H1/config.json -> the blob,
 * and refs/main holding ref (NULL: no refs/main). */
static void make_repo(const char *org, const char *name, const char *ref)
{
    char repo[PATH_MAX], p[PATH_MAX + 64];
    snprintf(repo, sizeof repo, "%s/models--%s--%s", hub, org, name);
    sh("mkdir -p '%s/refs' '%s/blobs' '%s/snapshots/" H1 "'", repo, repo, repo);
    snprintf(p, sizeof p, "%s/blobs/cfg", repo);
    write_file(p, config);
    sh("ln -sf ../../blobs/cfg '%s/snapshots/" H1 "/config.json'", repo);
    if (ref) {
        snprintf(p, sizeof p, "%s/refs/main", repo);
        write_file(p, ref);
    }
}

static int setup(void **state)
{
    (void)state;
    snprintf(root, sizeof root, "/tmp/mw_hub_XXXXXX");
    if (!mkdtemp(root)) return -1;
    snprintf(hub, sizeof hub, "%s/hub", root);
    unsetenv("HF_HUB_CACHE");
    unsetenv("HUGGINGFACE_HUB_CACHE");
    unsetenv("XDG_CACHE_HOME");
    setenv("HF_HOME", root, 1);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    return system(cmd) == 0 ? 0 : -1;
}

static void ids(void **state)
{
    (void)state;
    assert_true(mw_hub_id_like("meta-llama/Llama-3.1-8B"));
    assert_true(mw_hub_id_like("Qwen/Qwen3-8B@main"));
    assert_true(mw_hub_id_like("org/name@" H1));
    assert_false(mw_hub_id_like("llama-3-8b"));        /* a preset: no '/' */
    assert_false(mw_hub_id_like("./models/x"));
    assert_false(mw_hub_id_like("/abs/path"));
    assert_false(mw_hub_id_like("a/b/c"));
    assert_false(mw_hub_id_like("org/.."));
    assert_false(mw_hub_id_like("org/"));
    assert_false(mw_hub_id_like("org/na me"));
    assert_true(mw_hub_is_repo_folder("/x/models--org--name"));
    assert_true(mw_hub_is_repo_folder("models--org--name/"));
    assert_false(mw_hub_is_repo_folder("/x/models--org"));
    assert_false(mw_hub_is_repo_folder("/x/snapshots"));
}

/* huggingface_hub's order (src/huggingface_hub/constants.py): HF_HUB_CACHE,
 * HUGGINGFACE_HUB_CACHE, HF_HOME/hub, XDG_CACHE_HOME/huggingface/hub,
 * ~/.cache/huggingface/hub; "~/" is the home */
static void cache_dir_order(void **state)
{
    (void)state;
    char buf[PATH_MAX], home[PATH_MAX];
    const char *how;
    snprintf(home, sizeof home, "%s", getenv("HOME") ? getenv("HOME") : "");
    setenv("HF_HUB_CACHE", "/c/hub", 1);
    setenv("XDG_CACHE_HOME", "/xdg", 1);
    assert_int_equal(mw_hub_cache_dir(buf, sizeof buf, &how), 0);
    assert_string_equal(buf, "/c/hub");
    setenv("HUGGINGFACE_HUB_CACHE", "~/legacy", 1);
    unsetenv("HF_HUB_CACHE");
    setenv("HOME", "/home/u", 1);
    assert_int_equal(mw_hub_cache_dir(buf, sizeof buf, &how), 0);
    assert_string_equal(buf, "/home/u/legacy");
    assert_string_equal(how, "$HUGGINGFACE_HUB_CACHE");
    unsetenv("HUGGINGFACE_HUB_CACHE");
    assert_int_equal(mw_hub_cache_dir(buf, sizeof buf, &how), 0);
    char want[PATH_MAX + 8];
    snprintf(want, sizeof want, "%s/hub", root);
    assert_string_equal(buf, want);
    assert_string_equal(how, "$HF_HOME/hub");
    unsetenv("HF_HOME");
    assert_int_equal(mw_hub_cache_dir(buf, sizeof buf, &how), 0);
    assert_string_equal(buf, "/xdg/huggingface/hub");
    unsetenv("XDG_CACHE_HOME");
    setenv("HOME", "/home/u", 1);
    assert_int_equal(mw_hub_cache_dir(buf, sizeof buf, &how), 0);
    assert_string_equal(buf, "/home/u/.cache/huggingface/hub");
    unsetenv("HOME");
    assert_int_equal(mw_hub_cache_dir(buf, sizeof buf, &how), -1);
    if (home[0]) setenv("HOME", home, 1);
    setenv("HF_HOME", root, 1);
}

static void resolves_and_opens(void **state)
{
    (void)state;
    make_repo("acme", "Tiny-LM", H1 "\n");
    char snap[PATH_MAX], want[PATH_MAX * 2];
    mw_err err = {0};
    assert_int_equal(mw_hub_resolve("acme/Tiny-LM", snap, sizeof snap, &err), MW_OK);
    snprintf(want, sizeof want, "%s/models--acme--Tiny-LM/snapshots/" H1, hub);
    assert_string_equal(snap, want);
    /* through mw_model_open: the config.json behind the link, named by id */
    mw_model *m = NULL;
    mw_status st = mw_model_open("acme/Tiny-LM", &m, &err);
    if (st != MW_OK) print_error("%s\n", err.msg);
    assert_int_equal(st, MW_OK);
    assert_int_equal(m->hp.n_layers, 2);
    assert_int_equal(m->hp.n_embd, 64);
    assert_true(strncmp(m->path, "acme/Tiny-LM (", 14) == 0);
    mw_model_free(m);
    /* the models--acme--Tiny-LM folder given directly */
    char repo[PATH_MAX + 32];
    snprintf(repo, sizeof repo, "%s/models--acme--Tiny-LM/", hub);
    assert_int_equal(mw_model_open(repo, &m, &err), MW_OK);
    assert_true(strncmp(m->path, "acme/Tiny-LM (", 14) == 0);
    mw_model_free(m);
    /* a revision: a branch's ref, or a commit hash with its snapshot */
    sh("mkdir -p '%s/models--acme--Tiny-LM/snapshots/" H2 "' && cp '%s/models--acme--Tiny-LM/blobs/cfg' "
       "'%s/models--acme--Tiny-LM/snapshots/" H2 "/config.json'", hub, hub, hub);
    snprintf(want, sizeof want, "%s/models--acme--Tiny-LM/refs/dev", hub);
    write_file(want, H2);
    assert_int_equal(mw_hub_resolve("acme/Tiny-LM@dev", snap, sizeof snap, &err), MW_OK);
    assert_non_null(strstr(snap, "/snapshots/" H2));
    assert_int_equal(mw_hub_resolve("acme/Tiny-LM@" H1, snap, sizeof snap, &err), MW_OK);
    assert_non_null(strstr(snap, "/snapshots/" H1));
    assert_int_equal(mw_model_open("acme/Tiny-LM@dev", &m, &err), MW_OK);
    mw_model_free(m);
    /* presets keep their names: no '/', never a hub id */
    assert_int_equal(mw_model_open("llama-3-8b", &m, &err), MW_OK);
    assert_int_equal(m->source, MW_SOURCE_PRESET);
    mw_model_free(m);
}

static void not_cached(void **state)
{
    (void)state;
    char snap[PATH_MAX];
    mw_err err = {0};
    mw_model *m = NULL;
    assert_int_equal(mw_model_open("nobody/Nothing-1B", &m, &err), MW_ERR_NOT_FOUND);
    assert_null(m);
    assert_non_null(strstr(err.msg, "not in the Hugging Face cache"));
    assert_non_null(strstr(err.msg, "models--nobody--Nothing-1B"));
    assert_non_null(strstr(err.msg, "$HF_HOME/hub"));
    assert_non_null(strstr(err.msg, "huggingface-cli download nobody/Nothing-1B"));
    assert_null(strstr(err.msg, "preset"));
    /* a preset of the same model is named */
    assert_int_equal(mw_hub_resolve("meta-llama/Meta-Llama-3-8B-Instruct", snap, sizeof snap, &err),
                     MW_ERR_NOT_FOUND);
    assert_non_null(strstr(err.msg, "preset of the same model without its files: llama-3-8b"));
    assert_int_equal(mw_hub_resolve("acme/x@..", snap, sizeof snap, &err), MW_ERR_INVALID);
}

/* whatever the presets are (others are being added), each matches its own
 * name under an org, whatever the case */
static void preset_matching(void **state)
{
    (void)state;
    assert_string_equal(mw_hub_matching_preset("meta-llama/Llama-3-8B"), "llama-3-8b");
    assert_null(mw_hub_matching_preset("acme/Tiny-LM"));
    for (const char *const *p = mw_preset_names(); *p; p++) {
        char id[160], upper[128];
        size_t i = 0;
        for (; (*p)[i] && i + 1 < sizeof upper; i++)
            upper[i] = (char)((*p)[i] >= 'a' && (*p)[i] <= 'z' ? (*p)[i] - 32 : (*p)[i]);
        upper[i] = '\0';
        snprintf(id, sizeof id, "org/%s", upper);
        const char *got = mw_hub_matching_preset(id);
        assert_non_null(got);
        assert_string_equal(got, *p);
    }
}

static void expect_error(const char *id, mw_status want, const char *part1, const char *part2)
{
    char snap[PATH_MAX];
    mw_err err = {0};
    mw_model *m = NULL;
    mw_status st = mw_model_open(id, &m, &err);
    if (st != want || !strstr(err.msg, part1) || (part2 && !strstr(err.msg, part2)))
        print_error("%s: status %d: %s\n", id, (int)st, err.msg);
    assert_int_equal(st, want);
    assert_null(m);
    assert_non_null(strstr(err.msg, part1));
    if (part2) assert_non_null(strstr(err.msg, part2));
    assert_int_equal(mw_hub_resolve(id, snap, sizeof snap, &err), want);
}

static void broken_caches(void **state)
{
    (void)state;
    char p[PATH_MAX + 64];
    /* no snapshots/ */
    sh("mkdir -p '%s/models--acme--NoSnap/refs'", hub);
    expect_error("acme/NoSnap", MW_ERR_NOT_FOUND, "no snapshots/ folder", "huggingface-cli download acme/NoSnap");
    /* snapshots/ empty */
    sh("mkdir -p '%s/models--acme--Empty/snapshots'", hub);
    expect_error("acme/Empty", MW_ERR_NOT_FOUND, "snapshots is empty", NULL);
    /* refs/main missing: the snapshots are listed, and how to pick one */
    make_repo("acme", "NoRef", NULL);
    expect_error("acme/NoRef", MW_ERR_NOT_FOUND, "refs/main is missing", "Pass one folder");
    expect_error("acme/NoRef", MW_ERR_NOT_FOUND, H1, NULL);
    /* empty, not hex, the wrong length, with a '/' */
    make_repo("acme", "EmptyRef", "\n");
    expect_error("acme/EmptyRef", MW_ERR_INVALID, "empty, not a commit hash", H1);
    make_repo("acme", "BadRef", "zz23456789abcdef0123456789abcdef01234567");
    expect_error("acme/BadRef", MW_ERR_INVALID, "not a commit hash", NULL);
    make_repo("acme", "ShortRef", "0123456789abcdef");
    expect_error("acme/ShortRef", MW_ERR_INVALID, "not a commit hash", NULL);
    make_repo("acme", "SlashRef", "../../etc/passwd");
    expect_error("acme/SlashRef", MW_ERR_INVALID, "not a commit hash", NULL);
    /* a hash whose snapshot is not there */
    make_repo("acme", "Dangling", H2);
    expect_error("acme/Dangling", MW_ERR_NOT_FOUND, "names snapshot " H2 ", which is not there", H1);
    /* hostile refs: a FIFO (must not block), a huge file, a link loop, a folder */
    make_repo("acme", "Fifo", NULL);
    snprintf(p, sizeof p, "%s/models--acme--Fifo/refs/main", hub);
    assert_int_equal(mkfifo(p, 0600), 0);
    expect_error("acme/Fifo", MW_ERR_INVALID, "FIFO", NULL);
    make_repo("acme", "Huge", NULL);
    sh("head -c 2000000 /dev/zero | tr '\\0' 'a' > '%s/models--acme--Huge/refs/main'", hub);
    expect_error("acme/Huge", MW_ERR_INVALID, "too big", NULL);
    make_repo("acme", "Loop", NULL);
    sh("cd '%s/models--acme--Loop/refs' && ln -s loop2 main && ln -s main loop2", hub);
    expect_error("acme/Loop", MW_ERR_INVALID, "cannot read the ref", NULL);
    make_repo("acme", "DirRef", NULL);
    sh("mkdir '%s/models--acme--DirRef/refs/main'", hub);
    expect_error("acme/DirRef", MW_ERR_INVALID, "cannot read the ref", NULL);
    /* the folder given directly says the same */
    mw_err err = {0};
    mw_model *m = NULL;
    snprintf(p, sizeof p, "%s/models--acme--BadRef", hub);
    assert_int_equal(mw_model_open(p, &m, &err), MW_ERR_INVALID);
    assert_non_null(strstr(err.msg, "not a commit hash"));
}

/* every allocation of an open by id failing in turn: a clean MW_ERR_NOMEM
 * (ASan checks that nothing leaks) */
static void out_of_memory(void **state)
{
    (void)state;
    make_repo("acme", "Tiny-LM", H1);
    int ok = 0;
    for (uint64_t n = 1; n < 200 && !ok; n++) {
        mw_model *m = NULL;
        mw_err err = {0};
        mw_mem_fail_after(n);
        mw_status st = mw_model_open("acme/Tiny-LM", &m, &err);
        mw_mem_fail_after(0);
        if (st == MW_OK) {
            ok = 1;
            mw_model_free(m);
        } else {
            if (st != MW_ERR_NOMEM) print_error("allocation %llu: %s\n", (unsigned long long)n, err.msg);
            assert_int_equal(st, MW_ERR_NOMEM);
            assert_null(m);
        }
    }
    assert_true(ok);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ids),
        cmocka_unit_test_setup_teardown(cache_dir_order, setup, teardown),
        cmocka_unit_test_setup_teardown(resolves_and_opens, setup, teardown),
        cmocka_unit_test_setup_teardown(not_cached, setup, teardown),
        cmocka_unit_test(preset_matching),
        cmocka_unit_test_setup_teardown(broken_caches, setup, teardown),
        cmocka_unit_test_setup_teardown(out_of_memory, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
