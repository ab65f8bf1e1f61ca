/*
 * stream.c - the background reader of the streamed layers (stream.h;
 * issue #15, docs/PAGING.md "Streaming in the engine").
 *
 * Reads: DIRECT opens a second descriptor with O_DIRECT and reads the
 * layer's span, aligned to 4096 bytes, in chunks of CHUNK into aligned
 * staging buffers (MW_MEM_SCRATCH), copying each tensor out into the slot,
 * two halves of a large layer at once;
 * BUFFERED preads each tensor straight into the slot and drops the range
 * from the page cache (posix_fadvise POSIX_FADV_DONTNEED). Either way the
 * page cache does not keep the streamed layers.
 * Fault injection (tests): MEMWALL_FAIL_STREAM_READ=N fails the N-th read
 * with EIO.
 */
#include "engine/stream.h"
#include "common/error.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CHUNK ((size_t)8 << 20)
#define ALIGN_IO 4096u
_Static_assert(MW_STREAM_STAGING_BYTES == 2 * CHUNK + ALIGN_IO, "the plan counts this staging");

struct mw_stream {
    char *path;
    int fd, dfd;                     /* buffered; O_DIRECT (-1: none)  */
    struct stat st0;                 /* the file as opened             */
    uint32_t first, n, slots;
    mw_stream_src *src;
    uint64_t (*place)[MW_STREAM_TENSORS]; /* each tensor's offset in a slot */
    uint8_t **slot;
    uint8_t *stage_raw, *stage, *stage2; /* DIRECT: 2 x CHUNK, aligned */
    uint64_t fail_at;                /* MEMWALL_FAIL_STREAM_READ       */
    _Atomic uint64_t n_reads;
    pthread_t th;
    int started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint64_t read_q, got_q, rel_q;   /* layers read, acquired, released */
    int stop;
    mw_status st;
    mw_err err;
    mw_stream_stats stats;
};

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

const char *mw_stream_io_name(mw_stream_io io)
{
    switch (io) {
    case MW_STREAM_IO_AUTO: return "auto";
    case MW_STREAM_IO_BUFFERED: return "buffered";
    case MW_STREAM_IO_DIRECT: return "direct";
    }
    return "?";
}

/* One read (counted for the fault hook); -1 with errno. */
static ssize_t one_read(mw_stream *s, int fd, void *buf, size_t len, uint64_t off)
{
    if (s->fail_at && atomic_fetch_add(&s->n_reads, 1) + 1 == s->fail_at) {
        errno = EIO;
        return -1;
    }
    ssize_t r;
    do r = pread(fd, buf, len, (off_t)off);
    while (r < 0 && errno == EINTR);
    return r;
}

static mw_status changed(mw_stream *s, uint64_t want, uint64_t off, uint64_t got, mw_err *err)
{
    return mw_err_set(err, MW_ERR_IO,
                      "%s changed while streaming: expected %llu bytes at offset %llu, got %llu (the model "
                      "file was truncated or replaced during the run: leave it alone while it runs)",
                      s->path, (unsigned long long)want, (unsigned long long)off, (unsigned long long)got);
}

/* [off, off+len) into dst, buffered, through the page cache then out of it. */
static mw_status read_buffered(mw_stream *s, uint8_t *dst, uint64_t off, uint64_t len, mw_err *err)
{
    uint64_t done = 0;
    while (done < len) {
        size_t want = len - done < CHUNK ? (size_t)(len - done) : CHUNK;
        ssize_t r = one_read(s, s->fd, dst + done, want, off + done);
        if (r < 0)
            return mw_err_errno(err, MW_ERR_IO, errno, "%s: reading %zu bytes at offset %llu while streaming",
                                s->path, want, (unsigned long long)(off + done));
        if (r == 0) return changed(s, len, off, done, err);
        done += (uint64_t)r;
    }
    (void)posix_fadvise(s->fd, (off_t)off, (off_t)len, POSIX_FADV_DONTNEED);
    return MW_OK;
}

/* [c0, c1) of the file (c0 aligned to 4096) through one O_DIRECT staging
 * buffer in CHUNK reads, each tensor's part of it copied to its place. */
static mw_status read_direct_range(mw_stream *s, const mw_stream_src *src, uint8_t *slot, const uint64_t *place,
                                   uint64_t c0, uint64_t c1, uint8_t *stage, mw_err *err)
{
    for (uint64_t c = c0; c < c1; c += CHUNK) {
        uint64_t want_end = c + CHUNK < c1 ? c + CHUNK : c1;
        size_t want = (size_t)(((want_end - c) + ALIGN_IO - 1) & ~(uint64_t)(ALIGN_IO - 1));
        uint64_t need = want_end - c;          /* bytes this chunk must have */
        uint64_t got = 0;
        while (got < need) {
            ssize_t r = one_read(s, s->dfd, stage + got, want - (size_t)got, c + got);
            if (r < 0)
                return mw_err_errno(err, MW_ERR_IO, errno, "%s: reading %zu bytes at offset %llu while "
                                    "streaming (O_DIRECT)", s->path, want, (unsigned long long)(c + got));
            if (r == 0) return changed(s, need, c, got, err);
            got += (uint64_t)r;
            if (got % ALIGN_IO) break;         /* a short read: end of file */
        }
        if (got < need) return changed(s, need, c, got, err);
        for (int t = 0; t < MW_STREAM_TENSORS; t++) {
            uint64_t ts = src->offset[t], te = ts + src->bytes[t];
            uint64_t x0 = ts > c ? ts : c, x1 = te < want_end ? te : want_end;
            if (x0 < x1) memcpy(slot + place[t] + (x0 - ts), stage + (x0 - c), (size_t)(x1 - x0));
        }
    }
    return MW_OK;
}

typedef struct half_args {
    mw_stream *s;
    const mw_stream_src *src;
    uint8_t *slot;
    const uint64_t *place;
    uint64_t c0, c1;
    mw_status st;
    mw_err err;
} half_args;

static void *direct_half(void *p)
{
    half_args *h = p;
    h->st = read_direct_range(h->s, h->src, h->slot, h->place, h->c0, h->c1, h->s->stage2, &h->err);
    return NULL;
}

/* The layer's span, its start aligned down to 4096: O_DIRECT serves one
 * request at a time at about half the disk's bandwidth here (docs/PAGING.md),
 * so a layer of more than two chunks is read as two halves at once, the
 * second by a short-lived thread with its own staging buffer. */
static mw_status read_direct(mw_stream *s, const mw_stream_src *src, uint8_t *slot, const uint64_t *place,
                             mw_err *err)
{
    uint64_t lo = UINT64_MAX, hi = 0;
    for (int t = 0; t < MW_STREAM_TENSORS; t++) {
        if (src->offset[t] < lo) lo = src->offset[t];
        if (src->offset[t] + src->bytes[t] > hi) hi = src->offset[t] + src->bytes[t];
    }
    uint64_t a = lo & ~(uint64_t)(ALIGN_IO - 1);
    if (hi - a <= 2 * CHUNK) return read_direct_range(s, src, slot, place, a, hi, s->stage, err);
    uint64_t mid = a + (((hi - a) / 2 + ALIGN_IO - 1) & ~(uint64_t)(ALIGN_IO - 1));
    half_args h = {s, src, slot, place, mid, hi, MW_OK, {0}};
    pthread_t th;
    int rc = pthread_create(&th, NULL, direct_half, &h);
    if (rc != 0) { /* no second thread: one request at a time */
        MW_FORWARD(read_direct_range(s, src, slot, place, a, mid, s->stage, err));
        return read_direct_range(s, src, slot, place, mid, hi, s->stage2, err);
    }
    mw_status st = read_direct_range(s, src, slot, place, a, mid, s->stage, err);
    pthread_join(th, NULL);
    if (st != MW_OK) return st;
    if (h.st != MW_OK && err) *err = h.err;
    return h.st;
}

/* Between steps: the file still the one opened (inode, size, mtime). */
static mw_status check_file(mw_stream *s, mw_err *err)
{
    struct stat a, b;
    if (fstat(s->fd, &a) != 0 || stat(s->path, &b) != 0)
        return mw_err_errno(err, MW_ERR_IO, errno, "%s changed while streaming: it cannot be examined any "
                            "more", s->path);
    if (a.st_size != s->st0.st_size || a.st_mtim.tv_sec != s->st0.st_mtim.tv_sec ||
        a.st_mtim.tv_nsec != s->st0.st_mtim.tv_nsec || b.st_ino != s->st0.st_ino || b.st_dev != s->st0.st_dev)
        return mw_err_set(err, MW_ERR_IO,
                          "%s changed while streaming: it was %llu bytes, now %llu%s (the model file was "
                          "truncated, rewritten or replaced during the run: leave it alone while it runs)",
                          s->path, (unsigned long long)s->st0.st_size, (unsigned long long)b.st_size,
                          b.st_ino != s->st0.st_ino ? ", another file" : "");
    return MW_OK;
}

static void *reader(void *p)
{
    mw_stream *s = p;
    mw_err e;
    memset(&e, 0, sizeof e);
    for (;;) {
        pthread_mutex_lock(&s->mu);
        while (!s->stop && s->read_q - s->rel_q >= s->slots) pthread_cond_wait(&s->cv, &s->mu);
        if (s->stop) {
            pthread_mutex_unlock(&s->mu);
            return NULL;
        }
        uint64_t q = s->read_q;
        pthread_mutex_unlock(&s->mu);

        uint32_t li = (uint32_t)(q % s->n);
        uint8_t *slot = s->slot[q % s->slots];
        const mw_stream_src *src = &s->src[li];
        double t0 = now();
        mw_status st = li == 0 && q > 0 ? check_file(s, &e) : MW_OK;
        uint64_t bytes = 0;
        if (st == MW_OK && s->dfd >= 0) {
            st = read_direct(s, src, slot, s->place[li], &e);
        } else {
            /* the next layer's range to the kernel's readahead now, so that
             * the disk works on it while this one is copied out: two
             * requests in flight instead of one */
            const mw_stream_src *nx = &s->src[(li + 1) % s->n];
            for (int t = 0; t < MW_STREAM_TENSORS; t++)
                (void)posix_fadvise(s->fd, (off_t)nx->offset[t], (off_t)nx->bytes[t], POSIX_FADV_WILLNEED);
            uint64_t lo = UINT64_MAX, hi = 0;
            for (int t = 0; st == MW_OK && t < MW_STREAM_TENSORS; t++) {
                st = read_buffered(s, slot + s->place[li][t], src->offset[t], src->bytes[t], &e);
                if (src->offset[t] < lo) lo = src->offset[t];
                if (src->offset[t] + src->bytes[t] > hi) hi = src->offset[t] + src->bytes[t];
            }
            /* the page cache keeps a large folio (2 MiB) that straddles a
             * dropped range's end: drop the layer's span rounded out */
            if (st == MW_OK) {
                lo &= ~(uint64_t)((2u << 20) - 1);
                hi = (hi + (2u << 20) - 1) & ~(uint64_t)((2u << 20) - 1);
                (void)posix_fadvise(s->fd, (off_t)lo, (off_t)(hi - lo), POSIX_FADV_DONTNEED);
            }
        }
        for (int t = 0; t < MW_STREAM_TENSORS; t++) bytes += src->bytes[t];
        double dt = now() - t0;

        pthread_mutex_lock(&s->mu);
        if (st != MW_OK) {
            s->st = st;
            s->err = e;
            pthread_cond_broadcast(&s->cv);
            pthread_mutex_unlock(&s->mu);
            return NULL;
        }
        s->stats.bytes_read += bytes;
        s->stats.read_seconds += dt;
        s->read_q++;
        pthread_cond_broadcast(&s->cv);
        pthread_mutex_unlock(&s->mu);
    }
}

mw_status mw_stream_open(const char *path, uint32_t first, uint32_t n_layers, const mw_stream_src *src,
                         uint32_t slots, uint64_t slot_bytes, mw_stream_io io, mw_stream **out, mw_err *err)
{
    *out = NULL;
    MW_RETURN_IF(n_layers == 0 || slots == 0 || slots > n_layers, err, MW_ERR_INTERNAL,
                 "streaming %u layers in %u buffers", n_layers, slots);
    mw_stream *s = mw_calloc(1, sizeof *s, MW_MEM_OTHER);
    MW_RETURN_IF(!s, err, MW_ERR_NOMEM, "out of memory streaming");
    s->fd = s->dfd = -1;
    mw_status st = MW_OK;
    s->first = first;
    s->n = n_layers;
    s->slots = slots;
    s->path = mw_strdup(path, MW_MEM_OTHER);
    s->src = mw_malloc(n_layers * sizeof *s->src, MW_MEM_OTHER);
    s->place = mw_malloc(n_layers * sizeof *s->place, MW_MEM_OTHER);
    s->slot = mw_calloc(slots, sizeof *s->slot, MW_MEM_OTHER);
    if (!s->path || !s->src || !s->place || !s->slot) {
        st = mw_err_set(err, MW_ERR_NOMEM, "out of memory streaming");
        goto fail;
    }
    memcpy(s->src, src, n_layers * sizeof *s->src);
    for (uint32_t l = 0; l < n_layers; l++) { /* F32 tensors first: aligned */
        uint64_t at = 0;
        for (int pass = 0; pass < 2; pass++)
            for (int t = 0; t < MW_STREAM_TENSORS; t++)
                if ((pass == 0) == (src[l].f32[t] != 0)) {
                    s->place[l][t] = at;
                    at += src[l].bytes[t];
                }
        if (at > slot_bytes) {
            st = mw_err_set(err, MW_ERR_INTERNAL, "streamed layer %u is %llu bytes, the buffers %llu",
                            first + l, (unsigned long long)at, (unsigned long long)slot_bytes);
            goto fail;
        }
    }
    for (uint32_t i = 0; i < slots; i++) {
        s->slot[i] = mw_malloc(slot_bytes ? slot_bytes : 1, MW_MEM_WEIGHTS);
        if (!s->slot[i]) {
            st = mw_err_set(err, MW_ERR_NOMEM, "out of memory for the stream buffers (%u of %llu bytes)",
                            slots, (unsigned long long)slot_bytes);
            goto fail;
        }
    }
    s->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (s->fd < 0 || fstat(s->fd, &s->st0) != 0) {
        st = mw_err_errno(err, MW_ERR_IO, errno, "%s: cannot open it for streaming", path);
        goto fail;
    }
    /* no readahead past a range: it would land after the range is dropped */
    (void)posix_fadvise(s->fd, 0, 0, POSIX_FADV_RANDOM);
    s->stats.io = MW_STREAM_IO_BUFFERED;
    if (io != MW_STREAM_IO_BUFFERED) {
        s->dfd = open(path, O_RDONLY | O_CLOEXEC | O_DIRECT);
        if (s->dfd >= 0) {
            s->stage_raw = mw_malloc(MW_STREAM_STAGING_BYTES, MW_MEM_SCRATCH); /* 2 x CHUNK, aligned */
            if (!s->stage_raw) {
                st = mw_err_set(err, MW_ERR_NOMEM, "out of memory for the O_DIRECT staging buffer");
                goto fail;
            }
            s->stage = (uint8_t *)(((uintptr_t)s->stage_raw + ALIGN_IO - 1) & ~(uintptr_t)(ALIGN_IO - 1));
            s->stage2 = s->stage + CHUNK;
            /* a file system may take the open and refuse the read (EINVAL) */
            ssize_t r = pread(s->dfd, s->stage, ALIGN_IO, 0);
            if (r < 0) {
                close(s->dfd);
                s->dfd = -1;
                mw_free(s->stage_raw);
                s->stage_raw = s->stage = s->stage2 = NULL;
            }
        }
        if (s->dfd >= 0) s->stats.io = MW_STREAM_IO_DIRECT;
    }
    const char *fail = getenv("MEMWALL_FAIL_STREAM_READ");
    if (fail && *fail) s->fail_at = strtoull(fail, NULL, 10);
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    s->st = MW_OK;
    int rc = pthread_create(&s->th, NULL, reader, s);
    if (rc != 0) {
        pthread_cond_destroy(&s->cv);
        pthread_mutex_destroy(&s->mu);
        st = mw_err_errno(err, MW_ERR_IO, rc, "cannot start the stream reader thread");
        goto fail;
    }
    s->started = 1;
    *out = s;
    return MW_OK;
fail:
    mw_stream_close(s);
    return st;
}

mw_status mw_stream_acquire(mw_stream *s, uint32_t layer, const void **ptr, mw_err *err)
{
    pthread_mutex_lock(&s->mu);
    uint64_t q = s->got_q;
    if (layer != s->first + q % s->n) {
        pthread_mutex_unlock(&s->mu);
        return mw_err_set(err, MW_ERR_INTERNAL, "streamed layer %u asked, %u expected", layer,
                          (unsigned)(s->first + q % s->n));
    }
    double t0 = now();
    while (s->st == MW_OK && s->read_q <= q) pthread_cond_wait(&s->cv, &s->mu);
    s->stats.wait_seconds += now() - t0;
    if (s->read_q <= q) { /* the reader stopped with an error */
        mw_status st = s->st;
        if (err) *err = s->err;
        pthread_mutex_unlock(&s->mu);
        return st;
    }
    s->got_q++;
    pthread_mutex_unlock(&s->mu);
    uint8_t *slot = s->slot[q % s->slots];
    uint32_t li = (uint32_t)(q % s->n);
    for (int t = 0; t < MW_STREAM_TENSORS; t++) ptr[t] = slot + s->place[li][t];
    return MW_OK;
}

void mw_stream_release(mw_stream *s, uint32_t layer)
{
    (void)layer;
    pthread_mutex_lock(&s->mu);
    if (s->rel_q < s->got_q) s->rel_q++;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

void mw_stream_get_stats(mw_stream *s, mw_stream_stats *out)
{
    pthread_mutex_lock(&s->mu);
    *out = s->stats;
    pthread_mutex_unlock(&s->mu);
}

void mw_stream_close(mw_stream *s)
{
    if (!s) return;
    if (s->started) {
        pthread_mutex_lock(&s->mu);
        s->stop = 1;
        pthread_cond_broadcast(&s->cv);
        pthread_mutex_unlock(&s->mu);
        pthread_join(s->th, NULL);
        pthread_cond_destroy(&s->cv);
        pthread_mutex_destroy(&s->mu);
    }
    if (s->fd >= 0) close(s->fd);
    if (s->dfd >= 0) close(s->dfd);
    if (s->slot)
        for (uint32_t i = 0; i < s->slots; i++) mw_free(s->slot[i]);
    mw_free(s->slot);
    mw_free(s->stage_raw);
    mw_free(s->place);
    mw_free(s->src);
    mw_free(s->path);
    mw_free(s);
}
