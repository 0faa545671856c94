/* Assembly of the container's root file system.
 *
 * Runs after the launcher entered its new user and mount namespaces. A tmpfs on /tmp becomes a staging root with the host's root
 * below it at /oldroot (the host's /tmp reappears there once the tmpfs is
 * moved away by pivot_root). The image is mounted at /newroot, host paths
 * are bound into it from /oldroot, and a second pivot_root makes it "/"
 * and detaches everything else, so host files outside the binds are no
 * longer reachable.
 */
#ifndef LAUNCH_ROOTFS_H
#define LAUNCH_ROOTFS_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

#include "account.h"
#include "bind.h"
#include "error.h"
#include "image.h"
#include "layer.h"

struct rootfs_config {
	struct image *image;
	uid_t uid;		/* the caller's ids inside the namespace */
	gid_t gid;
	bool private_tmp;
	const char *home;	/* home directory path, or NULL for --no-home */
	const char *home_source; /* its physical path on the host */
	const char *cwd;	/* physical current directory on the host */
	const char *workdir;	/* -c DIR, a container path, or NULL */
	const char *image_workdir; /* the image's default, or NULL */
	char *const *forbidden;	/* site policy: no user bind on or below these */
	size_t forbidden_count;
	const char *forbidden_rule; /* "KEY in FILE line N", for messages */
	const char *cwd_rule;	/* set when the site policy forbids binding the
				 * current directory: the rule, for messages */
	const struct bind_spec *binds; /* sources are absolute host paths */
	size_t bind_count;
	const struct account *account; /* the caller, for /etc/passwd */
	bool fake_root;
	struct layer_config layer;	/* the layer over the image */
};

/* Enter the staging root and mount the image at /newroot. Runs in the
 * process that serves the image through FUSE, which therefore must never
 * itself access the mount afterwards: a request that it waits for but
 * cannot answer would block it for good (the kernel aborts the connection
 * only when the last descriptor of /dev/fuse closes, at that process's
 * exit). Return 0 or -1 with ERR set. */
int rootfs_prepare(const struct rootfs_config *config, struct lerror *err);

/* Mount everything else on the image and make it the root of the calling
 * process and of every process of the mount namespace whose root was the
 * staging root. Runs in another process than rootfs_prepare(), after it.
 * Store the directory the command starts in, a container path, into
 * WORKDIR, and the pid of the process serving the layer, when one does
 * (fuse-overlayfs), into *SERVICE, else 0. Return 0 or -1 with ERR set. */
int rootfs_assemble(const struct rootfs_config *config, char workdir[PATH_MAX],
		    pid_t *service, struct lerror *err);

#endif
