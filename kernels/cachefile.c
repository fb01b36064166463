/* Per-user cache files: see cachefile.h. The folder is opened once and
 * checked, then the file is opened or created relative to that descriptor
 * (openat), so what was checked is what is used. */
#include "cachefile.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

#define DIR_ROOM 4224

static int say(char *why, size_t n, const char *fmt, ...) OPK_PRINTF(3, 4);
static int say(char *why, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (n)
        vsnprintf(why, n, fmt, ap);
    va_end(ap);
    return -1;
}

int opk_cache_dir(const char *sub, char *buf, size_t n)
{
    const char *x = getenv("XDG_CACHE_HOME"), *h = getenv("HOME");
    int r;
    if (x && x[0] == '/')
        r = snprintf(buf, n, "%s/%s", x, sub);
    else if (h && h[0] == '/')
        r = snprintf(buf, n, "%s/.cache/%s", h, sub);
    else
        return -1;
    return r > 0 && (size_t)r < n ? 0 : -1;
}

/* path's folder copied into dir; returns its last component (NULL when
 * path has no folder or no name, or the folder does not fit). */
static const char *split(const char *path, char *dir, size_t n)
{
    const char *slash = strrchr(path, '/');
    if (!slash || slash == path || !slash[1] || (size_t)(slash - path) >= n)
        return NULL;
    memcpy(dir, path, (size_t)(slash - path));
    dir[slash - path] = 0;
    return slash + 1;
}

/* dir opened if it is a directory of the user's that only the user may
 * write; else -1 with why (errno kept from open when that failed). */
static int open_dir(const char *dir, char *why, size_t nwhy)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        say(why, nwhy, "%s: %s", dir,
            e == ELOOP ? "a symbolic link, not trusted" : strerror(e));
        errno = e;
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) || st.st_uid != geteuid() ||
        (st.st_mode & (S_IWGRP | S_IWOTH))) {
        say(why, nwhy,
            "%s: not trusted (owner uid %ld, mode %03o; the cache must be a "
            "folder of the user's that no one else may write)",
            dir, (long)st.st_uid, (unsigned)(st.st_mode & 0777));
        close(fd);
        errno = EPERM;
        return -1;
    }
    return fd;
}

int opk_cache_open(const char *path, int *missing, char *why, size_t nwhy)
{
    char dir[DIR_ROOM];
    *missing = 0;
    const char *base = split(path, dir, sizeof dir);
    if (!base)
        return say(why, nwhy, "%s: not a path to a file in a folder", path);
    int dfd = open_dir(dir, why, nwhy);
    if (dfd < 0) {
        *missing = errno == ENOENT;
        return -1;
    }
    /* O_NONBLOCK: opening a FIFO must not wait for a writer. */
    int fd = openat(dfd, base, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    int e = errno;
    close(dfd);
    if (fd < 0) {
        *missing = e == ENOENT;
        return say(why, nwhy, "%s: %s", path,
                   e == ELOOP ? "a symbolic link, not trusted" : strerror(e));
    }
    struct stat st;
    if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_uid != geteuid()) {
        close(fd);
        return say(why, nwhy, "%s: not a regular file of the user's", path);
    }
    return fd;
}

/* mkdir -p, new folders 0700. */
static int make_dirs(char *dir)
{
    for (char *p = dir + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            int r = mkdir(dir, 0700), e = errno;
            *p = '/';
            if (r && e != EEXIST)
                return -1;
        }
    return mkdir(dir, 0700) && errno != EEXIST ? -1 : 0;
}

/* Removes the temporary files (NAME.tmp.PID.SEQ) that writers killed
 * between create and rename left in the folder, once an hour old: a live
 * writer renames its file within seconds. */
static void sweep_stale(int dfd)
{
    int fd = dup(dfd);
    DIR *d = fd < 0 ? NULL : fdopendir(fd);
    if (!d) {
        if (fd >= 0)
            close(fd);
        return;
    }
    const time_t old = time(NULL) - 3600;
    struct dirent *e;
    struct stat st;
    while ((e = readdir(d)))
        if (strstr(e->d_name, ".tmp.") &&
            !fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) &&
            S_ISREG(st.st_mode) && st.st_uid == geteuid() &&
            st.st_mtime < old)
            unlinkat(dfd, e->d_name, 0);
    closedir(d);
}

static int write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        c += w, n -= (size_t)w;
    }
    return 0;
}

int opk_cache_write(const char *path, const void *a, size_t na, const void *b,
                    size_t nb, char *why, size_t nwhy)
{
    char dir[DIR_ROOM], tmp[512];
    const char *base = split(path, dir, sizeof dir);
    if (!base)
        return say(why, nwhy, "%s: not a path to a file in a folder", path);
    if (make_dirs(dir))
        return say(why, nwhy, "cannot create %s: %s", dir, strerror(errno));
    int dfd = open_dir(dir, why, nwhy);
    if (dfd < 0)
        return -1;
    static atomic_uint seq;
    int r = snprintf(tmp, sizeof tmp, "%s.tmp.%ld.%u", base, (long)getpid(),
                     atomic_fetch_add(&seq, 1));
    if (r < 0 || (size_t)r >= sizeof tmp) {
        close(dfd);
        return say(why, nwhy, "%s: name too long", path);
    }
    /* O_EXCL: never through a file or link planted under this name. */
    int fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                    0600);
    if (fd < 0) {
        int e = errno;
        close(dfd);
        return say(why, nwhy, "cannot create %s/%s: %s", dir, tmp, strerror(e));
    }
    int ok = !write_all(fd, a, na) && (!nb || !write_all(fd, b, nb)) &&
             !fsync(fd);
    int e = errno;
    if (close(fd) && ok)
        ok = 0, e = errno;
    if (ok && renameat(dfd, tmp, dfd, base))
        ok = 0, e = errno;
    if (!ok) {
        unlinkat(dfd, tmp, 0);
        close(dfd);
        return say(why, nwhy, "cannot write %s: %s", path, strerror(e));
    }
    sweep_stale(dfd);
    close(dfd);
    return 0;
}
