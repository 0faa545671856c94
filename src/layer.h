/* The layer over the image that exists for one run or lives in a host
 * directory.
 *
 * The image stays read-only and shared. Kernel overlayfs, which user
 * namespaces may mount since Linux 5.11, stacks an upper directory on it:
 * on a tmpfs for -w and for mount points missing from the image, or in a
 * host directory for --overlay DIR, where changes last between runs.
 */
#ifndef LAUNCH_LAYER_H
#define LAUNCH_LAYER_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

#include "error.h"

/* Driver that mounts the layer. */
enum layer_driver {
	LAYER_DRIVER_AUTO,	/* overlayfs, else fuse-overlayfs */
	LAYER_DRIVER_KERNEL,	/* overlayfs only */
	LAYER_DRIVER_FUSE,	/* fuse-overlayfs only */
};

struct layer_config {
	enum layer_driver driver;
	bool writable;		/* the container may write to its root */
	const char *size;	/* tmpfs size for the in-memory layer, or NULL */
	const char *directory;	/* --overlay DIR, absolute and resolved, or NULL */
	int directory_fd;	/* DIR opened and locked by layer_open_directory() */
};

/* Open DIR for --overlay: it must be a directory that belongs to the
 * caller, and no other running container may use it. The returned
 * descriptor holds an exclusive lock for as long as it stays open.
 * Store the resolved path in *RESOLVED (malloc'd). */
int layer_open_directory(const char *path, char **resolved, int *fd, struct lerror *err);

/* Prepare the upper and work directories: on a new tmpfs mounted on
 * STAGING_DIR, or in CONFIG->directory reached through HOST_ROOT. Enter
 * the directory that holds them and return a descriptor of upper/. */
int layer_prepare(const struct layer_config *config, int host_root, const char *staging_dir,
		  struct lerror *err);

/* Mount an overlay with LOWER as its lower layer and the directories of
 * layer_prepare() (relative to the current directory) on TARGET, nosuid
 * and nodev, then return to "/". With the kernel's overlayfs refused (or
 * with LAYER_DRIVER_FUSE), fuse-overlayfs from the host's root at
 * HOST_ROOT_PATH serves it instead, as a child process whose pid is
 * stored in *SERVICE (0 otherwise); it must run as long as the container
 * and be ended when only it remains. */
int layer_mount(const struct layer_config *config, const char *lower, const char *target,
		const char *host_root_path, pid_t *service, struct lerror *err);

/* Create the mount point PATH of the container in the upper directory
 * UPPER_FD before the overlay is mounted: the parts of PATH that the image
 * (LOWER_FD, mounted at LOWER_PATH) has are resolved within it, symlinks
 * included, and the missing parts become directories, the last one a
 * directory when DIRECTORY is true and an empty file otherwise.
 * PROC_FD_DIR is the caller's /proc/self/fd as it can reach it. Writing to
 * the upper directory directly works where the image's directories belong
 * to ids outside the user namespace, which the mounted overlay would
 * refuse to change. */
int layer_make_mount_point(int lower_fd, const char *lower_path, int upper_fd,
			   const char *proc_fd_dir, const char *path, bool directory,
			   struct lerror *err);

/* For the mount point PATH, resolved as layer_make_mount_point() does:
 * return 0 when the image has it; 1 when its first missing part lies in
 * an empty directory other than the root, with BASE set to that
 * directory's path relative to the image root and REST to the missing
 * part below it, so that a tmpfs on BASE can hold it without hiding
 * anything; 2 when only a layer can hold it; -1 with ERR set on failure. */
int layer_mount_point_base(int lower_fd, const char *lower_path, const char *proc_fd_dir,
			   const char *path, char base[PATH_MAX], char rest[PATH_MAX],
			   struct lerror *err);

/* A mount point that the container needs. */
struct layer_point {
	const char *path;
	bool directory;
};

/* Make the COUNT mount points that the image lacks without a layer, when
 * each lies in an empty directory of the image (layer_mount_point_base):
 * a read-only tmpfs on each such directory contains them. Return 1 when every
 * point exists afterwards, 0 when a layer is needed (nothing was mounted
 * then), -1 with ERR set on failure. */
int layer_hold_in_empty_dirs(int lower_fd, const char *lower_path, const char *proc_fd_dir,
			     const struct layer_point *points, size_t count, struct lerror *err);

#endif
