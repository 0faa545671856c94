/* The FUSE server of a mounted SquashFS image.
 *
 * Requests are served by a pool of threads. libsquashfuse 0.1 keeps its
 * block caches in the `sqfs` structure without locks, so each worker
 * thread opens its own `sqfs` on the same image descriptor the first time
 * it serves a request. Nothing the library owns is shared between threads.
 * Inode numbers are computed from SquashFS inode ids, so they need no
 * shared table either.
 */
#ifndef LAUNCH_SERVER_H
#define LAUNCH_SERVER_H

#include <stdint.h>

#include "error.h"

/* The largest and the default number of worker threads. */
#define SERVER_MAX_THREADS 64
unsigned server_default_threads(void);

struct server;
struct block_cache;

struct server_stats {
	unsigned threads;	/* workers that served at least one request */
	uint64_t requests;
	uint64_t bytes;		/* file data returned by read requests */
	uint64_t cached;	/* data blocks read from the block cache */
	uint64_t decompressed;	/* data blocks decompressed */
	uint64_t metadata_cached;	/* metadata blocks read from the block cache */
	uint64_t metadata_decompressed;
	uint64_t pushed_bytes;	/* file data sent ahead into the page cache */
	double cpu_seconds;	/* user and system time of the workers */
};

/* Serve the image open as IMAGE_FD (PATH is used in messages) on the
 * FUSE connection FUSE_FD, already mounted, with at most THREADS worker
 * threads (1 serves every request in a single thread), sharing
 * decompressed blocks through CACHE unless it is NULL. The server runs
 * until the mount is gone; IMAGE_FD and FUSE_FD must stay open that long.
 * Return 0 or -1 with ERR set. */
int server_start(struct server **out, int image_fd, int fuse_fd, const char *path,
		 unsigned threads, struct block_cache *cache, struct lerror *err);

/* Add up what the workers have done so far. */
void server_get_stats(struct server *server, struct server_stats *stats);

#endif
