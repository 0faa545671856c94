/* This file includes libsquashfuse's headers, which bring their own
 * config.h (with PACKAGE, VERSION and _POSIX_C_SOURCE); launch's config.h
 * is therefore not included here. */
#define _GNU_SOURCE 1

#include <squashfuse/squashfuse.h>

#include "squashfs.h"
#include "log.h"
#include "server.h"
#include "blockcache.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

struct squashfs {
	sqfs fs;		/* the launcher's own handle; workers have theirs */
	char *path;
	int fuse_fd;
	unsigned threads;
	struct block_cache *cache;	/* or NULL */
	struct server *server;
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
	image->threads = server_default_threads();
	rc = sqfs_init(&image->fs, fd, 0);
	if (rc == SQFS_OK) {
		sqfs_inode root;

		/* A corrupt inode table shows first at the root inode. */
		rc = sqfs_inode_get(&image->fs, &root, sqfs_inode_root(&image->fs));
		if (rc != SQFS_OK)
			sqfs_destroy(&image->fs);
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

/* Room for any name that a directory entry can claim, corrupt or not: a
 * 16-bit length plus one, and the NUL that sqfs_dentry_name() adds. The
 * library copies names into the caller's buffer without checking them
 * against SQUASHFS_NAME_LEN. */
#define ENTRY_NAME_ROOM (65536 + 2)

static __thread char entry_name[ENTRY_NAME_ROOM];

void squashfs_entry_init(sqfs_dir_entry *entry)
{
	sqfs_dentry_init(entry, entry_name);
}

bool squashfs_entry_valid(sqfs_dir_entry *entry)
{
	return sqfs_dentry_name_size(entry) >= 1 && sqfs_dentry_name_size(entry) <= SQUASHFS_NAME_LEN;
}

/* Whether the index of the directory DIR names no entry longer than
 * SquashFS allows: sqfs_dir_lookup() copies index names into the entry's
 * buffer with the length that the index gives, a 32-bit number. */
static bool index_valid(sqfs *fs, sqfs_inode *dir)
{
	sqfs_md_cursor cursor = dir->next;

	for (size_t i = 0; i < dir->xtra.dir.idx_count; i++) {
		struct squashfs_dir_index index;

		if (sqfs_md_read(fs, &cursor, &index, sizeof(index)) != SQFS_OK)
			return false;
		index.size = le32toh(index.size);
		if (index.size >= SQUASHFS_NAME_LEN ||
		    sqfs_md_read(fs, &cursor, NULL, index.size + 1) != SQFS_OK)
			return false;
	}
	return true;
}

int squashfs_dir_lookup(sqfs *fs, sqfs_inode *dir, const char *name, size_t length, sqfs_inode_id *id)
{
	sqfs_dir_entry entry;
	bool found = false;

	if (!index_valid(fs, dir))
		return -1;
	squashfs_entry_init(&entry);
	if (sqfs_dir_lookup(fs, dir, name, length, &entry, &found) != SQFS_OK)
		return -1;
	if (!found)
		return 0;
	if (!squashfs_entry_valid(&entry))
		return -1;
	*id = sqfs_dentry_inode(&entry);
	return 1;
}

int squashfs_read_file(struct squashfs *image, const char *path, size_t max_size,
		       char **text, struct lerror *err)
{
	sqfs *fs = &image->fs;
	sqfs_inode inode;
	sqfs_off_t size;

	*text = NULL;
	if (sqfs_inode_get(fs, &inode, sqfs_inode_root(fs)) != SQFS_OK)
		return lerror_set(err, EIO, "cannot look up %s in image '%s'", path, image->path);
	/* NOTE: no symlink is followed, so a file reached only through one is
	 * treated as missing. */
	for (const char *name = path; *name;) {
		size_t length = strcspn(name, "/");
		sqfs_inode_id id;
		int rc;

		if (length == 0) {
			name++;
			continue;
		}
		if (!S_ISDIR(inode.base.mode))
			return 0;
		rc = squashfs_dir_lookup(fs, &inode, name, length, &id);
		if (rc < 0 || (rc == 1 && sqfs_inode_get(fs, &inode, id) != SQFS_OK))
			return lerror_set(err, EIO, "cannot look up %s in image '%s'", path, image->path);
		if (rc == 0)
			return 0;
		name += length;
	}
	if (!S_ISREG(inode.base.mode))
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

void squashfs_set_threads(struct squashfs *image, unsigned threads)
{
	image->threads = threads;
}

int squashfs_use_cache(struct squashfs *image, const char *dir, uint64_t max_bytes, struct lerror *err)
{
	unsigned char superblock[SUPERBLOCK_SIZE];
	/* Metadata blocks (8 KiB) go there too, so slots fit both. */
	uint32_t slot_size = image->fs.sb.block_size > SQUASHFS_METADATA_SIZE ?
		image->fs.sb.block_size : SQUASHFS_METADATA_SIZE;

	if (pread(image->fs.fd, superblock, sizeof(superblock), 0) != (ssize_t)sizeof(superblock))
		return lerror_set(err, errno ? errno : EIO, "cannot read image '%s'", image->path);
	if (block_cache_open(&image->cache, dir, image->fs.fd, superblock, slot_size, max_bytes, err) < 0)
		return -1;
	log_step("block cache: %s", block_cache_path(image->cache));
	return 0;
}

int squashfs_mount(struct squashfs *image, const char *device, const char *mountpoint,
		   uid_t uid, gid_t gid, struct lerror *err)
{
	char options[256];

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
	return server_start(&image->server, image->fs.fd, image->fuse_fd, image->path, image->threads,
			    image->cache, err);
}

void squashfs_close(struct squashfs *image)
{
	if (!image)
		return;
	/* A running server may still reply to the kernel until the mount is
	 * gone, so the end of the process releases a mounted image. */
	if (image->server) {
		struct server_stats stats;

		server_get_stats(image->server, &stats);
		log_info("image server: %u thread%s served %ju requests, read %ju bytes, used %.3f s of CPU",
			 stats.threads, stats.threads == 1 ? "" : "s", (uintmax_t)stats.requests,
			 (uintmax_t)(stats.bytes + stats.pushed_bytes), stats.cpu_seconds);
		log_info("page cache: %ju of those bytes sent ahead by the server", (uintmax_t)stats.pushed_bytes);
		if (image->cache && block_cache_damaged(image->cache) > 0)
			log_warning("block cache: %ju blocks in %s failed their checksum and were decompressed again; remove the file if this repeats",
				    (uintmax_t)block_cache_damaged(image->cache), block_cache_path(image->cache));
		if (image->cache)
			log_info("block cache: %ju blocks read from %s, %ju decompressed; metadata: %ju read, %ju decompressed",
				 (uintmax_t)stats.cached, block_cache_path(image->cache), (uintmax_t)stats.decompressed,
				 (uintmax_t)stats.metadata_cached, (uintmax_t)stats.metadata_decompressed);
		else
			log_info("block cache: off, %ju blocks decompressed; metadata: %ju decompressed",
				 (uintmax_t)stats.decompressed, (uintmax_t)stats.metadata_decompressed);
		return;
	}
	if (image->fuse_fd >= 0)
		close(image->fuse_fd);
	sqfs_destroy(&image->fs);
	free(image->path);
	free(image);
}
