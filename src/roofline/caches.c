/*
 * caches.c - the cache sizes sysfs gives for cpu0 (each indexN: level, type, size).
 */
#include "roofline/roofline.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t mw_rl_cache_sizes(const char *root, uint64_t out[4])
{
    if (!root) root = "/sys/devices/system/cpu/cpu0/cache";
    for (int i = 0; i < 4; i++) out[i] = MW_UNKNOWN;
    size_t found = 0;
    for (int idx = 0; idx < 16; idx++) {
        char path[512], type[32] = "", size[32] = "";
        int level = 0;
        FILE *f;
        snprintf(path, sizeof path, "%s/index%d/level", root, idx);
        if (!(f = fopen(path, "r"))) continue;
        if (fscanf(f, "%d", &level) != 1) level = 0;
        fclose(f);
        snprintf(path, sizeof path, "%s/index%d/type", root, idx);
        if (!(f = fopen(path, "r"))) continue;
        if (fscanf(f, "%31s", type) != 1) type[0] = 0;
        fclose(f);
        if (!strcmp(type, "Instruction")) continue;
        snprintf(path, sizeof path, "%s/index%d/size", root, idx);
        if (!(f = fopen(path, "r"))) continue;
        if (fscanf(f, "%31s", size) != 1) size[0] = 0;
        fclose(f);
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
