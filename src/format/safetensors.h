/*
 * safetensors.h - safetensors files, single or sharded, memory-mapped.
 *
 * Layout: u64 LE header length N, N bytes of JSON (cJSON parses it), then
 * the byte buffer. Every tensor's data_offsets are checked: inside the
 * buffer, matching dtype x shape, no overlaps, no holes, no duplicates.
 */
#ifndef MW_FORMAT_SAFETENSORS_H
#define MW_FORMAT_SAFETENSORS_H

#include "memwall.h"

/* Headers larger than this are refused (the format's own readers cap it). */
#define MW_SAFETENSORS_MAX_HEADER (100u << 20)

/*! mw_safetensors_parse() : checks one file's image (header + buffer) in
 *  memory and adds its tensors to m as file `file` (absolute offsets).
 *  The fuzz target's entry point. */
mw_status mw_safetensors_parse(const void *data, size_t size, mw_model *m, uint32_t file,
                               mw_err *err);

/*! mw_safetensors_open_model() :
 *  path: a .safetensors file, or a model.safetensors.index.json (its
 *  "weight_map" names the shards, each opened and checked; every tensor of
 *  the map must be found in the shard it names). A config.json beside the
 *  file, when present, gives the hparams (format/hf_config.h). */
mw_status mw_safetensors_open_model(const char *path, mw_model **out, mw_err *err);

#endif /* MW_FORMAT_SAFETENSORS_H */
