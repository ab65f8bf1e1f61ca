/*
 * pagecache.h - a file's pages in the page cache: how many, and dropping
 * them so that the next reader's cgroup is charged for them (pagecache.c).
 */
#ifndef MW_PROBE_PAGECACHE_H
#define MW_PROBE_PAGECACHE_H

#include "memwall.h"

/*! mw_pagecache_resident() : bytes of the regular file at path held in the
 *  page cache (mincore; nothing is read), and its size (size_bytes may be
 *  NULL). @return MW_OK, MW_ERR_NOT_FOUND, MW_ERR_INVALID (not a regular
 *  file), MW_ERR_IO. */
mw_status mw_pagecache_resident(const char *path, uint64_t *resident_bytes, uint64_t *size_bytes, mw_err *err);

/*! mw_pagecache_evict() : drops the file's clean, unmapped pages from the
 *  page cache (POSIX_FADV_DONTNEED) and measures what stayed (pages another
 *  process maps, or dirty ones) into *left_bytes (may be NULL).
 *  @return as mw_pagecache_resident(). */
mw_status mw_pagecache_evict(const char *path, uint64_t *left_bytes, mw_err *err);

#endif /* MW_PROBE_PAGECACHE_H */
