/* SquashFS images served through FUSE inside launch's own process.
 *
 * The image is read with libsquashfuse by the server of server.c, and the
 * FUSE file system is mounted with mount(2) from inside the container's
 * user namespace (Linux 4.18 and later allow that), so no external
 * squashfuse process, no fusermount and nothing setuid is involved.
 */
#ifndef LAUNCH_SQUASHFS_H
#define LAUNCH_SQUASHFS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"

struct squashfs;

/* Check the SquashFS image open as FD (PATH is used in messages): magic,
 * version, compression, size against the superblock, then open its
 * tables. On success *OUT owns FD. Return 0 or -1 with ERR naming PATH. */
int squashfs_open(struct squashfs **out, int fd, const char *path, struct lerror *err);

/* Serve the image with at most THREADS threads once mounted (1 to
 * SERVER_MAX_THREADS; the default is server_default_threads()). */
void squashfs_set_threads(struct squashfs *image, unsigned threads);

/* Share decompressed blocks with other launches of the image through a
 * cache file in DIR, or the default directory when DIR is NULL, holding at
 * most MAX_BYTES (blockcache.h). Call before
 * the image is mounted, outside the container's namespaces. Return 0 or
 * -1 with ERR set; the image is then served without the cache. */
int squashfs_use_cache(struct squashfs *image, const char *dir, uint64_t max_bytes, struct lerror *err);

/* Mount the image read-only, nosuid and nodev on MOUNTPOINT and start the
 * server (server.h) that serves its requests until the mount goes away. DEVICE is
 * the path of /dev/fuse as the caller sees it. Must be called inside the
 * user and mount namespaces that will own the mount. UID and GID are the
 * owner ids as seen inside that user namespace. */
int squashfs_mount(struct squashfs *image, const char *device, const char *mountpoint,
		   uid_t uid, gid_t gid, struct lerror *err);

/* Read the regular file PATH of the image into a new NUL-terminated
 * string *TEXT. Return 1 when read, 0 when the image has no such regular
 * file, -1 with ERR set on a read error or a file over MAX_SIZE bytes.
 * The launcher's handle is its own, so this works while the server runs. */
int squashfs_read_file(struct squashfs *image, const char *path, size_t max_size,
		       char **text, struct lerror *err);

/* Safe use of libsquashfuse's directories, for the server too. The
 * library trusts the name lengths that a directory gives; a crafted image
 * could overflow its buffers. */
struct sqfs;
struct sqfs_inode;

/* Look NAME (LENGTH bytes, not NUL-terminated) up in the directory DIR of
 * FS. Return 1 with *ID set when found, 0 when not, -1 when the directory
 * is corrupt. */
int squashfs_dir_lookup(struct sqfs *fs, struct sqfs_inode *dir, const char *name, size_t length,
			uint64_t *id);

#ifdef SQFS_DIR_H
/* Give ENTRY a name buffer large enough for any entry, corrupt or not. */
void squashfs_entry_init(sqfs_dir_entry *entry);

/* Whether the name of ENTRY, read by sqfs_dir_next(), has a valid length. */
bool squashfs_entry_valid(sqfs_dir_entry *entry);
#endif

/* Write the names of the compressions libsquashfuse was built with, comma
 * separated, into BUF. */
void squashfs_supported_compressions(char *buf, size_t size);

/* Release IMAGE. Once it is mounted, only log what its server did: the
 * server runs until the process ends. */
void squashfs_close(struct squashfs *image);

#endif
