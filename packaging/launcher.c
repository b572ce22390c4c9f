/*
 * The released provider's top-level executable on Linux: a tiny static program (no libc or
 * loader of the host is used) that starts the frozen provider with the C library and loader
 * bundled beside it, so the release runs on any Linux kernel Terraform runs on, glibc or musl.
 *
 * It finds its own folder (/proc/self/exe, else argv[0]: an empty chroot may have no /proc),
 * then execs RUNTIME/LOADER --inhibit-cache RUNTIME/PROGRAM ARGS...  Every bundled ELF file
 * carries an $ORIGIN-relative RPATH, so no library path is passed anywhere: the folder may
 * hold ':' (a registry on a port, localhost:8443/...), which LD_LIBRARY_PATH and
 * --library-path would split on.
 *
 * PyInstaller's bootloader re-executes itself once with LD_LIBRARY_PATH set unless it is told
 * it already did; the two variables below say so, which saves that second exec and keeps
 * LD_LIBRARY_PATH out of it.
 *
 * RUNTIME, PROGRAM and LOADER are set with -D by the release tool.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef RUNTIME
#error "RUNTIME (the support folder's name) must be defined"
#endif
#ifndef PROGRAM
#error "PROGRAM (the frozen program's name) must be defined"
#endif
#ifndef LOADER
#error "LOADER (the bundled dynamic loader's name) must be defined"
#endif

static const char *name = "terraform-provider-connectly";

static int fail(const char *what, const char *path) {
    fprintf(stderr, "%s: cannot start: %s %s: %s\n", name, what, path, strerror(errno));
    return 1;
}

/* The absolute, symlink-free path of this executable, into out (PATH_MAX bytes). */
static int self_path(const char *argv0, char *out) {
    ssize_t n = readlink("/proc/self/exe", out, PATH_MAX - 1);
    if (n > 0) {
        out[n] = '\0';
        return 0;
    }
    if (argv0 == NULL || argv0[0] == '\0') {
        errno = ENOENT;
        return -1;
    }
    if (strchr(argv0, '/') != NULL) {
        return realpath(argv0, out) != NULL ? 0 : -1;
    }
    /* Started by name alone: look it up in PATH, as the shell did. */
    const char *path = getenv("PATH");
    char candidate[PATH_MAX];
    while (path != NULL && *path != '\0') {
        const char *end = strchr(path, ':');
        size_t len = end != NULL ? (size_t)(end - path) : strlen(path);
        if (len > 0 && snprintf(candidate, sizeof candidate, "%.*s/%s", (int)len, path, argv0) <
                           (int)sizeof candidate &&
            access(candidate, X_OK) == 0) {
            return realpath(candidate, out) != NULL ? 0 : -1;
        }
        path = end != NULL ? end + 1 : NULL;
    }
    errno = ENOENT;
    return -1;
}

int main(int argc, char **argv) {
    char self[PATH_MAX];
    char loader[PATH_MAX];
    char program[PATH_MAX];

    if (self_path(argc > 0 ? argv[0] : NULL, self) != 0) {
        return fail("cannot find", "its own path");
    }
    char *slash = strrchr(self, '/');
    if (slash == NULL) {
        errno = EINVAL;
        return fail("unexpected path", self);
    }
    *slash = '\0';
    if (snprintf(loader, sizeof loader, "%s/%s/%s", self, RUNTIME, LOADER) >= (int)sizeof loader ||
        snprintf(program, sizeof program, "%s/%s/%s", self, RUNTIME, PROGRAM) >=
            (int)sizeof program) {
        errno = ENAMETOOLONG;
        return fail("path too long", self);
    }
    if (setenv("_PYI_ARCHIVE_FILE", program, 1) != 0 ||
        setenv("_PYI_PARENT_PROCESS_LEVEL", "0", 1) != 0) {
        return fail("cannot set up the environment for", program);
    }

    char **args = calloc((size_t)argc + 3, sizeof *args);
    if (args == NULL) {
        return fail("out of memory for", program);
    }
    args[0] = loader;
    args[1] = "--inhibit-cache";
    args[2] = program;
    for (int i = 1; i < argc; i++) {
        args[i + 2] = argv[i];
    }
    args[argc + 2] = NULL;
    execv(loader, args);
    return fail("cannot run", loader);
}
