/*
 * store.c - index files: atomic save and memory-mapped open.
 *
 * Save writes the image to "<path>.tmp-<pid>-<n>" in the same directory,
 * fsyncs it, renames it over <path> and fsyncs the directory, so a crash at
 * any moment leaves either the old file or the new one, never a mix; on any
 * failure the temporary file is removed.  Open maps the file read-only and
 * hands the bytes to essay_index_from_image(), which validates them.
 */
#define _GNU_SOURCE 1
#include "index.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* Test hook (hardening tests): fail the n-th write/fsync/rename from now. */
static _Atomic uint64_t io_fail_at, io_count;

void essay_io_fail_at(uint64_t n)
{
    atomic_store(&io_count, 0);
    atomic_store(&io_fail_at, n);
}

static bool io_should_fail(void)
{
    uint64_t at = atomic_load(&io_fail_at);
    return at && atomic_fetch_add(&io_count, 1) + 1 == at;
}

static int io_err(essay_error *err, const char *path, const char *what, int e)
{
    return essay_error_set(err, ESSAY_EIO, path, 0, 0, 0, "cannot %s: %s", what, strerror(e));
}

void essay_index_unmap(essay_index *idx)
{
    if (idx->map)
        munmap(idx->map, idx->map_len);
    idx->map = NULL;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        size_t part = n > (1u << 30) ? (1u << 30) : n;
        if (io_should_fail()) {
            errno = ENOSPC;
            return -1;
        }
        ssize_t w = write(fd, p, part);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

struct essay_saver {
    char *path, *tmp, *dir;
    int fd;
    uint64_t written, kicked; /* bytes written; bytes handed to writeback */
};

/* Write-behind: every WRITEBACK_STEP bytes the kernel is asked to start
 * writing what came before (as RocksDB's bytes_per_sync does), so the
 * final fsync waits for the last stretch only instead of the whole file.
 * A hint: errors are left to fsync. */
#define WRITEBACK_STEP ((uint64_t)8 << 20)

static void writeback_kick(essay_saver *sv)
{
#ifdef SYNC_FILE_RANGE_WRITE
    if (sv->written - sv->kicked >= WRITEBACK_STEP) {
        (void)sync_file_range(sv->fd, (off_t)sv->kicked, (off_t)(sv->written - sv->kicked),
                              SYNC_FILE_RANGE_WRITE);
        sv->kicked = sv->written;
    }
#else
    (void)sv;
#endif
}

void essay_saver_abort(essay_saver *sv)
{
    if (!sv)
        return;
    if (sv->fd >= 0) {
        close(sv->fd);
        unlink(sv->tmp);
    }
    essay_free(sv->path);
    essay_free(sv->tmp);
    essay_free(sv->dir);
    essay_free(sv);
}

int essay_saver_begin(essay_saver **out, const char *path, essay_error *err)
{
    *out = NULL;
    static _Atomic unsigned seq;
    size_t plen = strlen(path);
    essay_saver *sv = essay_calloc(1, sizeof *sv);
    if (!sv)
        return essay_fail(err, ESSAY_ENOMEM, "out of memory saving an index");
    sv->fd = -1;
    sv->path = essay_malloc(plen + 1);
    sv->tmp = essay_malloc(plen + 64);
    sv->dir = essay_malloc(plen + 2);
    if (!sv->path || !sv->tmp || !sv->dir) {
        essay_saver_abort(sv);
        return essay_fail(err, ESSAY_ENOMEM, "out of memory saving an index");
    }
    memcpy(sv->path, path, plen + 1);
    snprintf(sv->tmp, plen + 64, "%s.tmp-%ld-%u", path, (long)getpid(),
             atomic_fetch_add(&seq, 1));
    memcpy(sv->dir, path, plen + 1);
    char *slash = strrchr(sv->dir, '/');
    if (!slash)
        strcpy(sv->dir, ".");
    else if (slash == sv->dir)
        sv->dir[1] = 0;
    else
        *slash = 0;
    sv->fd = open(sv->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (sv->fd < 0) {
        int rc = io_err(err, path, "create a temporary file next to it", errno);
        essay_saver_abort(sv);
        return rc;
    }
    *out = sv;
    return 0;
}

int essay_saver_write(essay_saver *sv, const void *p, size_t n, essay_error *err)
{
    if (write_all(sv->fd, p, n) != 0)
        return io_err(err, sv->path, "write the index", errno);
    sv->written += n;
    writeback_kick(sv);
    return 0;
}

int essay_saver_pwrite(essay_saver *sv, uint64_t off, const void *p, size_t n, essay_error *err)
{
    const uint8_t *b = p;
    while (n > 0) {
        if (io_should_fail()) {
            errno = ENOSPC;
            return io_err(err, sv->path, "write the index", errno);
        }
        ssize_t w = pwrite(sv->fd, b, n, (off_t)off);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return io_err(err, sv->path, "write the index", errno);
        }
        b += w;
        off += (uint64_t)w;
        n -= (size_t)w;
    }
    return 0;
}

int essay_saver_commit(essay_saver *sv, essay_error *err)
{
    int rc = 0;
    if (io_should_fail() ? (errno = EIO, 1) : fsync(sv->fd) != 0) {
        rc = io_err(err, sv->path, "flush the index to disk", errno);
        essay_saver_abort(sv);
        return rc;
    }
    int fd = sv->fd;
    sv->fd = -1;
    if (close(fd) != 0) {
        rc = io_err(err, sv->path, "close the index", errno);
        unlink(sv->tmp);
        essay_saver_abort(sv);
        return rc;
    }
    if (io_should_fail() ? (errno = EIO, 1) : rename(sv->tmp, sv->path) != 0) {
        rc = io_err(err, sv->path, "replace the index", errno);
        unlink(sv->tmp);
        essay_saver_abort(sv);
        return rc;
    }
    int dfd = open(sv->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        /* The new file is in place; a failing directory fsync only
         * weakens durability, which we report. */
        if (fsync(dfd) != 0 && errno != EINVAL)
            rc = io_err(err, sv->dir, "flush the directory", errno);
        close(dfd);
    }
    essay_saver_abort(sv); /* fd is closed: frees only */
    return rc;
}

int essay_index_save(const essay_index *idx, const char *path, essay_error *err)
{
    if (!idx || !path || !*path)
        return essay_fail(err, ESSAY_EINVAL, "essay_index_save: NULL argument");
    essay_saver *sv;
    int rc = essay_saver_begin(&sv, path, err);
    if (rc != 0)
        return rc;
    rc = essay_saver_write(sv, idx->img, idx->img_len, err);
    if (rc != 0) {
        essay_saver_abort(sv);
        return rc;
    }
    return essay_saver_commit(sv, err);
}

int essay_index_open(essay_index **out, const char *path, unsigned flags, essay_error *err)
{
    if (out)
        *out = NULL;
    if (!out || !path)
        return essay_fail(err, ESSAY_EINVAL, "essay_index_open: NULL argument");
    if (flags & ~ESSAY_OPEN_TRUSTED)
        return essay_fail(err, ESSAY_EINVAL, "essay_index_open: unknown flags 0x%x", flags);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        return essay_error_set(err, e == ENOENT ? ESSAY_ENOTFOUND : ESSAY_EIO, path, 0, 0, 0,
                               "cannot open: %s", strerror(e));
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return io_err(err, path, "stat", e);
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return essay_error_set(err, ESSAY_EIO, path, 0, 0, 0, "not a regular file");
    }
    size_t len = (size_t)st.st_size;
    if (len < EF_HEADER_SIZE) {
        close(fd);
        return essay_error_set(err, ESSAY_ECORRUPT, path, 0, 0, len,
                               "damaged index at byte %zu: file shorter than the index header",
                               len);
    }
    void *map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
    int e = errno;
    close(fd);
    if (map == MAP_FAILED)
        return io_err(err, path, "map the file", e);
    essay_index *idx = NULL;
    int rc = essay_index_from_image(&idx, map, len, NULL, (flags & ESSAY_OPEN_TRUSTED) != 0,
                                    path, err);
    if (rc != 0) {
        munmap(map, len);
        return rc;
    }
    if (!(flags & ESSAY_OPEN_TRUSTED))
        madvise(map, len, MADV_RANDOM);
    idx->map = map;
    idx->map_len = len;
    *out = idx;
    return 0;
}

int essay_index_open_memory(essay_index **out, const void *data, size_t len, unsigned flags,
                            essay_error *err)
{
    if (out)
        *out = NULL;
    if (!out || (!data && len))
        return essay_fail(err, ESSAY_EINVAL, "essay_index_open_memory: NULL argument");
    if (flags & ~ESSAY_OPEN_TRUSTED)
        return essay_fail(err, ESSAY_EINVAL, "essay_index_open_memory: unknown flags 0x%x",
                          flags);
    void *copy = NULL;
    if (((uintptr_t)data & 7) != 0) {
        /* Records are read in place: an unaligned image is copied once. */
        copy = essay_malloc(len ? len : 1);
        if (!copy)
            return essay_fail(err, ESSAY_ENOMEM, "out of memory opening an index");
        memcpy(copy, data, len);
        data = copy;
    }
    int rc = essay_index_from_image(out, data, len, copy, (flags & ESSAY_OPEN_TRUSTED) != 0,
                                    NULL, err);
    if (rc != 0)
        essay_free(copy);
    return rc;
}
