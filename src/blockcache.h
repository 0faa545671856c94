/* A cache of decompressed SquashFS blocks that outlives one launch.
 *
 * Each launch mounts its image afresh, so the kernel's page cache of the
 * previous launch is gone and every block a command reads would be
 * decompressed again: for a 2 MB static binary that is most of the
 * start-up time. This cache keeps decompressed data, fragment and
 * metadata blocks in one file per image, in a directory of the calling
 * user (by default on the node's memory file system). Every launch of that
 * image by that user shares it, including concurrent ones.
 *
 * The file holds a header that identifies the image, an open-addressed
 * table of slots, each naming the image position of the block it holds,
 * and the slots' data. Launches claim a free slot with an atomic
 * compare-and-swap on the shared table, write the block with pwrite, and
 * then mark the slot ready. A slot whose writer died stays claimed and
 * is simply not used. A reader that finds no ready slot decompresses the
 * block itself.
 */
#ifndef LAUNCH_BLOCKCACHE_H
#define LAUNCH_BLOCKCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

struct block_cache;

/* The default capacity: 1 GiB, or an eighth of the memory if less. */
uint64_t block_cache_default_size(void);

/* Open or create the cache of the image open as IMAGE_FD in DIR, which is
 * created with mode 0700 when missing and must belong to the caller, be
 * writable by nobody else and be local. Without DIR: the default,
 * $XDG_RUNTIME_DIR/launch-cache or /dev/shm/launch-cache.UID (see
 * launch(1)). SUPERBLOCK is the image's 96-byte superblock; blocks of up
 * to SLOT_SIZE bytes fit, at most MAX_BYTES of them. The least recently
 * used files of other images are removed until all files in DIR take at
 * most MAX_BYTES. Return 0, or -1 with ERR set (the caller goes on
 * without a cache). */
int block_cache_open(struct block_cache **out, const char *dir, int image_fd,
		     const void *superblock, uint32_t slot_size, uint64_t max_bytes,
		     struct lerror *err);

/* Copy the whole block at image position POS into BUF, of CAPACITY bytes,
 * and set *SIZE and *EXTRA as they were stored. Return true when the block
 * was in the cache and its checksum matches. */
bool block_cache_read_block(struct block_cache *cache, uint64_t pos, void *buf, size_t capacity,
			    size_t *size, uint32_t *extra);

/* Offer the decompressed block at image position POS, SIZE bytes, for
 * others to read, with EXTRA for the caller's own use. Failures (full
 * table or file system) only mean that the block stays out of the cache. */
void block_cache_store(struct block_cache *cache, uint64_t pos, const void *data, size_t size,
		       uint32_t extra);

/* The number of blocks found damaged so far. */
uint64_t block_cache_damaged(struct block_cache *cache);

/* The cache file's path, for messages. */
const char *block_cache_path(const struct block_cache *cache);

#endif
