#include "config.h"

#include "layer.h"
#include "log.h"
#include "path.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

int layer_open_directory(const char *path, char **resolved, int *fd, struct lerror *err)
{
	char real[PATH_MAX];
	struct stat st;

	*fd = -1;
	*resolved = NULL;
	if (!realpath(path, real)) {
		lerror_set(err, errno, "cannot use overlay directory '%s'", path);
		return lerror_hint(err, "create the directory first (mkdir -p %s)", path);
	}
	*fd = open(real, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (*fd < 0) {
		lerror_set(err, errno, "cannot open overlay directory '%s'", path);
		return lerror_hint(err, "give a directory that you own");
	}
	if (fstat(*fd, &st) < 0 || st.st_uid != getuid()) {
		lerror_set(err, 0, "overlay directory '%s' does not belong to you (owner uid %lu)",
			   path, (unsigned long)st.st_uid);
		lerror_hint(err, "give a directory that you own");
		goto fail;
	}
	/* The lock lives as long as the open file description, so it goes away
	 * with the launcher, however it ends. */
	if (flock(*fd, LOCK_EX | LOCK_NB) < 0) {
		int saved = errno;

		if (saved == EWOULDBLOCK) {
			lerror_set(err, 0, "overlay directory '%s' is in use by another running container", path);
			lerror_hint(err, "wait for that container to end, or give another directory");
		} else {
			lerror_set(err, saved, "cannot lock overlay directory '%s'", path);
		}
		goto fail;
	}
	*resolved = strdup(real);
	if (!*resolved) {
		lerror_set(err, ENOMEM, "cannot use overlay directory '%s'", path);
		goto fail;
	}
	return 0;
fail:
	close(*fd);
	*fd = -1;
	return -1;
}

static int make_directory_at(int dir_fd, const char *name, const char *what, struct lerror *err)
{
	if (mkdirat(dir_fd, name, 0755) < 0 && errno != EEXIST)
		return lerror_set(err, errno, "cannot create %s", what);
	return 0;
}

/* Enter the directory that will hold upper/ and work/. */
static int enter_upper_base(const struct layer_config *config, int host_root,
			    const char *staging_dir, struct lerror *err)
{
	struct stat locked, reopened;
	int fd;

	if (!config->directory) {
		char options[96];

		snprintf(options, sizeof(options), "mode=0755%s%s", config->size ? ",size=" : "",
			 config->size ? config->size : "");
		log_step("tmpfs on %s for the in-memory layer (%s)", staging_dir, options);
		if (mount("tmpfs", staging_dir, "tmpfs", MS_NOSUID | MS_NODEV, options) < 0) {
			lerror_set(err, errno, "cannot mount the in-memory layer");
			if (errno == EINVAL)
				return lerror_hint(err, "check the size given to --write-size (for example 512m or 2g)");
			return -1;
		}
		return chdir(staging_dir) < 0 ? lerror_set(err, errno, "cannot enter the in-memory layer") : 0;
	}

	/* Reach DIR through the new namespace, then check that it is the
	 * directory that was opened and locked before. */
	fd = path_open_in_root(host_root, config->directory, O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		return lerror_set(err, errno, "cannot open overlay directory '%s'", config->directory);
	if (fstat(fd, &reopened) < 0 || fstat(config->directory_fd, &locked) < 0 ||
	    reopened.st_dev != locked.st_dev || reopened.st_ino != locked.st_ino) {
		close(fd);
		lerror_set(err, 0, "overlay directory '%s' was replaced while launch started", config->directory);
		return lerror_hint(err, "run launch again");
	}
	if (fchdir(fd) < 0) {
		close(fd);
		return lerror_set(err, errno, "cannot enter overlay directory '%s'", config->directory);
	}
	close(fd);
	return 0;
}

int layer_prepare(const struct layer_config *config, int host_root, const char *staging_dir,
		  struct lerror *err)
{
	int upper;

	if (enter_upper_base(config, host_root, staging_dir, err) < 0)
		return -1;
	if (make_directory_at(AT_FDCWD, "upper", "the upper directory of the layer", err) < 0 ||
	    make_directory_at(AT_FDCWD, "work", "the work directory of the layer", err) < 0)
		return -1;
	upper = open("upper", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (upper < 0)
		return lerror_set(err, errno, "cannot open the upper directory of the layer");
	return upper;
}

int layer_mount(const struct layer_config *config, const char *lower, const char *target,
		struct lerror *err)
{
	char options[PATH_MAX + 128];
	int rc;

	/* upperdir and workdir are relative to the current directory, so the
	 * path of DIR, which may hold commas, never enters the option string.
	 * userxattr keeps overlay's metadata in user.* extended attributes,
	 * which an unprivileged mount may write. */
	snprintf(options, sizeof(options), "lowerdir=%s,upperdir=upper,workdir=work,userxattr", lower);
	log_step("overlay on %s (%s)%s%s", target, options, config->directory ? " in " : ", in memory",
		 config->directory ? config->directory : "");
	rc = mount("overlay", target, "overlay", MS_NOSUID | MS_NODEV, options);
	if (rc < 0) {
		int saved = errno;

		lerror_set(err, saved, "cannot mount a writable layer over the image");
		/* NOTE: fuse-overlayfs is not tried as a fallback yet. */
		if (saved == EPERM || saved == ENODEV || saved == EINVAL)
			lerror_hint(err, "the kernel must allow overlayfs in user namespaces (Linux 5.11 or later, overlay module loaded)%s",
				    config->directory ? ", and the file system of the overlay directory must support extended attributes" : "");
	}
	if (chdir("/") < 0 && rc == 0)
		return lerror_set(err, errno, "cannot leave the layer's directory");
	return rc;
}

/* Create the directories of the relative path RELATIVE below DIR_FD, like
 * mkdir -p; with LAST_IS_FILE the last component becomes an empty file. */
static int create_below(int dir_fd, char *relative, bool last_is_file, const char *path,
			struct lerror *err)
{
	int parent = dup(dir_fd);

	if (parent < 0)
		return lerror_set(err, errno, "cannot create mount point %s", path);
	for (char *name = relative; *name;) {
		char *slash = strchr(name, '/');
		bool last = !slash;
		int rc, next;

		if (slash)
			*slash = '\0';
		if (last && last_is_file) {
			rc = openat(parent, name, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
			if (rc >= 0)
				close(rc);
		} else {
			rc = mkdirat(parent, name, 0755);
		}
		if (rc < 0 && errno != EEXIST) {
			lerror_set(err, errno, "cannot create mount point %s in the layer", path);
			close(parent);
			return -1;
		}
		if (last)
			break;
		next = openat(parent, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		close(parent);
		if (next < 0)
			return lerror_set(err, errno, "cannot create mount point %s in the layer", path);
		parent = next;
		*slash = '/';
		name = slash + 1;
	}
	close(parent);
	return 0;
}

/* Return the new path when the first missing component after
 * PREFIX[0..CUT) is a dangling symlink in the image: its target joined
 * with the components after it. Return NULL when it is not a symlink. */
static char *follow_dangling_link(int lower_fd, char *prefix, size_t cut)
{
	char target[PATH_MAX], *joined = NULL, *end, kept;
	const char *after;
	ssize_t n;
	int fd;

	end = strchr(prefix + cut + 1, '/');
	if (!end)
		end = prefix + strlen(prefix);
	kept = *end;
	*end = '\0';
	fd = path_open_in_root(lower_fd, prefix, O_PATH | O_NOFOLLOW);
	*end = kept;
	if (fd < 0)
		return NULL;
	n = readlinkat(fd, "", target, sizeof(target) - 1);
	close(fd);
	if (n < 0)
		return NULL;
	target[n] = '\0';
	after = end;
	if (target[0] == '/') {
		if (asprintf(&joined, "%s%s", target, after) < 0)
			joined = NULL;
	} else if (asprintf(&joined, "%.*s/%s%s", (int)cut, prefix, target, after) < 0) {
		joined = NULL;
	}
	return joined;
}

static int make_mount_point(int lower_fd, const char *lower_path, int upper_fd,
			    const char *proc_fd_dir, const char *path, bool directory,
			    int links, struct lerror *err);

int layer_make_mount_point(int lower_fd, const char *lower_path, int upper_fd,
			   const char *proc_fd_dir, const char *path, bool directory,
			   struct lerror *err)
{
	return make_mount_point(lower_fd, lower_path, upper_fd, proc_fd_dir, path, directory, 0, err);
}

static int make_mount_point(int lower_fd, const char *lower_path, int upper_fd,
			    const char *proc_fd_dir, const char *path, bool directory,
			    int links, struct lerror *err)
{
	char prefix[PATH_MAX], resolved[PATH_MAX * 2], link[PATH_MAX + 64];
	size_t lower_length = strlen(lower_path), length, cut, used;
	const char *rest, *relative;
	ssize_t n;
	int fd;

	if (path_normalize(path, prefix, sizeof(prefix), err) < 0)
		return -1;

	/* Find the longest prefix of PATH that the image has, resolved within
	 * the image: prefix[0..cut) exists, the rest is missing. */
	length = cut = strlen(prefix);
	for (;;) {
		char kept = prefix[cut];

		prefix[cut] = '\0';
		fd = path_open_in_root(lower_fd, cut ? prefix : "/", O_PATH);
		prefix[cut] = kept;
		if (fd >= 0)
			break;
		if (errno != ENOENT || cut == 0)
			return lerror_set(err, errno, "cannot open mount point %s in the image", path);
		do
			cut--;
		while (cut > 0 && prefix[cut] != '/');
	}
	if (cut == length) {
		close(fd);
		return 0;
	}
	{
		/* A dangling symlink is followed, as the kernel would follow it
		 * when the mount point is used: the link stays, its target is
		 * created. */
		char *target = follow_dangling_link(lower_fd, prefix, cut);

		if (target) {
			int rc;

			close(fd);
			if (links >= 40) {
				free(target);
				return lerror_set(err, ELOOP, "cannot create mount point %s", path);
			}
			rc = make_mount_point(lower_fd, lower_path, upper_fd, proc_fd_dir, target,
					      directory, links + 1, err);
			free(target);
			return rc;
		}
	}
	rest = prefix + cut + 1;

	/* Where the existing prefix really lies in the image, symlinks
	 * resolved: the path of its descriptor below LOWER_PATH. */
	snprintf(link, sizeof(link), "%s/%d", proc_fd_dir, fd);
	n = readlink(link, resolved, sizeof(resolved) - 1);
	close(fd);
	if (n < 0)
		return lerror_set(err, errno, "cannot resolve mount point %s in the image", path);
	resolved[n] = '\0';
	if (strncmp(resolved, lower_path, lower_length) != 0 ||
	    (resolved[lower_length] != '/' && resolved[lower_length] != '\0'))
		return lerror_set(err, 0, "mount point %s resolves outside the image", path);

	used = strlen(resolved);
	if (used + 1 + strlen(rest) >= sizeof(resolved))
		return lerror_set(err, ENAMETOOLONG, "cannot create mount point %s", path);
	snprintf(resolved + used, sizeof(resolved) - used, "/%s", rest);
	relative = resolved + lower_length;
	while (*relative == '/')
		relative++;
	log_step("create mount point %s in the layer as /%s", path, relative);
	return create_below(upper_fd, (char *)relative, !directory, path, err);
}
