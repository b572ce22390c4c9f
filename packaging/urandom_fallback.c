/*
 * /dev/urandom for a root that has no /dev: linked into the frozen provider on Linux (a
 * DT_NEEDED entry placed before the C library's, so its open() is the one every library
 * calls).
 *
 * Why: grpcio's bundled abseil seeds its random generators by opening /dev/urandom (its
 * getentropy() path is compiled out for the old glibc grpcio's wheels target), and aborts the
 * process when it cannot ("Failed generating seed-material for URBG"). Terraform runs
 * providers in roots that hold no /dev at all: a scratch container with only the terraform
 * binary, a CA file and /etc/hosts. The kernel's getrandom(2), the same source /dev/urandom
 * reads, is there on every kernel Terraform supports (3.17 and later).
 *
 * What: open() behaves exactly as the C library's, except that when opening "/dev/urandom"
 * for reading fails with ENOENT it returns an anonymous memory file holding fresh bytes from
 * getrandom(2), positioned at its start. Each such open gets new bytes. A reader that wants
 * more than STAND_IN_BYTES at once sees end of file, as it would on a short read; abseil
 * reads a few hundred bytes per seed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <unistd.h>

#define STAND_IN_BYTES 65536

static int urandom_stand_in(int flags) {
    unsigned int memfd_flags = (flags & O_CLOEXEC) ? MFD_CLOEXEC : 0;
    int fd = memfd_create("urandom", memfd_flags);
    if (fd < 0) {
        return -1;
    }
    unsigned char block[4096];
    for (size_t written = 0; written < STAND_IN_BYTES; written += sizeof block) {
        size_t got = 0;
        while (got < sizeof block) {
            ssize_t n = getrandom(block + got, sizeof block - got, 0);
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n <= 0) {
                close(fd);
                errno = ENOENT;
                return -1;
            }
            got += (size_t)n;
        }
        if (write(fd, block, sizeof block) != (ssize_t)sizeof block) {
            close(fd);
            errno = ENOENT;
            return -1;
        }
    }
    explicit_bzero(block, sizeof block);
    if (lseek(fd, 0, SEEK_SET) != 0) {
        close(fd);
        errno = ENOENT;
        return -1;
    }
    return fd;
}

int open(const char *path, int flags, ...) {
    mode_t mode = 0;
    if (flags & (O_CREAT | O_TMPFILE)) {
        va_list ap;
        va_start(ap, flags);
        mode = (mode_t)va_arg(ap, int);
        va_end(ap);
    }
    int fd = openat(AT_FDCWD, path, flags, mode);
    if (fd < 0 && errno == ENOENT && (flags & O_ACCMODE) == O_RDONLY &&
        strcmp(path, "/dev/urandom") == 0) {
        int saved = errno;
        fd = urandom_stand_in(flags);
        if (fd < 0) {
            errno = saved;
        }
    }
    return fd;
}
