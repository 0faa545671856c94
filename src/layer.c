#include "config.h"

#include "layer.h"
#include "log.h"
#include "mount.h"
#include "path.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <signal.h>
#include <sys/capability.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
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

/* Mount with the kernel's overlayfs. Return 0, or -1 with errno set. */
static int mount_kernel_overlay(const struct layer_config *config, const char *lower,
				const char *target)
{
	char options[PATH_MAX + 128];

	/* upperdir and workdir are relative to the current directory, so the
	 * path of DIR, which may hold commas, never enters the option string.
	 * userxattr keeps overlay's metadata in user.* extended attributes,
	 * which an unprivileged mount may write. */
	snprintf(options, sizeof(options), "lowerdir=%s,upperdir=upper,workdir=work,userxattr", lower);
	log_step("overlay on %s (%s)%s%s", target, options, config->directory ? " in " : ", in memory",
		 config->directory ? config->directory : "");
	return mount("overlay", target, "overlay", MS_NOSUID | MS_NODEV, options);
}

/* Make the host's programs runnable from the staging root: its top-level
 * directories that hold programs, libraries and their configuration are
 * bound there from HOST_ROOT_PATH, with /dev and /proc, and its top-level
 * symlinks (a merged /usr) are copied. The staging root is detached
 * before the command runs, so the container never sees them. */
static int expose_host_tools(const char *host_root_path, struct lerror *err)
{
	static const char *const names[] = {
		"bin", "sbin", "lib", "lib32", "lib64", "libx32", "usr", "etc", "dev", "proc",
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char host[PATH_MAX], staged[64], target[PATH_MAX];
		struct stat st;
		ssize_t n;
		int source, dest, rc;

		snprintf(host, sizeof(host), "%s/%s", host_root_path, names[i]);
		snprintf(staged, sizeof(staged), "/%s", names[i]);
		/* Skip what the host lacks and what the staging root has. */
		if (access(staged, F_OK) == 0 || lstat(host, &st) < 0)
			continue;
		if (S_ISLNK(st.st_mode)) {
			n = readlink(host, target, sizeof(target) - 1);
			if (n < 0)
				continue;
			target[n] = '\0';
			if (symlink(target, staged) < 0)
				return lerror_set(err, errno, "cannot prepare %s for fuse-overlayfs", staged);
			continue;
		}
		if (!S_ISDIR(st.st_mode) || mkdir(staged, 0755) < 0)
			continue;
		source = open(host, O_PATH | O_DIRECTORY | O_CLOEXEC);
		dest = open(staged, O_PATH | O_DIRECTORY | O_CLOEXEC);
		rc = source < 0 || dest < 0 ? -1 : mount_bind_fd(source, dest, false, staged, err);
		if (source >= 0)
			close(source);
		if (dest >= 0)
			close(dest);
		if (rc < 0)
			return lerror_set(err, errno, "cannot prepare %s for fuse-overlayfs", staged);
	}
	return 0;
}

/* Run fuse-overlayfs in the foreground as the server of the layer. The
 * layers and the target are handed over as descriptors named
 * /proc/self/fd/N, so that no path with a comma enters its options. */
static void exec_fuse_overlayfs(int lower, int upper, int work, const char *target, int log_fd)
	__attribute__((noreturn));

static void exec_fuse_overlayfs(int lower, int upper, int work, const char *target, int log_fd)
{
	char options[256];
	cap_t caps;
	cap_value_t admin = CAP_SYS_ADMIN;

	/* Its own session: Ctrl-C in the terminal must not stop the server. */
	setsid();
	/* Its own mount namespace, a copy in which TARGET is a peer of the
	 * container's: the mount propagates to the container, while the
	 * server's root stays the staging root. In the container's namespace
	 * its root would become the overlay it serves, and its own lookups
	 * of paths would wait for it for ever. */
	if (unshare(CLONE_NEWNS) < 0)
		_exit(126);
	/* The mount needs CAP_SYS_ADMIN of the user namespace, which execve()
	 * drops for a uid other than 0 unless it is ambient. */
	caps = cap_get_proc();
	if (caps) {
		cap_set_flag(caps, CAP_INHERITABLE, 1, &admin, CAP_SET);
		cap_set_proc(caps);
		cap_free(caps);
	}
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_SYS_ADMIN, 0, 0);
	snprintf(options, sizeof(options), "noacl,lowerdir=/proc/self/fd/%d,upperdir=/proc/self/fd/%d,workdir=/proc/self/fd/%d",
		 lower, upper, work);
	dup2(log_fd, STDOUT_FILENO);
	dup2(log_fd, STDERR_FILENO);
	execlp("fuse-overlayfs", "fuse-overlayfs", "-f", "-o", options, target, (char *)NULL);
	_exit(errno == ENOENT ? 127 : 126);
}

/* Mount the layer with fuse-overlayfs, run as a service process. Return
 * its pid, or -1 with ERR set. */
static pid_t mount_fuse_overlay(const char *lower, const char *target, const char *host_root_path,
				struct lerror *err)
{
	struct stat before, now;
	int lower_fd, upper_fd, work_fd, target_fd, log_fd, status = 0;
	pid_t pid;

	log_step("fuse-overlayfs on %s (lower %s)", target, lower);
	if (expose_host_tools(host_root_path, err) < 0)
		return -1;
	lower_fd = open(lower, O_RDONLY | O_DIRECTORY);
	upper_fd = open("upper", O_RDONLY | O_DIRECTORY);
	work_fd = open("work", O_RDONLY | O_DIRECTORY);
	/* TARGET becomes a shared mount, so that the server's mount in its
	 * own namespace reaches it, and private again afterwards, because
	 * pivot_root() refuses a shared new root. */
	if (mount(target, target, NULL, MS_BIND, NULL) < 0 || mount(NULL, target, NULL, MS_SHARED, NULL) < 0) {
		lerror_set(err, errno, "cannot prepare %s for fuse-overlayfs", target);
		return -1;
	}
	target_fd = open(target, O_RDONLY | O_DIRECTORY);
	log_fd = open("/fuse-overlayfs.log", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (lower_fd < 0 || upper_fd < 0 || work_fd < 0 || target_fd < 0 || log_fd < 0 ||
	    fstat(target_fd, &before) < 0) {
		lerror_set(err, errno, "cannot prepare fuse-overlayfs over the image");
		pid = -1;
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		lerror_set(err, errno, "cannot start fuse-overlayfs");
		goto out;
	}
	if (pid == 0)
		exec_fuse_overlayfs(lower_fd, upper_fd, work_fd, target, log_fd);

	/* The overlay is ready when TARGET is another file system. */
	for (int waited = 0;; waited += 10) {
		struct timespec pause = { 0, 10 * 1000 * 1000 };

		if (stat(target, &now) == 0 && now.st_dev != before.st_dev)
			break;
		if (waitpid(pid, &status, WNOHANG) == pid || waited >= 10000) {
			char text[512] = "";
			int fd = open("/fuse-overlayfs.log", O_RDONLY | O_CLOEXEC);
			ssize_t n = fd >= 0 ? read(fd, text, sizeof(text) - 1) : 0;

			if (fd >= 0)
				close(fd);
			text[n > 0 ? n : 0] = '\0';
			/* Keep the last line: fuse-overlayfs prints notices first. */
			while (n > 0 && text[n - 1] == '\n')
				text[--n] = '\0';
			if (strrchr(text, '\n'))
				memmove(text, strrchr(text, '\n') + 1, strlen(strrchr(text, '\n')));
			if (waited >= 10000)
				kill(pid, SIGKILL);
			if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
				lerror_set(err, 0, "cannot mount a layer over the image: the kernel refused overlayfs and fuse-overlayfs is not installed");
				lerror_hint(err, "install fuse-overlayfs (apt-get install fuse-overlayfs), or use Linux 5.11 or later with the overlay module");
			} else {
				lerror_set(err, 0, "cannot mount a layer over the image with fuse-overlayfs%s%s",
					   text[0] ? ": " : "", text);
				lerror_hint(err, "run with -vv for the steps");
			}
			pid = -1;
			goto out;
		}
		nanosleep(&pause, NULL);
	}
	/* Recursively from "/", so that the bind under the overlay turns
	 * private too: it is the parent of the new root. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
		lerror_set(err, errno, "cannot make %s private", target);
		kill(pid, SIGKILL);
		pid = -1;
		goto out;
	}
	log_info("layer served by fuse-overlayfs (pid %ld)", (long)pid);
out:
	if (lower_fd >= 0)
		close(lower_fd);
	if (upper_fd >= 0)
		close(upper_fd);
	if (work_fd >= 0)
		close(work_fd);
	if (target_fd >= 0)
		close(target_fd);
	if (log_fd >= 0)
		close(log_fd);
	return pid;
}

int layer_mount(const struct layer_config *config, const char *lower, const char *target,
		const char *host_root_path, pid_t *service, struct lerror *err)
{
	int rc = 0;

	*service = 0;
	if (config->driver != LAYER_DRIVER_FUSE && mount_kernel_overlay(config, lower, target) < 0) {
		int saved = errno;

		if (config->driver == LAYER_DRIVER_KERNEL) {
			lerror_set(err, saved, "cannot mount a layer over the image with overlayfs");
			lerror_hint(err, "the kernel must allow overlayfs in user namespaces (Linux 5.11 or later, overlay module loaded)%s",
				    config->directory ? ", and the file system of the overlay directory must support extended attributes" : "");
			rc = -1;
		} else {
			log_info("the kernel refused overlayfs (%s); trying fuse-overlayfs", strerror(saved));
			rc = 1;
		}
	} else if (config->driver == LAYER_DRIVER_FUSE) {
		rc = 1;
	}
	if (rc == 1) {
		*service = mount_fuse_overlay(lower, target, host_root_path, err);
		rc = *service > 0 ? 0 : -1;
		if (rc < 0)
			*service = 0;
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

/* Find where the mount point PATH lies in the image at LOWER_FD (mounted
 * at LOWER_PATH), symlinks resolved within the image, dangling ones
 * followed. Return 0 when it exists. Return 1 when part of it is missing,
 * with RESOLVED set to its path relative to the image root and *SPLIT to
 * the offset in RESOLVED where the missing part starts (after a '/', or 0
 * when only the root exists). Return -1 with ERR set on failure. */
static int locate_mount_point(int lower_fd, const char *lower_path, const char *proc_fd_dir,
			      const char *path, int links, char resolved[PATH_MAX * 2], size_t *split,
			      struct lerror *err)
{
	char prefix[PATH_MAX], link[PATH_MAX + 64];
	size_t lower_length = strlen(lower_path), length, cut, used, skip;
	const char *rest;
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
			rc = locate_mount_point(lower_fd, lower_path, proc_fd_dir, target, links + 1,
						resolved, split, err);
			free(target);
			return rc;
		}
	}
	rest = prefix + cut + 1;

	/* Where the existing prefix really lies in the image, symlinks
	 * resolved: the path of its descriptor below LOWER_PATH. */
	snprintf(link, sizeof(link), "%s/%d", proc_fd_dir, fd);
	n = readlink(link, resolved, PATH_MAX * 2 - 1);
	close(fd);
	if (n < 0)
		return lerror_set(err, errno, "cannot resolve mount point %s in the image", path);
	resolved[n] = '\0';
	if (strncmp(resolved, lower_path, lower_length) != 0 ||
	    (resolved[lower_length] != '/' && resolved[lower_length] != '\0'))
		return lerror_set(err, 0, "mount point %s resolves outside the image", path);

	/* Keep the path below LOWER_PATH, without its leading slashes. */
	for (skip = lower_length; resolved[skip] == '/'; skip++)
		;
	memmove(resolved, resolved + skip, (size_t)n - skip + 1);
	used = strlen(resolved);
	if (used + 1 + strlen(rest) >= PATH_MAX * 2)
		return lerror_set(err, ENAMETOOLONG, "cannot create mount point %s", path);
	if (used > 0)
		resolved[used++] = '/';
	snprintf(resolved + used, PATH_MAX * 2 - used, "%s", rest);
	*split = used;
	return 1;
}

int layer_make_mount_point(int lower_fd, const char *lower_path, int upper_fd,
			   const char *proc_fd_dir, const char *path, bool directory,
			   struct lerror *err)
{
	char resolved[PATH_MAX * 2];
	size_t split;
	int rc = locate_mount_point(lower_fd, lower_path, proc_fd_dir, path, 0, resolved, &split, err);

	if (rc <= 0)
		return rc;
	log_step("create mount point %s in the layer as /%s", path, resolved);
	return create_below(upper_fd, resolved, !directory, path, err);
}

/* Whether the directory DIR_FD (O_PATH) has no entries. */
static bool directory_is_empty(int dir_fd, const char *proc_fd_dir)
{
	char path[PATH_MAX + 64];
	struct dirent *entry;
	bool empty = true;
	DIR *dir;
	int fd;

	snprintf(path, sizeof(path), "%s/%d", proc_fd_dir, dir_fd);
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || !(dir = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return false;
	}
	while (empty && (entry = readdir(dir)))
		empty = strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0;
	closedir(dir);
	return empty;
}

int layer_mount_point_base(int lower_fd, const char *lower_path, const char *proc_fd_dir,
			   const char *path, char base[PATH_MAX], char rest[PATH_MAX],
			   struct lerror *err)
{
	char resolved[PATH_MAX * 2];
	size_t split;
	int rc = locate_mount_point(lower_fd, lower_path, proc_fd_dir, path, 0, resolved, &split, err);
	int fd;

	if (rc <= 0)
		return rc;
	/* The root is never hidden, so a part missing right below it needs
	 * a layer. */
	if (split == 0 || split > PATH_MAX || strlen(resolved + split) >= PATH_MAX)
		return 2;
	memcpy(base, resolved, split - 1);
	base[split - 1] = '\0';
	snprintf(rest, PATH_MAX, "%s", resolved + split);
	fd = path_open_in_root(lower_fd, base, O_PATH | O_NOFOLLOW | O_DIRECTORY);
	if (fd < 0)
		return 2;
	rc = directory_is_empty(fd, proc_fd_dir) ? 1 : 2;
	close(fd);
	return rc;
}

int layer_hold_in_empty_dirs(int lower_fd, const char *lower_path, const char *proc_fd_dir,
			     const struct layer_point *points, size_t count, struct lerror *err)
{
	/* For each point: its empty directory and the part below it, or an
	 * empty base when the image has the point. */
	char (*bases)[PATH_MAX] = calloc(count + 1, sizeof(*bases));
	char (*rests)[PATH_MAX] = calloc(count + 1, sizeof(*rests));
	int rc = 1;

	if (!bases || !rests) {
		free(bases);
		free(rests);
		return lerror_set(err, ENOMEM, "cannot plan the mount points");
	}
	/* Decide for every point before mounting anything, so that a point
	 * that needs a layer leaves the image untouched. */
	for (size_t i = 0; i < count && rc == 1; i++) {
		int found = layer_mount_point_base(lower_fd, lower_path, proc_fd_dir, points[i].path,
						   bases[i], rests[i], err);

		if (found < 0) {
			rc = -1;
		} else if (found == 2) {
			log_info("the image has no %s: a layer over the image holds the mount point", points[i].path);
			rc = 0;
		} else if (found == 0) {
			bases[i][0] = '\0';
		}
	}
	for (size_t i = 0; i < count && rc == 1; i++) {
		struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY };
		struct stat st;
		char options[64], label[PATH_MAX + 16];
		bool seen = false;
		int fd;

		if (!bases[i][0])
			continue;
		for (size_t j = 0; j < i && !seen; j++)
			seen = strcmp(bases[j], bases[i]) == 0;
		if (seen)
			continue;
		fd = path_open_in_root(lower_fd, bases[i], O_PATH | O_DIRECTORY);
		if (fd < 0 || fstat(fd, &st) < 0) {
			rc = lerror_set(err, errno, "cannot open /%s in the image", bases[i]);
			if (fd >= 0)
				close(fd);
			break;
		}
		log_info("the image has no %s: a tmpfs on the empty directory /%s holds the mount point",
			 points[i].path, bases[i]);
		snprintf(options, sizeof(options), "mode=%04o,size=1m", (unsigned)(st.st_mode & 07777));
		snprintf(label, sizeof(label), "/%s", bases[i]);
		rc = mount_tmpfs_fd(fd, options, label, err) < 0 ? -1 : 1;
		close(fd);
		if (rc < 0)
			break;
		/* The same path now leads to the root of the new tmpfs. */
		fd = path_open_in_root(lower_fd, bases[i], O_PATH | O_DIRECTORY);
		if (fd < 0) {
			rc = lerror_set(err, errno, "cannot open the tmpfs on /%s", bases[i]);
			break;
		}
		for (size_t j = i; j < count && rc == 1; j++) {
			if (strcmp(bases[j], bases[i]) != 0)
				continue;
			log_step("create mount point %s in the tmpfs on /%s as %s", points[j].path, bases[i], rests[j]);
			if (create_below(fd, rests[j], !points[j].directory, points[j].path, err) < 0)
				rc = -1;
		}
		if (rc == 1 && mount_setattr(fd, "", AT_EMPTY_PATH, &attr, sizeof(attr)) < 0)
			rc = lerror_set(err, errno, "cannot make the tmpfs on /%s read-only", bases[i]);
		close(fd);
	}
	free(bases);
	free(rests);
	return rc;
}
