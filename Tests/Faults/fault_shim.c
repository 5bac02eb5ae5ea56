/*
 * fault_shim.c: an LD_PRELOAD library that makes chosen I/O calls fail, for Cairn's process-level
 * fault tests (Tests/CairnCLITests/FaultInjectionTests.swift, docs/reliability.md "Faults").
 *
 * Built by the tests at run time:  cc -shared -fPIC -o fault_shim.so fault_shim.c -ldl
 * Controlled by environment variables (read once, at load):
 *
 *   CAIRN_FAULT_PATH       substring of the file's path a call must concern (required; for calls
 *                          on a descriptor the path comes from /proc/self/fd, for msync from
 *                          /proc/self/maps, for renames either name counts)
 *   CAIRN_FAULT_OPS        comma-separated calls to fail: write, pwrite, writev, pwritev, fsync,
 *                          fdatasync, msync, rename, mmap (default: all but mmap)
 *   CAIRN_FAULT_ERRNO      ENOSPC, EIO, ENOMEM, EDQUOT or a number (default ENOSPC)
 *   CAIRN_FAULT_AFTER      matching calls that succeed before the first failure (default 0)
 *   CAIRN_FAULT_TIMES      how many calls fail, then the rest succeed (default: all)
 *   CAIRN_FAULT_MIN_BYTES  only calls of at least this many bytes match (writes, mmap length)
 *   CAIRN_FAULT_LOG        file to which one line "op path errno" is appended per injected
 *                          failure, so a test can prove its fault was reached
 *
 * Only the calls named above are intercepted; everything else goes to libc untouched. The
 * real functions are found with dlsym(RTLD_NEXT).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

enum op { OP_WRITE, OP_PWRITE, OP_WRITEV, OP_PWRITEV, OP_FSYNC, OP_FDATASYNC, OP_MSYNC, OP_RENAME, OP_MMAP, OP_COUNT };
static const char *op_names[OP_COUNT] = {"write", "pwrite", "writev", "pwritev", "fsync",
                                         "fdatasync", "msync", "rename", "mmap"};

static int configured = 0;
static char pattern[4096];
static int enabled_ops[OP_COUNT];
static int fault_errno = ENOSPC;
static long after = 0;
static long times = -1;
static size_t min_bytes = 0;
static char log_path[4096];
static atomic_long matched = 0;
static atomic_long failed = 0;

static long env_long(const char *name, long fallback) {
    const char *v = getenv(name);
    return (v && *v) ? strtol(v, NULL, 10) : fallback;
}

__attribute__((constructor)) static void fault_init(void) {
    const char *p = getenv("CAIRN_FAULT_PATH");
    if (!p || !*p) return;
    strncpy(pattern, p, sizeof pattern - 1);
    const char *ops = getenv("CAIRN_FAULT_OPS");
    for (int i = 0; i < OP_COUNT; i++) enabled_ops[i] = (ops == NULL) ? (i != OP_MMAP) : 0;
    if (ops) {
        char buf[512];
        strncpy(buf, ops, sizeof buf - 1);
        buf[sizeof buf - 1] = 0;
        for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
            for (int i = 0; i < OP_COUNT; i++)
                if (strcmp(tok, op_names[i]) == 0) enabled_ops[i] = 1;
        }
    }
    const char *e = getenv("CAIRN_FAULT_ERRNO");
    if (e && *e) {
        if (strcmp(e, "ENOSPC") == 0) fault_errno = ENOSPC;
        else if (strcmp(e, "EIO") == 0) fault_errno = EIO;
        else if (strcmp(e, "ENOMEM") == 0) fault_errno = ENOMEM;
        else if (strcmp(e, "EDQUOT") == 0) fault_errno = EDQUOT;
        else fault_errno = atoi(e);
    }
    after = env_long("CAIRN_FAULT_AFTER", 0);
    times = env_long("CAIRN_FAULT_TIMES", -1);
    min_bytes = (size_t)env_long("CAIRN_FAULT_MIN_BYTES", 0);
    const char *l = getenv("CAIRN_FAULT_LOG");
    if (l) strncpy(log_path, l, sizeof log_path - 1);
    configured = 1;
}

static int fd_path(int fd, char *out, size_t size) {
    char link[64];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, out, size - 1);
    if (n < 0) return -1;
    out[n] = 0;
    return 0;
}

/* The file mapped at addr, from /proc/self/maps. */
static int mapping_path(const void *addr, char *out, size_t size) {
    FILE *maps = fopen("/proc/self/maps", "re");
    if (!maps) return -1;
    char line[4608];
    int found = -1;
    while (fgets(line, sizeof line, maps)) {
        unsigned long start, end;
        if (sscanf(line, "%lx-%lx", &start, &end) != 2) continue;
        if ((uintptr_t)addr < start || (uintptr_t)addr >= end) continue;
        char *slash = strchr(line, '/');
        if (slash) {
            slash[strcspn(slash, "\n")] = 0;
            strncpy(out, slash, size - 1);
            out[size - 1] = 0;
            found = 0;
        }
        break;
    }
    fclose(maps);
    return found;
}

static void log_fault(enum op op, const char *path) {
    if (!log_path[0]) return;
    int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) return;
    char line[4352];
    int n = snprintf(line, sizeof line, "%s %s %d\n", op_names[op], path, fault_errno);
    if (n > 0) syscall(SYS_write, fd, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
    close(fd);
}

/* Whether this call must fail; sets errno when it must. */
static int should_fail(enum op op, const char *path, size_t bytes) {
    if (!configured || !enabled_ops[op] || !path || !strstr(path, pattern)) return 0;
    if (bytes < min_bytes) return 0;
    long seen = atomic_fetch_add(&matched, 1) + 1;
    if (seen <= after) return 0;
    if (times >= 0 && atomic_fetch_add(&failed, 1) >= times) return 0;
    if (times < 0) atomic_fetch_add(&failed, 1);
    log_fault(op, path);
    errno = fault_errno;
    return 1;
}

static int fd_should_fail(enum op op, int fd, size_t bytes) {
    if (!configured || !enabled_ops[op]) return 0;
    char path[4096];
    if (fd_path(fd, path, sizeof path) != 0) return 0;
    return should_fail(op, path, bytes);
}

/* The libc function this one hides, looked up once. */
#define REAL(name) \
    static __typeof__(&name) real_##name; \
    if (!real_##name) real_##name = (__typeof__(&name))dlsym(RTLD_NEXT, #name)

ssize_t write(int fd, const void *buf, size_t count) {
    REAL(write);
    if (fd > 2 && fd_should_fail(OP_WRITE, fd, count)) return -1;
    return real_write(fd, buf, count);
}

ssize_t pwrite(int fd, const void *buf, size_t count, off_t offset) {
    REAL(pwrite);
    if (fd_should_fail(OP_PWRITE, fd, count)) return -1;
    return real_pwrite(fd, buf, count, offset);
}

ssize_t pwrite64(int fd, const void *buf, size_t count, off_t offset) {
    REAL(pwrite64);
    if (fd_should_fail(OP_PWRITE, fd, count)) return -1;
    return real_pwrite64(fd, buf, count, offset);
}

static size_t iov_bytes(const struct iovec *iov, int n) {
    size_t total = 0;
    for (int i = 0; i < n; i++) total += iov[i].iov_len;
    return total;
}

ssize_t writev(int fd, const struct iovec *iov, int iovcnt) {
    REAL(writev);
    if (fd > 2 && fd_should_fail(OP_WRITEV, fd, iov_bytes(iov, iovcnt))) return -1;
    return real_writev(fd, iov, iovcnt);
}

ssize_t pwritev(int fd, const struct iovec *iov, int iovcnt, off_t offset) {
    REAL(pwritev);
    if (fd_should_fail(OP_PWRITEV, fd, iov_bytes(iov, iovcnt))) return -1;
    return real_pwritev(fd, iov, iovcnt, offset);
}

ssize_t pwritev64(int fd, const struct iovec *iov, int iovcnt, off_t offset) {
    REAL(pwritev64);
    if (fd_should_fail(OP_PWRITEV, fd, iov_bytes(iov, iovcnt))) return -1;
    return real_pwritev64(fd, iov, iovcnt, offset);
}

int fsync(int fd) {
    REAL(fsync);
    if (fd_should_fail(OP_FSYNC, fd, SIZE_MAX)) return -1;
    return real_fsync(fd);
}

int fdatasync(int fd) {
    REAL(fdatasync);
    if (fd_should_fail(OP_FDATASYNC, fd, SIZE_MAX)) return -1;
    return real_fdatasync(fd);
}

int msync(void *addr, size_t length, int flags) {
    REAL(msync);
    if (configured && enabled_ops[OP_MSYNC]) {
        char path[4096];
        if (mapping_path(addr, path, sizeof path) == 0 && should_fail(OP_MSYNC, path, length)) return -1;
    }
    return real_msync(addr, length, flags);
}

int rename(const char *from, const char *to) {
    REAL(rename);
    if (should_fail(OP_RENAME, to, SIZE_MAX) || should_fail(OP_RENAME, from, SIZE_MAX)) return -1;
    return real_rename(from, to);
}

int renameat(int fromfd, const char *from, int tofd, const char *to) {
    REAL(renameat);
    if (should_fail(OP_RENAME, to, SIZE_MAX) || should_fail(OP_RENAME, from, SIZE_MAX)) return -1;
    return real_renameat(fromfd, from, tofd, to);
}

int renameat2(int fromfd, const char *from, int tofd, const char *to, unsigned int flags) {
    REAL(renameat2);
    if (should_fail(OP_RENAME, to, SIZE_MAX) || should_fail(OP_RENAME, from, SIZE_MAX)) return -1;
    if (!real_renameat2) {
        errno = ENOSYS;
        return -1;
    }
    return real_renameat2(fromfd, from, tofd, to, flags);
}

void *mmap(void *addr, size_t length, int prot, int flags, int fd, off_t offset) {
    REAL(mmap);
    if (fd >= 0 && fd_should_fail(OP_MMAP, fd, length)) return MAP_FAILED;
    return real_mmap(addr, length, prot, flags, fd, offset);
}

void *mmap64(void *addr, size_t length, int prot, int flags, int fd, off_t offset) {
    REAL(mmap64);
    if (fd >= 0 && fd_should_fail(OP_MMAP, fd, length)) return MAP_FAILED;
    return real_mmap64(addr, length, prot, flags, fd, offset);
}
