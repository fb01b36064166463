/* Per-user cache files (the OpenCL program cache, opk bench's limits).
 *
 * What a cache file says is used without recomputing it (a program binary
 * runs as if built from opk's source), so only files that the user alone
 * could have written are read: the folder must be a real directory (not a
 * symlink) owned by the effective user that no one else may write, and the
 * file a regular file in it owned by that user. A FIFO or a device at the
 * path is refused without waiting on it. Writes go to a fresh temporary
 * file in the same folder, synced and renamed into place, so a reader never
 * sees a partial file (temporary files an hour old, left by a writer that
 * was killed, are removed then). Each call names what it refused in
 * `why`. */
#ifndef OPK_CACHEFILE_H
#define OPK_CACHEFILE_H

#include <stddef.h>

/* The folder `sub` ("opk/cl", "opk") of the user's cache:
 * $XDG_CACHE_HOME/sub when XDG_CACHE_HOME is absolute (the XDG spec ignores
 * a relative one), else $HOME/.cache/sub when HOME is absolute; -1 when
 * neither is, or the path does not fit in n bytes. */
int opk_cache_dir(const char *sub, char *buf, size_t n);

/* A descriptor open for reading on path, if it and its folder pass the
 * checks above; else -1 and why. *missing is set when path does not exist
 * (no file is not a fault). */
int opk_cache_open(const char *path, int *missing, char *why, size_t nwhy);

/* Writes a (na bytes) then b (nb bytes; b may be NULL) as the file path,
 * creating its folder (and parents, mode 0700) if needed; 0, or -1 and
 * why. */
int opk_cache_write(const char *path, const void *a, size_t na, const void *b,
                    size_t nb, char *why, size_t nwhy);

#endif
