/* report_file.c - a report written to a file as convert and the machine
 * profile write theirs: into a new temporary beside the path (O_EXCL and
 * O_NOFOLLOW: common/fileio.c), synced, then renamed over the path. A link
 * planted at the path is replaced, never written through; a failed write
 * leaves the old file as it was and no temporary behind. */
#include "memwall.h"
#include "common/error.h"
#include "common/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

mw_status mw_report_write_file(const char *path, mw_report_writer write, void *user, mw_err *err)
{
    MW_RETURN_IF(!path || !*path || !write, err, MW_ERR_INVALID, "mw_report_write_file: no path or no writer");
    char shown[256];
    mw_shown_str(path, shown, sizeof shown);
    /* a report replaces a file (or a link, unfollowed); what is not one, or
     * a link to a device or a pipe (/dev/stdout), is refused: renaming
     * over it would replace the device's name or the link itself */
    struct stat ls, ts;
    if (lstat(path, &ls) == 0) {
        const char *kind = NULL;
        if (S_ISLNK(ls.st_mode)) {
            if (stat(path, &ts) == 0 && !S_ISREG(ts.st_mode))
                kind = S_ISDIR(ts.st_mode) ? "a link to a folder" : "a link to a device, pipe or socket";
        } else if (!S_ISREG(ls.st_mode)) {
            kind = S_ISDIR(ls.st_mode) ? "a folder" : "a device, pipe or socket";
        }
        MW_RETURN_IF(kind, err, MW_ERR_INVALID, "cannot write %s: it is %s, not a regular file: give a file name",
                     shown, kind);
    }
    int fd = -1;
    char *tmp = NULL;
    mw_err e2 = {0};
    /* its message names the path, the temporary and the reason */
    if (mw_file_create_temp(path, &fd, &tmp, &e2) != MW_OK) return mw_err_set(err, e2.status, "%s", e2.msg);
    FILE *f = fdopen(fd, "w");
    if (!f) {
        int e = errno;
        close(fd);
        unlink(tmp);
        mw_free(tmp);
        return mw_err_errno(err, mw_status_from_errno(e), e, "cannot write %s", shown);
    }
    mw_status st = write(f, user, &e2);
    int e = 0;
    if (st == MW_OK) {
        errno = 0;
        if (fflush(f) != 0 || ferror(f)) e = errno ? errno : EIO;
        else if (fsync(fileno(f)) != 0) e = errno;
    }
    if (fclose(f) != 0 && st == MW_OK && !e) e = errno ? errno : EIO;
    if (st == MW_OK && !e && rename(tmp, path) != 0) e = errno;
    if (st != MW_OK || e) {
        unlink(tmp);
        mw_free(tmp);
        if (st != MW_OK) return mw_err_set(err, st, "%s: %s", shown, e2.msg);
        return mw_err_errno(err, mw_status_from_errno(e), e, "cannot write %s", shown);
    }
    mw_free(tmp);
    return MW_OK;
}
