/* Container images: a SquashFS file or a directory holding a root file
 * system. Every check happens here, before any namespace is made, so a bad
 * image costs nothing to clean up. */
#ifndef LAUNCH_IMAGE_H
#define LAUNCH_IMAGE_H

#include "error.h"

struct squashfs;

enum image_kind {
	IMAGE_SQUASHFS,
	IMAGE_DIRECTORY,
};

struct image {
	enum image_kind kind;
	char *path;		   /* absolute, symlinks resolved */
	int dir_fd;		   /* IMAGE_DIRECTORY: O_PATH descriptor of the root, open only while it is checked */
	struct squashfs *squashfs; /* IMAGE_SQUASHFS: the opened image */
};

/* Resolve PATH (relative paths and symlinks allowed), decide its kind and
 * check it: it must exist and be readable; a directory must hold a root
 * file system (bin/ or usr/bin/); a file must be a valid SquashFS image.
 * Return 0 or -1 with ERR naming PATH and what is wrong. */
int image_open(struct image *image, const char *path, struct lerror *err);

/* Read the regular file PATH (absolute, inside the image) into a new
 * NUL-terminated string *TEXT. Return 1 when read, 0 when the image has no
 * such file, -1 with ERR set on failure or when it exceeds MAX_SIZE. */
int image_read_file(struct image *image, const char *path, size_t max_size, char **text,
		    struct lerror *err);

void image_close(struct image *image);

#endif
