/*
 * The metadata walk of the benchmarks: stat, open and read every regular
 * file under DIR, with READERS processes in parallel.
 *
 * Usage: walk READERS DIR
 *
 * The entries of DIR are sorted by name and dealt out in turn: reader k
 * walks entries k, k + READERS, k + 2 * READERS and so on, recursively. So
 * the readers share the tree instead of each walking all of it, the total
 * work does not depend on READERS, and the throughput of N readers can be
 * compared with that of one. Each file is lstat()ed by path, opened,
 * read to the end in 64 KiB reads and closed.
 *
 * Prints "files N bytes M" for the whole tree and exits with status 0, or
 * prints an error and exits with status 1 if any step failed.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

enum { MAX_READERS = 64, READ_SIZE = 65536 };

struct walk_count {
    uint64_t files;
    uint64_t bytes;
};

static char read_buffer[READ_SIZE];

static int read_file(const char *path, struct walk_count *count)
{
    ssize_t length;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0) {
        fprintf(stderr, "walk: opening %s failed: %s\n", path, strerror(errno));
        return -1;
    }
    while ((length = read(fd, read_buffer, sizeof read_buffer)) > 0)
        count->bytes += (uint64_t)length;
    if (length < 0) {
        fprintf(stderr, "walk: reading %s failed: %s\n", path, strerror(errno));
        close(fd);
        return -1;
    }
    close(fd);
    count->files++;
    return 0;
}

static int walk_path(const char *path, struct walk_count *count);

/* Walk the entries of DIR whose index modulo STRIDE is FIRST, in name order. */
static int walk_directory(const char *dir, int first, int stride, struct walk_count *count)
{
    struct dirent **entries;
    int entry_count = scandir(dir, &entries, NULL, alphasort);
    int status = 0;

    if (entry_count < 0) {
        fprintf(stderr, "walk: reading the directory %s failed: %s\n", dir, strerror(errno));
        return -1;
    }
    /* scandir lists "." and "..": skip them before dealing out entries. */
    for (int i = 0, index = 0; i < entry_count; i++) {
        const char *name = entries[i]->d_name;
        char *child;

        if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
            continue;
        if (status == 0 && index++ % stride == first) {
            if (asprintf(&child, "%s/%s", dir, name) < 0) {
                fprintf(stderr, "walk: out of memory\n");
                status = -1;
            } else {
                status = walk_path(child, count);
                free(child);
            }
        }
    }
    for (int i = 0; i < entry_count; i++)
        free(entries[i]);
    free(entries);
    return status;
}

static int walk_path(const char *path, struct walk_count *count)
{
    struct stat st;

    if (lstat(path, &st) < 0) {
        fprintf(stderr, "walk: stat of %s failed: %s\n", path, strerror(errno));
        return -1;
    }
    if (S_ISDIR(st.st_mode))
        return walk_directory(path, 0, 1, count);
    if (S_ISREG(st.st_mode))
        return read_file(path, count);
    return 0;
}

int main(int argc, char **argv)
{
    struct walk_count total = {0, 0};
    int pipes[MAX_READERS];
    pid_t pids[MAX_READERS];
    int readers, status = 0;
    char *end;

    if (argc != 3) {
        fprintf(stderr, "usage: walk READERS DIR\n");
        return 1;
    }
    readers = (int)strtol(argv[1], &end, 10);
    if (*argv[1] == '\0' || *end != '\0' || readers < 1 || readers > MAX_READERS) {
        fprintf(stderr, "walk: READERS must be an integer from 1 to %d, got %s\n",
                MAX_READERS, argv[1]);
        return 1;
    }

    /* Each reader sends its count back through a pipe. */
    for (int k = 0; k < readers; k++) {
        int fds[2];

        if (pipe(fds) < 0) {
            fprintf(stderr, "walk: pipe failed: %s\n", strerror(errno));
            return 1;
        }
        pids[k] = fork();
        if (pids[k] < 0) {
            fprintf(stderr, "walk: fork failed: %s\n", strerror(errno));
            return 1;
        }
        if (pids[k] == 0) {
            struct walk_count count = {0, 0};

            close(fds[0]);
            if (walk_directory(argv[2], k, readers, &count) < 0)
                _exit(1);
            if (write(fds[1], &count, sizeof count) != sizeof count)
                _exit(1);
            _exit(0);
        }
        close(fds[1]);
        pipes[k] = fds[0];
    }

    for (int k = 0; k < readers; k++) {
        struct walk_count count;
        int wait_status;

        if (read(pipes[k], &count, sizeof count) == sizeof count) {
            total.files += count.files;
            total.bytes += count.bytes;
        } else {
            status = 1;
        }
        close(pipes[k]);
        if (waitpid(pids[k], &wait_status, 0) < 0 || !WIFEXITED(wait_status) ||
            WEXITSTATUS(wait_status) != 0) {
            fprintf(stderr, "walk: reader %d failed\n", k);
            status = 1;
        }
    }
    if (status != 0)
        return 1;
    printf("files %llu bytes %llu\n", (unsigned long long)total.files,
           (unsigned long long)total.bytes);
    return 0;
}
