/* Mount operations on descriptors.
 *
 * Destinations are descriptors obtained with path_open_in_root(), so a
 * mount lands exactly where the confined resolution ended and never at a
 * path that a symlink could redirect afterwards. Sources are cloned with
 * open_tree(2) and attached with move_mount(2) (Linux 5.2); mount_setattr
 * (Linux 5.12) makes whole trees read-only.
 */
#ifndef LAUNCH_MOUNT_H
#define LAUNCH_MOUNT_H

#include <stdbool.h>

#include "error.h"

/* Attach a recursive copy of the tree at SOURCE_FD (any descriptor of the
 * current mount namespace, O_PATH is enough) on DEST_FD. With READ_ONLY
 * the copy and all its submounts are made read-only. LABEL names the
 * mount in messages. */
int mount_bind_fd(int source_fd, int dest_fd, bool read_only, const char *label,
		  struct lerror *err);

/* Mount a new tmpfs with OPTIONS (for example "mode=1777") on DEST_FD,
 * nosuid and nodev. */
int mount_tmpfs_fd(int dest_fd, const char *options, const char *label,
		   struct lerror *err);

/* Mount a new proc file system for the caller's PID namespace on TARGET. */
int mount_proc(const char *target, struct lerror *err);

#endif
