/*
 * hub.h - Hugging Face model ids ("org/name") from the local hub cache,
 * internal to src/format (open.c). Nothing is downloaded. docs/PLAN.md,
 * "Models by name".
 */
#ifndef MW_FORMAT_HUB_H
#define MW_FORMAT_HUB_H

#include "memwall.h"

/* 1 when what has the form of a hub id: "org/name" or "org/name@revision"
 * (letters, digits, '.', '_', '-'; one '/'), not a path such as "./x/y". */
int mw_hub_id_like(const char *what);

/*! mw_hub_cache_dir() : the hub cache folder, in huggingface_hub's order:
 *  $HF_HUB_CACHE, $HUGGINGFACE_HUB_CACHE, $HF_HOME/hub,
 *  $XDG_CACHE_HOME/huggingface/hub, $HOME/.cache/huggingface/hub. *how (optional) names the one used
 *  ("$HF_HOME/hub"). @return 0, or -1 when none can be formed (no HOME). */
int mw_hub_cache_dir(char *buf, size_t cap, const char **how);

/* 1 when dir is a cache folder of a model: its last component is
 * "models--ORG--NAME" (a trailing '/' allowed). */
int mw_hub_is_repo_folder(const char *dir);

/*! mw_hub_resolve() : the snapshot folder of id ("org/name[@revision]")
 *  in the cache: models--org--name/refs/<revision, default main> holds a
 *  commit hash (40 or 64 hex digits), whose snapshots/<hash>/ is the
 *  folder. @return MW_OK with snapshot (cap bytes), or MW_ERR_NOT_FOUND /
 *  MW_ERR_INVALID saying what is missing or wrong, where, and what to do
 *  (the download command; a preset whose name matches). */
mw_status mw_hub_resolve(const char *id, char *snapshot, size_t cap, mw_err *err);

/*! mw_hub_resolve_folder() : the same for a models--org--name folder given
 *  directly; *id gets "org/name". */
mw_status mw_hub_resolve_folder(const char *dir, char *snapshot, size_t cap, char *id, size_t idcap,
                                mw_err *err);

/* 1 when what is "org/name[@revision]/PATH": a file (or folder) inside a
 * repository, PATH relative without "." or ".." components; *id_len is the
 * length of the "org/name[@revision]" part. */
int mw_hub_file_like(const char *what, size_t *id_len);

/*! mw_hub_resolve_path() : what (a hub id, or an id with a PATH inside its
 *  repository) as a path in the cache: the snapshot folder, or PATH in it.
 *  *id gets "org/name" (or "org/name/PATH"), as reports show it.
 *  @return MW_OK, or the errors of mw_hub_resolve, or MW_ERR_NOT_FOUND
 *  when the snapshot has no PATH (naming the files it has). */
mw_status mw_hub_resolve_path(const char *what, char *path, size_t cap, char *id, size_t idcap, mw_err *err);

/*! mw_hub_single_gguf() : the one *.gguf file in the snapshot folder dir
 *  (what the engine runs for "org/name"), into path. @return MW_OK, or
 *  MW_ERR_NOT_FOUND when it holds none, or MW_ERR_INVALID listing them
 *  when it holds several (pass org/name/FILE.gguf). */
mw_status mw_hub_single_gguf(const char *id, const char *dir, char *path, size_t cap, mw_err *err);

/* The preset (mw_preset_names) whose name matches the part of id after
 * its '/' (case and separators aside: "meta-llama/Llama-3.1-8B" ->
 * "llama-3.1-8b"); NULL when none. */
const char *mw_hub_matching_preset(const char *id);

#endif /* MW_FORMAT_HUB_H */
