/*
 * caches.c - the cache sizes sysfs gives for cpu0 (each indexN: level, type, size).
 */
#include "roofline/roofline.h"
#include "common/fileio.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The first word of root/indexN/file into buf; 0 when unreadable. */
static int read_word(const char *root, int idx, const char *file, char *buf, size_t cap)
{
    char path[512];
    snprintf(path, sizeof path, "%s/index%d/%s", root, idx, file);
    if (mw_read_text(path, buf, cap, NULL, NULL) != MW_OK) return 0;
    buf[strcspn(buf, " \t\n")] = '\0';
    return buf[0] != '\0';
}

size_t mw_rl_cache_sizes(const char *root, uint64_t out[4])
{
    if (!root) root = "/sys/devices/system/cpu/cpu0/cache";
    for (int i = 0; i < 4; i++) out[i] = MW_UNKNOWN;
    size_t found = 0;
    for (int idx = 0; idx < 16; idx++) {
        char level_s[32], type[32], size[32];
        if (!read_word(root, idx, "level", level_s, sizeof level_s) ||
            !read_word(root, idx, "type", type, sizeof type) || !strcmp(type, "Instruction") ||
            !read_word(root, idx, "size", size, sizeof size))
            continue;
        int level = atoi(level_s);
        char *end;
        unsigned long long v = strtoull(size, &end, 10);
        if (*end == 'K') v <<= 10;
        else if (*end == 'M') v <<= 20;
        if (level >= 1 && level <= 4 && v > 0) {
            if (out[level - 1] == MW_UNKNOWN) found++;
            out[level - 1] = v;
        }
    }
    return found;
}
