/*
 * open.c - mw_model_open: which reader a path (or name) calls for.
 *
 *   existing file  "GGUF" magic or *.gguf -> gguf.c; *.index.json ->
 *                  safetensors.c (shards); other *.json -> hf_config.c; else
 *                  safetensors.c. Only regular files are opened: a FIFO
 *                  would block the reader (mw_file_open_regular).
 *   folder         model.safetensors.index.json, model.safetensors, a single
 *                  *.safetensors, a single *.gguf, then config.json alone
 *   models--ORG--NAME  a Hugging Face cache folder: its refs/main snapshot
 *                  (hub.c), opened as a folder
 *   anything else  a preset name (presets.c), a built-in model, then a hub
 *                  id "org/name[@revision]" from the local cache (hub.c);
 *                  a preset's name has no '/', so presets win
 */
#include "format/gguf.h"
#include "format/hub.h"
#include "format/model.h"
#include "format/hf_config.h"
#include "format/safetensors.h"
#include "common/error.h"
#include "common/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* Something other than a folder is there: the reader opens it, or says
 * what it is (a FIFO named model.safetensors is named, not skipped). */
static int file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && !S_ISDIR(st.st_mode);
}

/* The only file in dir ending in suffix: 1 found (path set), 0 none, -1 several. */
static int single_with_suffix(const char *dir, const char *suffix, char *path, size_t cap)
{
    char names[512];
    int n;
    mw_dir_list_suffix(dir, suffix, names, sizeof names, &n);
    if (n == 1) snprintf(path, cap, "%s/%s", dir, names);
    return n > 1 ? -1 : n;
}

static mw_status open_file(const char *path, mw_model **out, mw_err *err)
{
    unsigned char magic[4] = {0};
    int fd;
    uint64_t size;
    MW_FORWARD(mw_file_open_regular(path, &fd, &size, err));
    ssize_t n;
    do n = read(fd, magic, sizeof magic); while (n < 0 && errno == EINTR);
    close(fd);
    /* the magic, or the name: an empty or damaged model.gguf is reported by
     * the GGUF reader ("not a GGUF file"), not as a short safetensors file */
    if ((n == 4 && memcmp(magic, "GGUF", 4) == 0) || ends_with(path, ".gguf"))
        return mw_gguf_open_model(path, out, err);
    if (ends_with(path, ".index.json")) return mw_safetensors_open_model(path, out, err);
    if (ends_with(path, ".json")) return mw_hf_config_open_model(path, out, err);
    return mw_safetensors_open_model(path, out, err);
}

static mw_status open_dir(const char *dir, mw_model **out, mw_err *err)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/model.safetensors.index.json", dir);
    if (file_exists(path)) return mw_safetensors_open_model(path, out, err);
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    if (file_exists(path)) return mw_safetensors_open_model(path, out, err);
    int st = single_with_suffix(dir, ".safetensors", path, sizeof path);
    MW_RETURN_IF(st < 0, err, MW_ERR_INVALID,
                 "%s holds several .safetensors files and no model.safetensors.index.json: "
                 "name the file to use", dir);
    if (st > 0) return mw_safetensors_open_model(path, out, err);
    st = single_with_suffix(dir, ".gguf", path, sizeof path);
    MW_RETURN_IF(st < 0, err, MW_ERR_INVALID, "%s holds several .gguf files: name the one to use", dir);
    if (st > 0) return mw_gguf_open_model(path, out, err);
    snprintf(path, sizeof path, "%s/config.json", dir);
    if (file_exists(path)) return mw_hf_config_open_model(path, out, err);
    return mw_err_set(err, MW_ERR_NOT_FOUND,
                      "%s holds no model: looked for model.safetensors.index.json, "
                      "*.safetensors, *.gguf and config.json", dir);
}

/* A snapshot folder of the hub cache, opened as a folder (or a file in
 * it, opened as a file); the model is shown as "org/name (its path)" so
 * reports name the id. */
static mw_status open_snapshot(const char *id, const char *snapshot, mw_model **out, mw_err *err)
{
    struct stat st;
    if (stat(snapshot, &st) == 0 && !S_ISDIR(st.st_mode)) MW_FORWARD(open_file(snapshot, out, err));
    else MW_FORWARD(open_dir(snapshot, out, err));
    size_t n = strlen(id) + strlen(snapshot) + 4;
    char *shown = mw_malloc(n, MW_MEM_OTHER);
    if (!shown) {
        mw_model_free(*out);
        *out = NULL;
        return mw_err_set(err, MW_ERR_NOMEM, "out of memory opening %s", id);
    }
    snprintf(shown, n, "%s (%s)", id, snapshot);
    mw_free((*out)->path);
    (*out)->path = shown;
    return MW_OK;
}

mw_status mw_model_open(const char *what, mw_model **out, mw_err *err)
{
    *out = NULL;
    MW_RETURN_IF(!what || !*what, err, MW_ERR_INVALID, "no model given");
    struct stat st;
    char snapshot[PATH_MAX], id[512];
    if (stat(what, &st) == 0) {
        if (S_ISDIR(st.st_mode) && mw_hub_is_repo_folder(what)) {
            MW_FORWARD(mw_hub_resolve_folder(what, snapshot, sizeof snapshot, id, sizeof id, err));
            return open_snapshot(id, snapshot, out, err);
        }
        if (S_ISDIR(st.st_mode)) return open_dir(what, out, err);
        return open_file(what, out, err);
    }
    if (mw_preset_config(what)) return mw_preset_open_model(what, out, err);
    /* a hub id "org/name[@revision]", or a file in its repository
     * "org/name/FILE" (a GGUF repository's one quantization) */
    if (mw_hub_id_like(what) || mw_hub_file_like(what, NULL)) {
        MW_FORWARD(mw_hub_resolve_path(what, snapshot, sizeof snapshot, id, sizeof id, err));
        return open_snapshot(id, snapshot, out, err);
    }
    char builtin[4096];
    const char *path;
    MW_FORWARD(mw_model_path_resolve(what, builtin, sizeof builtin, &path, err));
    if (path != what) return open_file(path, out, err);
    char names[1024] = "";
    size_t len = 0;
    for (const char *const *p = mw_preset_names(); *p && len + 2 < sizeof names; p++) {
        int k = snprintf(names + len, sizeof names - len, "%s%s", len ? ", " : "", *p);
        if (k > 0) len += (size_t)k;
    }
    return mw_err_set(err, MW_ERR_NOT_FOUND,
                      "no file, folder, built-in model or preset named \"%s\" (built-in: tiny, demo; presets: %s; "
                      "or a Hugging Face id org/name in the local cache)",
                      what, names);
}
