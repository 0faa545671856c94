#include "config.h"

#include "image.h"
#include "log.h"
#include "path.h"
#include "squashfs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int check_directory(struct image *image, struct lerror *err)
{
	static const char *const markers[] = { "bin", "usr/bin" };
	struct stat st;

	if (access(image->path, R_OK | X_OK) < 0) {
		lerror_set(err, errno, "cannot read image directory '%s'", image->path);
		return lerror_hint(err, "check the directory's permissions");
	}
	for (size_t i = 0; i < sizeof(markers) / sizeof(markers[0]); i++)
		if (fstatat(image->dir_fd, markers[i], &st, AT_SYMLINK_NOFOLLOW) == 0)
			return 0;
	lerror_set(err, 0, "image directory '%s' does not hold a root file system: it has neither bin/ nor usr/bin/", image->path);
	return lerror_hint(err, "give the directory that contains bin/, etc/ and usr/ of the image");
}

int image_open(struct image *image, const char *path, struct lerror *err)
{
	char resolved[PATH_MAX];
	struct stat st;
	int fd;

	memset(image, 0, sizeof(*image));
	image->dir_fd = -1;
	if (!path || !*path) {
		lerror_set(err, 0, "no image given");
		return lerror_hint(err, "run 'launch IMAGE -- COMMAND'; see launch --help");
	}
	if (!realpath(path, resolved)) {
		int saved = errno;

		if ((saved == ENOENT || saved == ENOTDIR) && stat(path, &st) == 0) {
			/* /dev/stdin on a pipe: realpath() finds "pipe:[N]". */
			lerror_set(err, 0, "image '%s' is neither a regular file nor a directory", path);
			return lerror_hint(err, "give a SquashFS file or a directory holding a root file system; a pipe cannot be mounted");
		}
		if (saved == ENOENT || saved == ENOTDIR) {
			lerror_set(err, 0, "image '%s' not found", path);
			return lerror_hint(err, "check the path; relative paths are taken from the current directory");
		}
		lerror_set(err, saved, "cannot resolve image path '%s'", path);
		return lerror_hint(err, "check the permissions of the directories on the path");
	}
	image->path = strdup(resolved);
	if (!image->path)
		return lerror_set(err, ENOMEM, "cannot open image '%s'", path);
	if (strcmp(resolved, path) != 0)
		log_info("image '%s' resolved to '%s'", path, resolved);

	if (stat(resolved, &st) < 0) {
		lerror_set(err, errno, "cannot open image '%s'", resolved);
		goto fail;
	}
	if (S_ISDIR(st.st_mode)) {
		image->kind = IMAGE_DIRECTORY;
		image->dir_fd = open(resolved, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (image->dir_fd < 0) {
			lerror_set(err, errno, "cannot open image directory '%s'", resolved);
			goto fail;
		}
		if (check_directory(image, err) < 0)
			goto fail;
		/* A descriptor of a host directory kept open would be a way
		 * out of the container through /proc/PID/fd; the image is
		 * reached by its path again in the new namespace. */
		close(image->dir_fd);
		image->dir_fd = -1;
		log_info("image: directory %s", resolved);
		return 0;
	}
	if (!S_ISREG(st.st_mode)) {
		lerror_set(err, 0, "image '%s' is neither a regular file nor a directory", resolved);
		lerror_hint(err, "give a SquashFS file or a directory holding a root file system");
		goto fail;
	}
	image->kind = IMAGE_SQUASHFS;
	fd = open(resolved, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int saved = errno;

		if (saved == EACCES) {
			lerror_set(err, 0, "image '%s' is not readable by you", resolved);
			lerror_hint(err, "ask its owner to make it readable (chmod a+r)");
		} else {
			lerror_set(err, saved, "cannot open image '%s'", resolved);
		}
		goto fail;
	}
	if (squashfs_open(&image->squashfs, fd, resolved, err) < 0) {
		close(fd);
		goto fail;
	}
	log_info("image: SquashFS file %s (%jd bytes)", resolved, (intmax_t)st.st_size);
	return 0;

fail:
	image_close(image);
	return -1;
}

int image_read_file(struct image *image, const char *path, size_t max_size, char **text,
		    struct lerror *err)
{
	struct stat st;
	ssize_t n;
	int root, fd;

	*text = NULL;
	if (image->kind == IMAGE_SQUASHFS)
		return squashfs_read_file(image->squashfs, path, max_size, text, err);
	root = open(image->path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return lerror_set(err, errno, "cannot open image directory '%s'", image->path);
	fd = path_open_in_root(root, path, O_RDONLY | O_NOCTTY);
	close(root);
	if (fd < 0)
		return errno == ENOENT || errno == ENOTDIR ? 0 : lerror_set(err, errno, "cannot open %s in image '%s'", path, image->path);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return 0;
	}
	if ((size_t)st.st_size > max_size) {
		close(fd);
		return lerror_set(err, EFBIG, "cannot read %s in image '%s': larger than %zu bytes", path, image->path, max_size);
	}
	*text = malloc((size_t)st.st_size + 1);
	if (!*text) {
		close(fd);
		return lerror_set(err, ENOMEM, "cannot read %s in image '%s'", path, image->path);
	}
	n = pread(fd, *text, (size_t)st.st_size, 0);
	close(fd);
	if (n < 0) {
		free(*text);
		*text = NULL;
		return lerror_set(err, errno, "cannot read %s in image '%s'", path, image->path);
	}
	(*text)[n] = '\0';
	return 1;
}

void image_close(struct image *image)
{
	if (image->dir_fd >= 0)
		close(image->dir_fd);
	squashfs_close(image->squashfs);
	free(image->path);
	memset(image, 0, sizeof(*image));
	image->dir_fd = -1;
}
