#include "config.h"

#include "rootfs.h"
#include "log.h"
#include "layer.h"
#include "mount.h"
#include "path.h"
#include "squashfs.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define STAGING "/tmp"

/* Descriptors of the two roots while the container is assembled. */
struct roots {
	int host;		  /* the host's root, at /oldroot */
	int container;		  /* the image, at /newroot */
	struct stat container_st; /* its identity, to refuse mounts over it */
};

/* A host path mounted into the container, used to find the working
 * directory when it is already visible. */
struct visible {
	const char *source;
	const char *destination;
};

static int pivot_root(const char *new_root, const char *put_old)
{
	return (int)syscall(SYS_pivot_root, new_root, put_old);
}

static int write_file(const char *path, const char *text, struct lerror *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	size_t length = strlen(text);

	if (fd < 0)
		return lerror_set(err, errno, "cannot create %s in the staging tmpfs", path);
	if (write(fd, text, length) != (ssize_t)length) {
		close(fd);
		return lerror_set(err, errno, "cannot write %s in the staging tmpfs", path);
	}
	close(fd);
	return 0;
}

static int enter_staging(const struct rootfs_config *config, struct lerror *err)
{
	log_step("make all mounts private");
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return lerror_set(err, errno, "cannot make the mounts of the new namespace private");
	log_step("tmpfs on %s as the staging root", STAGING);
	if (mount("tmpfs", STAGING, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m") < 0)
		return lerror_set(err, errno, "cannot mount the staging tmpfs on %s", STAGING);
	if (mkdir(STAGING "/oldroot", 0755) < 0 || mkdir(STAGING "/newroot", 0755) < 0 ||
	    mkdir(STAGING "/lower", 0755) < 0 || mkdir(STAGING "/layer", 0755) < 0)
		return lerror_set(err, errno, "cannot create directories in the staging tmpfs");
	if (chdir(STAGING) < 0)
		return lerror_set(err, errno, "cannot enter the staging tmpfs");
	log_step("pivot_root into the staging tmpfs, host root at /oldroot");
	if (pivot_root(".", "oldroot") < 0)
		return lerror_set(err, errno, "cannot pivot_root into the staging tmpfs");
	if (chdir("/") < 0)
		return lerror_set(err, errno, "cannot enter the staging root");
	return 0;
}

static int mount_image(const struct rootfs_config *config, struct roots *roots,
		       struct lerror *err)
{
	struct image *image = config->image;

	if (image->kind == IMAGE_SQUASHFS) {
		if (squashfs_mount(image->squashfs, "/oldroot/dev/fuse", "/lower", config->uid, config->gid, err) < 0)
			return -1;
	} else {
		int source = path_open_in_root(roots->host, image->path, O_PATH | O_DIRECTORY);
		int dest = open("/lower", O_PATH | O_DIRECTORY | O_CLOEXEC);
		struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV };
		int rc;

		if (source < 0 || dest < 0) {
			lerror_set(err, errno, "cannot open image directory '%s' in the new namespace", image->path);
			if (source >= 0)
				close(source);
			if (dest >= 0)
				close(dest);
			return -1;
		}
		rc = mount_bind_fd(source, dest, false, image->path, err);
		close(source);
		close(dest);
		if (rc < 0)
			return -1;
		if (mount_setattr(AT_FDCWD, "/lower", AT_RECURSIVE, &attr, sizeof(attr)) < 0)
			return lerror_set(err, errno, "cannot make image directory '%s' read-only", image->path);
	}
	return 0;
}

/* Store the container path of the mount point open as FD into INSIDE.
 * Return false when the path cannot be found. */
static bool container_path_of(int fd, char inside[PATH_MAX])
{
	char link[64], resolved[PATH_MAX];
	ssize_t n;

	snprintf(link, sizeof(link), "/oldroot/proc/self/fd/%d", fd);
	n = readlink(link, resolved, sizeof(resolved) - 1);
	if (n < 0)
		return false;
	resolved[n] = '\0';
	/* The container's root is at /newroot while it is assembled. */
	if (!path_is_within(resolved, "/newroot"))
		return false;
	snprintf(inside, PATH_MAX, "%s", resolved[strlen("/newroot")] ? resolved + strlen("/newroot") : "/");
	return true;
}

/* Check a user's bind against the site's forbidden destinations once
 * symlinks of the image are resolved; launch(1) checked the spelling. */
static int check_forbidden(const struct rootfs_config *config, struct roots *roots,
			   const struct bind_spec *bind, struct lerror *err)
{
	char inside[PATH_MAX];
	int fd;

	if (bind->from_policy || !config->forbidden_count)
		return 0;
	fd = path_open_in_root(roots->container, bind->destination, O_PATH);
	if (fd < 0)
		return 0;
	if (!container_path_of(fd, inside)) {
		close(fd);
		return 0;
	}
	close(fd);
	for (size_t i = 0; i < config->forbidden_count; i++) {
		char normalized[PATH_MAX];

		if (path_normalize(config->forbidden[i], normalized, sizeof(normalized), NULL) == 0 &&
		    path_is_within(inside, normalized)) {
			lerror_set(err, 0, "bind destination '%s' resolves to %s, on or below %s, where binds are forbidden, by the site policy (%s)",
				   bind->destination, inside, normalized, config->forbidden_rule);
			return lerror_hint(err, "a symlink in the image leads there; ask your administrator, or see launch --show-config");
		}
	}
	return 0;
}

/* Return true, with ERR set, when the mount point open as FD lies under
 * /proc, /sys or /dev of the container although PATH does not: a symlink
 * of the image leads there, and a bind would cover the kernel's files. */
static bool leads_into_kernel_tree(int fd, const char *path, const char *what, struct lerror *err)
{
	static const char *const trees[] = { "/proc", "/sys", "/dev" };
	char inside[PATH_MAX], normalized[PATH_MAX];

	if (!container_path_of(fd, inside) || path_normalize(path, normalized, sizeof(normalized), NULL) < 0)
		return false;
	for (size_t i = 0; i < sizeof(trees) / sizeof(trees[0]); i++) {
		if (path_is_within(inside, trees[i]) && !path_is_within(normalized, trees[i])) {
			lerror_set(err, 0, "cannot mount %s: %s resolves to %s, under %s, which launch mounts from the kernel",
				   what, path, inside, trees[i]);
			lerror_hint(err, "a symlink in the image leads there; choose a destination outside /proc, /sys and /dev");
			return true;
		}
	}
	return false;
}

/* Open the mount point PATH inside the container for a source of type
 * SOURCE_MODE. Return the descriptor, or -1 with ERR set (errno ENOENT
 * when the mount point is missing). */
static int open_destination(struct roots *roots, const char *path, mode_t source_mode,
			    const char *what, struct lerror *err)
{
	struct stat st;
	int fd = path_open_in_root(roots->container, path, O_PATH);

	if (fd < 0) {
		int saved = errno;

		if (saved == ENOENT) {
			/* Missing mount points were created in a layer, so this is
			 * a path that a symlink of the image sends elsewhere, into
			 * /proc say, where nothing may be created. */
			lerror_set(err, 0, "cannot mount %s: %s does not exist in the container", what, path);
			lerror_hint(err, "a symlink in the image may lead to a place where launch cannot create it; choose another destination");
		} else {
			lerror_set(err, saved, "cannot open the mount point of %s in the image", what);
		}
		errno = saved;
		return -1;
	}
	if (fstat(fd, &st) < 0) {
		lerror_set(err, errno, "cannot inspect mount point %s", path);
		close(fd);
		return -1;
	}
	if (leads_into_kernel_tree(fd, path, what, err)) {
		close(fd);
		errno = EINVAL;
		return -1;
	}
	if (st.st_dev == roots->container_st.st_dev && st.st_ino == roots->container_st.st_ino) {
		lerror_set(err, 0, "cannot mount %s: %s resolves to the container's root", what, path);
		lerror_hint(err, "a symlink in the image leads there; choose a destination below it");
		close(fd);
		errno = EINVAL;
		return -1;
	}
	if (S_ISDIR(source_mode) != S_ISDIR(st.st_mode)) {
		lerror_set(err, 0, "cannot mount %s: %s", what,
			   S_ISDIR(source_mode) ? "the source is a directory but the destination is not"
						: "the source is a file but the destination is a directory");
		lerror_hint(err, "bind a directory onto a directory and a file onto a file");
		close(fd);
		errno = ENOTDIR;
		return -1;
	}
	return fd;
}

/* Bind the host path SOURCE on the container path DESTINATION. */
static int bind_host_path(struct roots *roots, const char *source, const char *destination,
			  bool read_only, const char *what, struct lerror *err)
{
	struct stat st;
	char label[PATH_MAX * 2 + 64];
	int source_fd, dest_fd, rc;

	source_fd = path_open_in_root(roots->host, source, O_PATH);
	if (source_fd < 0 || fstat(source_fd, &st) < 0) {
		lerror_set(err, errno, "cannot open %s '%s' on the host", what, source);
		if (source_fd >= 0)
			close(source_fd);
		return -1;
	}
	snprintf(label, sizeof(label), "%s %s on %s", what, source, destination);
	dest_fd = open_destination(roots, destination, st.st_mode, label, err);
	if (dest_fd < 0) {
		int saved = errno;

		close(source_fd);
		errno = saved;
		return -1;
	}
	rc = mount_bind_fd(source_fd, dest_fd, read_only, label, err);
	close(source_fd);
	close(dest_fd);
	return rc;
}

/* Bind a host file over an image file that may be missing; a missing
 * mount point only costs a -v line. */
static int bind_optional_file(struct roots *roots, int source_dir, const char *source,
			      const char *destination, bool read_only, const char *what,
			      struct lerror *err)
{
	struct stat st;
	int source_fd, dest_fd, rc;

	source_fd = path_open_in_root(source_dir, source, O_PATH);
	if (source_fd < 0) {
		log_info("%s not mounted: %s is missing on the host", what, source);
		return 0;
	}
	if (fstat(source_fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		log_info("%s not mounted: %s is not a regular file", what, source);
		close(source_fd);
		return 0;
	}
	dest_fd = path_open_in_root(roots->container, destination, O_PATH);
	if (dest_fd < 0 || fstat(dest_fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		log_info("%s not mounted: the image has no file %s", what, destination);
		if (dest_fd >= 0)
			close(dest_fd);
		close(source_fd);
		return 0;
	}
	rc = mount_bind_fd(source_fd, dest_fd, read_only, destination, err);
	close(source_fd);
	close(dest_fd);
	return rc;
}

/* Render /etc/passwd and /etc/group into the staging root. A login shell
 * that the image lacks (a host's /bin/zsh, say) becomes /bin/sh. */
static int write_account_files(const struct rootfs_config *config, struct roots *roots,
			       struct lerror *err)
{
	struct account account = *config->account;
	char *passwd_text, *group_text;
	int shell = path_open_in_root(roots->container, account.shell, O_PATH);
	int rc;

	if (shell >= 0) {
		close(shell);
	} else {
		log_info("login shell %s is not in the image; /etc/passwd names /bin/sh", account.shell);
		account.shell = (char *)"/bin/sh";
	}
	if (account_render(&account, config->fake_root, &passwd_text, &group_text) < 0)
		return lerror_set(err, ENOMEM, "cannot prepare /etc/passwd for the container");
	rc = write_file("/passwd", passwd_text, err);
	if (rc == 0)
		rc = write_file("/group", group_text, err);
	free(passwd_text);
	free(group_text);
	return rc;
}

static int mount_system(const struct rootfs_config *config, struct roots *roots,
			struct lerror *err)
{
	static const char *const trees[] = { "/proc", "/sys", "/dev" };
	int staging;

	for (size_t i = 0; i < sizeof(trees) / sizeof(trees[0]); i++)
		if (bind_host_path(roots, trees[i], trees[i], false, "the host's", err) < 0)
			return -1;

	if (config->private_tmp) {
		struct stat st = { .st_mode = S_IFDIR };
		int dest = open_destination(roots, "/tmp", st.st_mode, "a private /tmp", err);

		if (dest < 0)
			return -1;
		if (mount_tmpfs_fd(dest, "mode=1777", "/tmp", err) < 0) {
			close(dest);
			return -1;
		}
		close(dest);
	} else if (bind_host_path(roots, "/tmp", "/tmp", false, "the host's /tmp", err) < 0) {
		return -1;
	}

	if (bind_optional_file(roots, roots->host, "/etc/hosts", "/etc/hosts", false, "the host's /etc/hosts", err) < 0 ||
	    bind_optional_file(roots, roots->host, "/etc/resolv.conf", "/etc/resolv.conf", false, "the host's /etc/resolv.conf", err) < 0)
		return -1;

	if (write_account_files(config, roots, err) < 0)
		return -1;
	staging = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (staging < 0)
		return lerror_set(err, errno, "cannot open the staging root");
	if (bind_optional_file(roots, staging, "/passwd", "/etc/passwd", true, "the generated /etc/passwd", err) < 0 ||
	    bind_optional_file(roots, staging, "/group", "/etc/group", true, "the generated /etc/group", err) < 0) {
		close(staging);
		return -1;
	}
	close(staging);
	return 0;
}

/* Find the container path under which the host directory CWD is visible. */
static bool find_visible(const struct visible *visible, size_t count, const char *cwd,
			 char out[PATH_MAX])
{
	/* Later mounts cover earlier ones, so search from the last. */
	for (size_t i = count; i-- > 0;) {
		size_t n = strlen(visible[i].source);

		if (!path_is_within(cwd, visible[i].source))
			continue;
		if (n == 1)
			n = 0;
		if ((size_t)snprintf(out, PATH_MAX, "%s%s", visible[i].destination, cwd + n) >= PATH_MAX)
			return false;
		if (out[0] == '/' && out[1] == '/')
			memmove(out, out + 1, strlen(out));
		return true;
	}
	return false;
}

/* Store where to start when the current directory cannot be used: the
 * image's default working directory when it has one, else the home
 * directory, else "/". */
static void fallback_workdir(const struct rootfs_config *config, struct roots *roots,
			     char workdir[PATH_MAX])
{
	if (config->image_workdir) {
		int fd = path_open_in_root(roots->container, config->image_workdir, O_PATH | O_DIRECTORY);

		if (fd >= 0) {
			close(fd);
			snprintf(workdir, PATH_MAX, "%s", config->image_workdir);
			return;
		}
		log_info("the image's working directory %s does not exist in the container", config->image_workdir);
	}
	snprintf(workdir, PATH_MAX, "%s", config->home ? config->home : "/");
}

static int choose_workdir(const struct rootfs_config *config, struct roots *roots,
			  const struct visible *visible, size_t count,
			  char workdir[PATH_MAX], struct lerror *err)
{
	int fd;

	if (config->workdir) {
		if (path_normalize(config->workdir, workdir, PATH_MAX, NULL) < 0) {
			lerror_set(err, 0, "invalid working directory '%s' given with --cd: it must be an absolute path inside the container",
				   config->workdir);
			return lerror_hint(err, "write it starting with '/'");
		}
		fd = path_open_in_root(roots->container, workdir, O_PATH | O_DIRECTORY);
		if (fd < 0) {
			lerror_set(err, errno, "cannot use working directory '%s' given with --cd", config->workdir);
			return lerror_hint(err, "give a directory that exists inside the container");
		}
		close(fd);
		log_info("working directory: %s (from --cd)", workdir);
		return 0;
	}
	if (find_visible(visible, count, config->cwd, workdir)) {
		log_info("working directory: %s (already visible)", workdir);
		return 0;
	}
	if (config->private_tmp && path_is_within(config->cwd, "/tmp")) {
		/* Binding a host directory there would undo --private-tmp. */
		if (strcmp(config->cwd, "/tmp") == 0) {
			snprintf(workdir, PATH_MAX, "/tmp");
			log_info("working directory: /tmp (the private one)");
		} else {
			fallback_workdir(config, roots, workdir);
			log_warning("working directory %s is under /tmp, which --private-tmp replaces; starting in %s (use --cd DIR to choose)",
				    config->cwd, workdir);
		}
		return 0;
	}
	if (config->cwd_rule) {
		fallback_workdir(config, roots, workdir);
		log_warning("working directory %s is not bound: the site policy allows binds only from other directories (%s); starting in %s",
			    config->cwd, config->cwd_rule, workdir);
		return 0;
	}
	if (path_is_system(config->cwd)) {
		fd = path_open_in_root(roots->container, config->cwd, O_PATH | O_DIRECTORY);
		if (fd >= 0) {
			close(fd);
			snprintf(workdir, PATH_MAX, "%s", config->cwd);
			log_info("working directory: %s (the image's own; a system directory is not bound)", workdir);
		} else {
			if (config->image_workdir)
				fallback_workdir(config, roots, workdir);
			else
				snprintf(workdir, PATH_MAX, "/");
			log_warning("working directory %s is a system directory, which is not bound, and the image has no such directory; starting in %s",
				    config->cwd, workdir);
		}
		return 0;
	}
	if (bind_host_path(roots, config->cwd, config->cwd, false, "working directory", err) < 0)
		return -1;
	snprintf(workdir, PATH_MAX, "%s", config->cwd);
	log_info("working directory: %s (bound from the host)", workdir);
	return 0;
}

static int enter_container_root(struct lerror *err)
{
	log_step("pivot_root into the container's root");
	if (chdir("/newroot") < 0)
		return lerror_set(err, errno, "cannot enter the container's root");
	/* With new_root and put_old the same, the old root is stacked on the
	 * new one and detached next (pivot_root(2), "NOTES"). */
	if (pivot_root(".", ".") < 0)
		return lerror_set(err, errno, "cannot pivot_root into the container's root");
	if (umount2(".", MNT_DETACH) < 0)
		return lerror_set(err, errno, "cannot detach the host's root");
	if (chdir("/") < 0)
		return lerror_set(err, errno, "cannot enter the container's root");
	return 0;
}


/* List the mount points of this run: the system trees, the home
 * directory, the binds, and the working directory when it must be bound.
 * Return the count; POINTS has room for bind_count + 6 entries. */
static size_t plan_mount_points(const struct rootfs_config *config, const struct visible *visible,
				size_t visible_count, struct layer_point *points)
{
	static const char *const system[] = { "/proc", "/sys", "/dev", "/tmp" };
	char unused[PATH_MAX];
	size_t count = 0;

	for (size_t i = 0; i < sizeof(system) / sizeof(system[0]); i++)
		points[count++] = (struct layer_point){ system[i], true };
	if (config->home)
		points[count++] = (struct layer_point){ config->home, true };
	for (size_t i = 0; i < config->bind_count; i++)
		points[count++] = (struct layer_point){ config->binds[i].destination, config->binds[i].directory };
	if (!config->workdir && !path_is_system(config->cwd) && !config->cwd_rule &&
	    !(config->private_tmp && path_is_within(config->cwd, "/tmp")) &&
	    !find_visible(visible, visible_count, config->cwd, unused))
		points[count++] = (struct layer_point){ config->cwd, true };
	return count;
}

/* Put the image, or a layer over it, at /newroot and make every planned
 * mount point exist there. The layer is mounted only when it is asked for
 * or a mount point is missing from the image. */
static int mount_root(const struct rootfs_config *config, struct roots *roots,
		      const struct layer_point *points, size_t count, pid_t *service,
		      struct lerror *err)
{
	bool layer = config->layer.writable || config->layer.directory;
	int lower = open("/lower", O_PATH | O_DIRECTORY | O_CLOEXEC);

	if (lower < 0)
		return lerror_set(err, errno, "cannot open the image's root");
	if (!layer) {
		/* An empty directory of the image, such as /home, can take a
		 * tmpfs for the missing points, which is cheaper than a layer
		 * over the whole image and hides nothing. */
		int in_tmpfs = layer_hold_in_empty_dirs(lower, "/lower", "/oldroot/proc/self/fd", points, count, err);

		if (in_tmpfs < 0) {
			close(lower);
			return -1;
		}
		if (in_tmpfs == 0)
			layer = true;
	}
	close(lower);

	if (!layer) {
		log_step("move the image to /newroot");
		if (mount("/lower", "/newroot", NULL, MS_MOVE, NULL) < 0)
			return lerror_set(err, errno, "cannot move the image's mount to /newroot");
	} else {
		int upper = layer_prepare(&config->layer, roots->host, "/layer", err);
		int rc = 0;

		if (upper < 0)
			return -1;
		lower = open("/lower", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (lower < 0) {
			close(upper);
			return lerror_set(err, errno, "cannot open the image's root");
		}
		for (size_t i = 0; i < count && rc == 0; i++)
			rc = layer_make_mount_point(lower, "/lower", upper, "/oldroot/proc/self/fd",
						    points[i].path, points[i].directory, err);
		close(lower);
		close(upper);
		if (rc < 0 || layer_mount(&config->layer, "/lower", "/newroot", "/oldroot", service, err) < 0)
			return -1;
		if (!config->layer.writable) {
			struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY };

			log_step("make the layer read-only");
			if (mount_setattr(AT_FDCWD, "/newroot", 0, &attr, sizeof(attr)) < 0)
				return lerror_set(err, errno, "cannot make the container's root read-only");
		}
	}
	return 0;
}

int rootfs_prepare(const struct rootfs_config *config, struct lerror *err)
{
	struct roots roots = { .host = -1, .container = -1 };
	int rc;

	if (enter_staging(config, err) < 0)
		return -1;
	roots.host = open("/oldroot", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (roots.host < 0)
		return lerror_set(err, errno, "cannot open the host's root");
	rc = mount_image(config, &roots, err);
	close(roots.host);
	if (roots.container >= 0)
		close(roots.container);
	return rc;
}

int rootfs_assemble(const struct rootfs_config *config, char workdir[PATH_MAX],
		    pid_t *service, struct lerror *err)
{
	struct roots roots = { .host = -1, .container = -1 };
	struct visible visible[config->bind_count + 2];
	struct layer_point points[config->bind_count + 6];
	size_t count = 0;
	int rc = -1;

	if (!config->private_tmp)
		visible[count++] = (struct visible){ "/tmp", "/tmp" };
	if (config->home)
		visible[count++] = (struct visible){ config->home_source, config->home };
	for (size_t i = 0; i < config->bind_count; i++)
		visible[count++] = (struct visible){ config->binds[i].source, config->binds[i].destination };

	*service = 0;
	roots.host = open("/oldroot", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (roots.host < 0) {
		lerror_set(err, errno, "cannot open the host's root");
		goto out;
	}
	if (mount_root(config, &roots, points, plan_mount_points(config, visible, count, points), service, err) < 0)
		goto out;
	roots.container = open("/newroot", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (roots.container < 0 || fstat(roots.container, &roots.container_st) < 0) {
		lerror_set(err, errno, "cannot open the container's root");
		goto out;
	}
	if (mount_system(config, &roots, err) < 0)
		goto out;
	if (config->home && bind_host_path(&roots, config->home_source, config->home, false, "home directory", err) < 0)
		goto out;
	for (size_t i = 0; i < config->bind_count; i++) {
		const struct bind_spec *bind = &config->binds[i];

		log_info("bind %s on %s%s", bind->source, bind->destination, bind->read_only ? " (read-only)" : "");
		if (check_forbidden(config, &roots, bind, err) < 0)
			goto out;
		if (bind_host_path(&roots, bind->source, bind->destination, bind->read_only, "bind", err) < 0)
			goto out;
	}
	if (choose_workdir(config, &roots, visible, count, workdir, err) < 0)
		goto out;
	close(roots.host);
	roots.host = -1;
	close(roots.container);
	roots.container = -1;
	rc = enter_container_root(err);
out:
	if (roots.host >= 0)
		close(roots.host);
	if (roots.container >= 0)
		close(roots.container);
	if (rc < 0 && *service > 0) {
		/* No process will use the layer, and only this one has the
		 * server's pid. */
		kill(*service, SIGKILL);
		*service = 0;
	}
	return rc;
}
