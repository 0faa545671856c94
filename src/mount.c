#include "config.h"

#include "mount.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

/* Turn the errno values that mount operations return into hints. */
static int mount_failed(struct lerror *err, int errnum, const char *what, const char *label)
{
	lerror_set(err, errnum, "cannot %s %s", what, label);
	if (errnum == ENOSPC)
		return lerror_hint(err, "too many mounts; see the fs.mount-max sysctl");
	if (errnum == ENOTDIR || errnum == EISDIR)
		return lerror_hint(err, "a directory can only be bound onto a directory, and a file onto a file");
	if (errnum == EPERM)
		return lerror_hint(err, "the kernel refused the mount in an unprivileged user namespace (Linux 5.12 or later is required)");
	return -1;
}

int mount_bind_fd(int source_fd, int dest_fd, bool read_only, const char *label,
		  struct lerror *err)
{
	int tree = open_tree(source_fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE | AT_EMPTY_PATH);

	if (tree < 0)
		return mount_failed(err, errno, "copy the mount tree for", label);
	if (read_only) {
		struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY };

		if (mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) < 0) {
			int saved = errno;

			close(tree);
			return mount_failed(err, saved, "make read-only", label);
		}
	}
	if (move_mount(tree, "", dest_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0) {
		int saved = errno;

		close(tree);
		return mount_failed(err, saved, "bind", label);
	}
	close(tree);
	log_step("bind %s%s", label, read_only ? " (read-only)" : "");
	return 0;
}

int mount_tmpfs_fd(int dest_fd, const char *options, const char *label,
		   struct lerror *err)
{
	int fs, mnt;

	fs = fsopen("tmpfs", FSOPEN_CLOEXEC);
	if (fs < 0)
		return mount_failed(err, errno, "create a tmpfs for", label);
	/* OPTIONS is a comma-separated list of KEY=VALUE pairs. */
	for (const char *p = options; p && *p;) {
		char key[64], value[64];
		const char *end = strchr(p, ','), *equals;
		size_t length = end ? (size_t)(end - p) : strlen(p);

		equals = memchr(p, '=', length);
		if (!equals || (size_t)(equals - p) >= sizeof(key) || length - (size_t)(equals - p) > sizeof(value)) {
			close(fs);
			return lerror_set(err, EINVAL, "invalid tmpfs option in '%s' for %s", options, label);
		}
		memcpy(key, p, (size_t)(equals - p));
		key[equals - p] = '\0';
		memcpy(value, equals + 1, length - (size_t)(equals - p) - 1);
		value[length - (size_t)(equals - p) - 1] = '\0';
		if (fsconfig(fs, FSCONFIG_SET_STRING, key, value, 0) < 0) {
			int saved = errno;

			close(fs);
			return mount_failed(err, saved, "configure the tmpfs for", label);
		}
		p = end ? end + 1 : NULL;
	}
	if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
		int saved = errno;

		close(fs);
		return mount_failed(err, saved, "create a tmpfs for", label);
	}
	mnt = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
	close(fs);
	if (mnt < 0)
		return mount_failed(err, errno, "mount a tmpfs for", label);
	if (move_mount(mnt, "", dest_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0) {
		int saved = errno;

		close(mnt);
		return mount_failed(err, saved, "mount a tmpfs on", label);
	}
	close(mnt);
	log_step("tmpfs on %s (%s)", label, options);
	return 0;
}

int mount_proc(const char *target, struct lerror *err)
{
	if (mount("proc", target, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return mount_failed(err, errno, "mount a new proc file system on", target);
	log_step("proc on %s", target);
	return 0;
}
