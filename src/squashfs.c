/* This file includes libsquashfuse's headers, which bring their own
 * config.h (with PACKAGE, VERSION and _POSIX_C_SOURCE); launch's config.h
 * is therefore not included here. */
#define _GNU_SOURCE 1

#include <squashfuse/ll.h>

#include "squashfs.h"
#include "log.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

struct squashfs {
	sqfs_ll ll;		/* first, so the FUSE userdata is both */
	char *path;
	int fuse_fd;
	struct fuse_session *session;
	pthread_t server;
	int server_started;
};

#define SUPERBLOCK_SIZE 96

static const char *compression_name(unsigned id)
{
	/* Ids from the SquashFS 4.0 format (squashfs_fs.h). */
	static const char *const names[] = {
		[1] = "gzip", [2] = "lzma", [3] = "lzo", [4] = "xz", [5] = "lz4", [6] = "zstd",
	};

	if (id < sizeof(names) / sizeof(names[0]) && names[id])
		return names[id];
	return NULL;
}

void squashfs_supported_compressions(char *buf, size_t size)
{
	sqfs_compression_type types[SQFS_COMP_MAX + 1];
	size_t used = 0;

	memset(types, 0, sizeof(types));
	sqfs_compression_supported(types);
	buf[0] = '\0';
	for (int i = 0; i < SQFS_COMP_MAX && types[i] != SQFS_COMP_UNKNOWN; i++) {
		const char *name = compression_name((unsigned)types[i]);
		int n;

		if (!name)
			continue;
		n = snprintf(buf + used, size - used, "%s%s", used ? ", " : "", name);
		if (n < 0 || (size_t)n >= size - used)
			break;
		used += (size_t)n;
	}
}

static bool compression_supported(unsigned id)
{
	sqfs_compression_type types[SQFS_COMP_MAX + 1];

	memset(types, 0, sizeof(types));
	sqfs_compression_supported(types);
	for (int i = 0; i < SQFS_COMP_MAX && types[i] != SQFS_COMP_UNKNOWN; i++)
		if ((unsigned)types[i] == id)
			return true;
	return false;
}

/* Check the superblock by hand before libsquashfuse reads the tables, so
 * each kind of bad file gets its own message. */
static int check_superblock(int fd, const char *path, struct lerror *err)
{
	unsigned char sb[SUPERBLOCK_SIZE];
	struct stat st;
	ssize_t n;
	uint32_t magic, block_size;
	uint16_t compression, major, minor;
	uint64_t bytes_used;

	if (fstat(fd, &st) < 0)
		return lerror_set(err, errno, "cannot read image '%s'", path);
	n = pread(fd, sb, sizeof(sb), 0);
	if (n < 0)
		return lerror_set(err, errno, "cannot read image '%s'", path);
	if (n < 4) {
		lerror_set(err, 0, "image '%s' is not a SquashFS file: it is only %zd bytes long", path, n);
		return lerror_hint(err, "give a SquashFS file made with mksquashfs, or a directory holding a root file system");
	}
	memcpy(&magic, sb, 4);
	if (le32toh(magic) != SQUASHFS_MAGIC) {
		lerror_set(err, 0, "image '%s' is not a SquashFS file: bad magic number 0x%08x (expected 0x%08x, \"hsqs\")",
			   path, le32toh(magic), SQUASHFS_MAGIC);
		return lerror_hint(err, "give a SquashFS file made with mksquashfs, or a directory holding a root file system");
	}
	if (n < SUPERBLOCK_SIZE) {
		lerror_set(err, 0, "image '%s' is truncated: %zd bytes, shorter than a SquashFS superblock", path, n);
		return lerror_hint(err, "copy or download the image again");
	}
	memcpy(&block_size, sb + 12, 4);
	memcpy(&compression, sb + 20, 2);
	memcpy(&major, sb + 28, 2);
	memcpy(&minor, sb + 30, 2);
	memcpy(&bytes_used, sb + 40, 8);
	compression = le16toh(compression);
	major = le16toh(major);
	minor = le16toh(minor);
	bytes_used = le64toh(bytes_used);
	block_size = le32toh(block_size);

	if (major != 4 || minor != 0) {
		lerror_set(err, 0, "image '%s' is SquashFS version %u.%u, but only version 4.0 is supported", path, major, minor);
		return lerror_hint(err, "rebuild the image with a current mksquashfs");
	}
	if (!compression_supported(compression)) {
		char supported[128];
		const char *name = compression_name(compression);

		squashfs_supported_compressions(supported, sizeof(supported));
		if (name)
			lerror_set(err, 0, "image '%s' is compressed with %s, which this build of libsquashfuse does not support (supported: %s)",
				   path, name, supported);
		else
			lerror_set(err, 0, "image '%s' uses an unknown compression (id %u); this build of libsquashfuse supports: %s",
				   path, compression, supported);
		return lerror_hint(err, "rebuild the image with 'mksquashfs -comp' and one of the supported compressions");
	}
	if (block_size < 4096 || block_size > (1u << 20) || (block_size & (block_size - 1))) {
		lerror_set(err, 0, "image '%s' is corrupt: invalid block size %u in the superblock", path, block_size);
		return lerror_hint(err, "copy or rebuild the image");
	}
	{
		/* Table positions at offsets 48..88; all ones marks a table the
		 * image does not have (squashfs_fs.h). libsquashfuse 0.1 does
		 * not check them and crashes on some bad values. */
		static const char *const tables[] = { "id", "xattr id", "inode", "directory", "fragment", "lookup" };
		uint64_t inode_start = 0, directory_start = 0;

		for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
			uint64_t start;

			memcpy(&start, sb + 48 + 8 * i, 8);
			start = le64toh(start);
			if (i == 2)
				inode_start = start;
			if (i == 3)
				directory_start = start;
			if (start == UINT64_MAX && i != 0 && i != 2 && i != 3)
				continue;
			if (start < SUPERBLOCK_SIZE || start >= bytes_used) {
				lerror_set(err, 0, "image '%s' is corrupt: the %s table starts at byte %ju, outside the image (%ju bytes used)",
					   path, tables[i], (uintmax_t)start, (uintmax_t)bytes_used);
				return lerror_hint(err, "copy or rebuild the image");
			}
		}
		if (inode_start >= directory_start) {
			lerror_set(err, 0, "image '%s' is corrupt: the inode table does not precede the directory table", path);
			return lerror_hint(err, "copy or rebuild the image");
		}
	}
	if ((uint64_t)st.st_size < bytes_used) {
		lerror_set(err, 0, "image '%s' is truncated: the file has %jd bytes, the superblock says %ju",
			   path, (intmax_t)st.st_size, (uintmax_t)bytes_used);
		return lerror_hint(err, "copy or download the image again");
	}
	return 0;
}

int squashfs_open(struct squashfs **out, int fd, const char *path, struct lerror *err)
{
	struct squashfs *image;
	sqfs_err rc;

	if (check_superblock(fd, path, err) < 0)
		return -1;
	image = calloc(1, sizeof(*image));
	if (!image || !(image->path = strdup(path))) {
		free(image);
		return lerror_set(err, ENOMEM, "cannot open image '%s'", path);
	}
	/* Only a check: the kernel accepts a /dev/fuse descriptor only when it
	 * was opened in the user namespace that mounts (fuse_fill_super), so
	 * squashfs_mount() opens it again there. */
	image->fuse_fd = -1;
	if (access("/dev/fuse", R_OK | W_OK) < 0) {
		int saved = errno;

		free(image->path);
		free(image);
		lerror_set(err, saved, "cannot open /dev/fuse to mount image '%s'", path);
		if (saved == ENOENT)
			return lerror_hint(err, "load the fuse kernel module (modprobe fuse)");
		return lerror_hint(err, "/dev/fuse must be readable and writable by users (mode 0666, as distributions ship it); ask your administrator");
	}
	rc = sqfs_init(&image->ll.fs, fd, 0);
	if (rc == SQFS_OK) {
		sqfs_inode root;

		rc = sqfs_ll_init(&image->ll);
		/* A corrupt inode table shows first at the root inode. */
		if (rc == SQFS_OK)
			rc = sqfs_inode_get(&image->ll.fs, &root, sqfs_inode_root(&image->ll.fs));
		if (rc != SQFS_OK)
			sqfs_destroy(&image->ll.fs);
	}
	/* NOTE: after a failed sqfs_init() the library's state is partly
	 * built and sqfs_destroy() can crash on it, so it is leaked. */
	if (rc != SQFS_OK) {
		free(image->path);
		free(image);
		lerror_set(err, 0, "image '%s' is corrupt: libsquashfuse cannot read its tables (error %d)", path, (int)rc);
		return lerror_hint(err, "check the image with 'unsquashfs -stat' and rebuild it");
	}
	*out = image;
	return 0;
}

int squashfs_read_file(struct squashfs *image, const char *path, size_t max_size,
		       char **text, struct lerror *err)
{
	sqfs *fs = &image->ll.fs;
	sqfs_inode inode;
	sqfs_off_t size;
	bool found = false;

	*text = NULL;
	if (sqfs_inode_get(fs, &inode, sqfs_inode_root(fs)) != SQFS_OK ||
	    sqfs_lookup_path(fs, &inode, path, &found) != SQFS_OK)
		return lerror_set(err, EIO, "cannot look up %s in image '%s'", path, image->path);
	/* NOTE: sqfs_lookup_path() follows no symlink, so a file reached only
	 * through one is treated as missing. */
	if (!found || !S_ISREG(inode.base.mode))
		return 0;
	if (inode.xtra.reg.file_size > max_size)
		return lerror_set(err, EFBIG, "cannot read %s in image '%s': larger than %zu bytes", path, image->path, max_size);
	size = (sqfs_off_t)inode.xtra.reg.file_size;
	*text = malloc((size_t)size + 1);
	if (!*text)
		return lerror_set(err, ENOMEM, "cannot read %s in image '%s'", path, image->path);
	if (sqfs_read_range(fs, &inode, 0, &size, *text) != SQFS_OK) {
		free(*text);
		*text = NULL;
		return lerror_set(err, EIO, "cannot read %s in image '%s'", path, image->path);
	}
	(*text)[size] = '\0';
	return 1;
}

static void serve_init(void *userdata, struct fuse_conn_info *conn)
{
	/* The image never changes, so let the kernel read ahead as far as it
	 * offers. libfuse 3.14 already negotiates reads of up to 1 MiB. */
	conn->max_readahead = UINT32_MAX;
	log_trace("FUSE connection ready: max_read %u, max_readahead %u", conn->max_read, conn->max_readahead);
}

static const struct fuse_lowlevel_ops operations = {
	.init = serve_init,
	.lookup = sqfs_ll_op_lookup,
	.forget = sqfs_ll_op_forget,
	.getattr = sqfs_ll_op_getattr,
	.readlink = sqfs_ll_op_readlink,
	.open = sqfs_ll_op_open,
	.read = sqfs_ll_op_read,
	.release = sqfs_ll_op_release,
	.opendir = sqfs_ll_op_opendir,
	.readdir = sqfs_ll_op_readdir,
	.releasedir = sqfs_ll_op_releasedir,
	.statfs = stfs_ll_op_statfs,
	.getxattr = sqfs_ll_op_getxattr,
	.listxattr = sqfs_ll_op_listxattr,
	.create = sqfs_ll_op_create,
};

static void *serve(void *arg)
{
	struct squashfs *image = arg;
	int rc = fuse_session_loop(image->session);

	/* The loop ends when the mount namespace, and so the mount, is gone. */
	log_trace("FUSE server for '%s' stopped (%d)", image->path, rc);
	return NULL;
}

int squashfs_mount(struct squashfs *image, const char *device, const char *mountpoint,
		   uid_t uid, gid_t gid, struct lerror *err)
{
	char options[256], fd_path[64];
	char *fuse_argv[] = { (char *)"launch", NULL };
	struct fuse_args args = FUSE_ARGS_INIT(1, fuse_argv);
	sigset_t all, old;
	int rc;

	image->fuse_fd = open(device, O_RDWR | O_CLOEXEC);
	if (image->fuse_fd < 0)
		return lerror_set(err, errno, "cannot open %s to mount image '%s'", device, image->path);
	/* default_permissions makes the kernel check mode bits as on any file
	 * system. allow_other admits only processes of this user namespace
	 * and its children, which all belong to the caller. */
	snprintf(options, sizeof(options),
		 "fd=%d,rootmode=40000,user_id=%lu,group_id=%lu,default_permissions,allow_other",
		 image->fuse_fd, (unsigned long)uid, (unsigned long)gid);
	log_step("mount FUSE on %s (%s)", mountpoint, options);
	if (mount(image->path, mountpoint, "fuse.launch", MS_RDONLY | MS_NOSUID | MS_NODEV, options) < 0) {
		lerror_set(err, errno, "cannot mount image '%s' with FUSE on %s", image->path, mountpoint);
		return lerror_hint(err, "the kernel must allow FUSE mounts in user namespaces (Linux 4.18 or later)");
	}

	image->session = fuse_session_new(&args, &operations, sizeof(operations), &image->ll);
	fuse_opt_free_args(&args);
	if (!image->session)
		return lerror_set(err, 0, "cannot create the FUSE session for image '%s'", image->path);
	/* With "/dev/fd/N" libfuse uses the already mounted descriptor N, so
	 * it neither mounts nor calls fusermount3. */
	snprintf(fd_path, sizeof(fd_path), "/dev/fd/%d", image->fuse_fd);
	if (fuse_session_mount(image->session, fd_path) != 0)
		return lerror_set(err, 0, "cannot attach the FUSE session of image '%s' to %s", image->path, fd_path);

	/* The server thread takes no signals: they belong to the main thread,
	 * which forwards them to the command. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&image->server, NULL, serve, image);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0)
		return lerror_set(err, rc, "cannot start the FUSE server thread for image '%s'", image->path);
	image->server_started = 1;
	return 0;
}

void squashfs_close(struct squashfs *image)
{
	if (!image)
		return;
	/* A running server thread may still reply to the kernel, because
	 * FORGET requests arrive until the mount is gone. The end of the
	 * process releases a mounted image. */
	if (image->server_started)
		return;
	if (image->session)
		fuse_session_destroy(image->session);
	else if (image->fuse_fd >= 0)
		close(image->fuse_fd);
	sqfs_ll_destroy(&image->ll);
	free(image->path);
	free(image);
}
