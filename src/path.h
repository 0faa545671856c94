/* Path handling: lexical normalization and resolution confined to a root.
 *
 * Destinations inside the container are user input. They are normalized
 * lexically first (so messages and comparisons use one spelling), then
 * resolved by the kernel with openat2(RESOLVE_IN_ROOT): absolute symlinks
 * and ".." are interpreted relative to the container's root, so no
 * component can lead outside it, whatever the image contains.
 */
#ifndef LAUNCH_PATH_H
#define LAUNCH_PATH_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

/* Normalize the absolute path PATH into OUT (size SIZE): collapse repeated
 * slashes and "." components, apply ".." lexically (".." at "/" stays at
 * "/"), drop a trailing slash. Return 0, or -1 with ERR set when PATH is
 * empty, relative or does not fit. */
int path_normalize(const char *path, char *out, size_t size, struct lerror *err);

/* Return true when the normalized absolute path PATH equals DIR or lies
 * below it, comparing whole components ("/home/a" is not below "/home/ab"). */
bool path_is_within(const char *path, const char *dir);

/* Open PATH (absolute or relative) below the directory ROOT_FD as if
 * ROOT_FD were "/": symlinks and ".." cannot leave it, and magic links
 * (/proc/PID/fd/N) are not followed. FLAGS are open(2) flags; O_CLOEXEC
 * is added. Return the descriptor or -1 with errno set. */
int path_open_in_root(int root_fd, const char *path, int flags);

/* Return true when the normalized absolute PATH is "/" or lies in a
 * directory that belongs to the operating system (/bin, /boot, /dev, /etc,
 * /lib*, /proc, /run, /sbin, /sys, /usr). launch never binds such a host
 * directory implicitly, as the working or home directory, because it
 * would replace the image's own. */
bool path_is_system(const char *path);

/* Join DIR and NAME with one slash into a new string; NULL on ENOMEM. */
char *path_join(const char *dir, const char *name);

#endif
