/*
 * builtin.c - the built-in models that are files shipped with memwall
 * (models/ of the source tree, installed under DATADIR/memwall/models): a
 * name such as "tiny" opens models/tiny.gguf wherever memwall finds it.
 *
 * Where: $MEMWALL_MODELS_DIR when set (there only); else the installed
 * data folder (MW_MODELS_INSTALL_DIR, set by CMake), then the source tree
 * memwall was built from (MW_MODELS_SOURCE_DIR), so that a build that is
 * not installed runs them too.
 */
#include "memwall.h"
#include "format/model.h"
#include "format/hub.h"
#include "common/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *const builtin_names[] = {"tiny", NULL};

const char *const *mw_builtin_model_names(void) { return builtin_names; }

static int is_builtin(const char *name)
{
    for (const char *const *p = builtin_names; *p; p++)
        if (strcmp(*p, name) == 0) return 1;
    return 0;
}

static int regular_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

mw_status mw_builtin_model_path(const char *name, char *buf, size_t cap, mw_err *err)
{
    MW_RETURN_IF(!name || !is_builtin(name), err, MW_ERR_NOT_FOUND, "\"%s\" is not a built-in model",
                 name ? name : "(null)");
    const char *dirs[3];
    int n = 0;
    const char *env = getenv("MEMWALL_MODELS_DIR");
    if (env && *env) {
        dirs[n++] = env;             /* given: there and nowhere else */
    } else {
#ifdef MW_MODELS_INSTALL_DIR
        dirs[n++] = MW_MODELS_INSTALL_DIR;
#endif
#ifdef MW_MODELS_SOURCE_DIR
        dirs[n++] = MW_MODELS_SOURCE_DIR;
#endif
    }
    char tried[1024] = "";
    size_t used = 0;
    for (int i = 0; i < n; i++) {
        int k = snprintf(buf, cap, "%s/%s.gguf", dirs[i], name);
        if (k > 0 && (size_t)k < cap && regular_file(buf)) return MW_OK;
        k = snprintf(tried + used, sizeof tried - used, "%s%s/%s.gguf", used ? ", " : "", dirs[i], name);
        if (k > 0 && (size_t)k < sizeof tried - used) used += (size_t)k;
    }
    if (cap) buf[0] = '\0';
    return mw_err_set(err, MW_ERR_NOT_FOUND,
                      "the built-in model \"%s\" is not where memwall looked (%s): set MEMWALL_MODELS_DIR to "
                      "the folder holding %s.gguf (models/ of memwall's source)",
                      name, used ? tried : "no folder known", name);
}

mw_status mw_model_path_resolve(const char *what, char *buf, size_t cap, const char **path, mw_err *err)
{
    *path = what;
    struct stat st;
    if (!what || stat(what, &st) == 0) return MW_OK;
    if (mw_hub_id_like(what) || mw_hub_file_like(what, NULL)) {
        /* a hub id: its file in the cache; for "org/name" the snapshot's one
         * GGUF file (the engine, the tokenizer and sweep read GGUF; none, or
         * several, is an error saying so) */
        char id[512];
        MW_FORWARD(mw_hub_resolve_path(what, buf, cap, id, sizeof id, err));
        *path = buf;
        if (stat(buf, &st) == 0 && S_ISDIR(st.st_mode)) {
            char dir[4096];
            snprintf(dir, sizeof dir, "%s", buf);
            MW_FORWARD(mw_hub_single_gguf(id, dir, buf, cap, err));
        }
        return MW_OK;
    }
    if (!is_builtin(what)) return MW_OK;
    MW_FORWARD(mw_builtin_model_path(what, buf, cap, err));
    *path = buf;
    return MW_OK;
}
