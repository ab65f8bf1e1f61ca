/*
 * stream.h - the weights that do not fit a memory budget, read from the
 * model file each step by a background reader (issue #15, docs/PAGING.md,
 * "Streaming in the engine").
 *
 * The streamed layers first .. first+n-1 are read in the order the forward
 * pass uses them, cyclically (first .. last, then again for the next step),
 * into `slots` reused buffers of slot_bytes each (MW_MEM_WEIGHTS), the
 * reader running up to slots - 1 layers ahead of the forward pass.
 * mw_stream_acquire waits until a layer is read (no spinning: a condition
 * variable) and gives its tensors' addresses; mw_stream_release hands the
 * buffer back. A failed or short read, or a file changed between steps,
 * stops the reader with an error that every later acquire returns.
 */
#ifndef MW_ENGINE_STREAM_H
#define MW_ENGINE_STREAM_H

#include "memwall.h"

#define MW_STREAM_TENSORS 9          /* a layer's tensors */

typedef struct mw_stream_src {
    uint64_t offset[MW_STREAM_TENSORS];  /* absolute, in the file */
    uint64_t bytes[MW_STREAM_TENSORS];
    uint8_t  f32[MW_STREAM_TENSORS];     /* placed first (4-byte aligned) */
} mw_stream_src;

typedef struct mw_stream mw_stream;

typedef struct mw_stream_stats {
    mw_stream_io io;                 /* BUFFERED or DIRECT, as used    */
    uint64_t bytes_read;             /* tensor bytes read              */
    double read_seconds;             /* the reader in its reads        */
    double wait_seconds;             /* acquire waiting for a layer    */
} mw_stream_stats;

/*! mw_stream_open() : src[0 .. n_layers) for layers first ..; slot_bytes at
 *  least each layer's Σ bytes. io AUTO: O_DIRECT, BUFFERED where the file
 *  system refuses it. Starts the reader. */
mw_status mw_stream_open(const char *path, uint32_t first, uint32_t n_layers, const mw_stream_src *src,
                         uint32_t slots, uint64_t slot_bytes, mw_stream_io io, mw_stream **out, mw_err *err);

/*! mw_stream_acquire() : waits for layer (the next in the cyclic order) and
 *  gives its tensors' data in ptr[0 .. 9). */
mw_status mw_stream_acquire(mw_stream *s, uint32_t layer, const void **ptr, mw_err *err);
void mw_stream_release(mw_stream *s, uint32_t layer);

void mw_stream_get_stats(mw_stream *s, mw_stream_stats *out);

/*! mw_stream_close() : stops and joins the reader, frees everything. */
void mw_stream_close(mw_stream *s);

#endif /* MW_ENGINE_STREAM_H */
