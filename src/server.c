/* libsquashfuse's headers bring their own config.h, which sets
 * FUSE_USE_VERSION to 32. This file uses the API of libfuse 3.12 and
 * later, so it includes the library first and then chooses the FUSE API. */
#define _GNU_SOURCE 1

#include <squashfuse/squashfuse.h>

#undef FUSE_USE_VERSION
#define FUSE_USE_VERSION 312
#include <fuse3/fuse_lowlevel.h>

#include "server.h"
#include "blockcache.h"
#include "squashfs.h"
#include "log.h"

#include <errno.h>
#include <float.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

/* The image never changes while it is mounted, so the kernel may keep
 * names, attributes and pages for as long as the mount lives. */
#define FOREVER DBL_MAX

/* Files up to this size are sent whole into the kernel's page cache when
 * their first read does not cover them (see push_file). */
#define PUSH_MAX_SIZE (8u << 20)
#define PUSH_CHUNK (1u << 20)

/* Extended attributes: a prefix ("security.", at most 9 bytes) and a
 * 16-bit name length, and values as large as Linux allows (XATTR_SIZE_MAX). */
#define XATTR_NAME_ROOM (65535 + 16)
#define XATTR_VALUE_MAX 65536

/* Data blocks each worker keeps decompressed. The library keeps one,
 * which makes reads that straddle two blocks decompress both each time. */
#define DATA_CACHE_BLOCKS 8

struct worker {
	sqfs fs;
	struct server *server;
	pthread_t thread;
	char *buffer;
	size_t buffer_size;
	/* Written by the worker, read by server_get_stats. */
	uint64_t requests;
	uint64_t bytes;
	uint64_t cached;	/* data blocks read from the block cache */
	uint64_t decompressed;	/* data blocks decompressed */
	uint64_t metadata_cached;
	uint64_t metadata_decompressed;
	uint64_t pushed_bytes;
	double exit_cpu;	/* CPU time at exit, once exited is set */
	bool exited;
	struct worker *next;
};

struct server {
	int image_fd;
	char *path;
	unsigned threads;
	sqfs_inode_id root;
	bool xattrs;		/* the image has an xattr table */
	bool no_open;		/* the kernel skips OPEN after an ENOSYS reply */
	bool no_opendir;
	struct fuse_session *session;
	unsigned started;	/* threads of the pool, changed atomically */
	unsigned idle;		/* threads waiting for a request */
	pthread_key_t key;
	pthread_mutex_t lock;	/* guards workers, each worker's exited and pushed */
	struct worker *workers;
	bool init_failed;	/* a worker could not open the image: log once */
	struct block_cache *cache;	/* or NULL */
	bool push;		/* send small files whole to the page cache */
	unsigned pushing;	/* workers sending now */
	/* The nodes already sent whole: an open-addressed set of node ids,
	 * guarded by lock. */
	fuse_ino_t *pushed;
	size_t pushed_size, pushed_count;
};

/* The worker of the calling thread, or NULL in a thread that serves no
 * image, such as the launcher's main thread. */
static __thread struct worker *current_worker;

/* Return the block at image position POS, of at most CAPACITY bytes, from
 * the block cache as a new sqfs_block, with the value stored beside it in
 * *EXTRA. Return NULL when the block is not there whole and intact. */
static sqfs_block *shared_block(struct block_cache *cache, uint64_t pos, size_t capacity, uint32_t *extra)
{
	sqfs_block *block = malloc(sizeof(*block));

	if (!block)
		return NULL;
	block->data = malloc(capacity);
	if (!block->data || !block_cache_read_block(cache, pos, block->data, capacity, &block->size, extra)) {
		free(block->data);
		free(block);
		return NULL;
	}
	return block;
}

/*
 * Metadata blocks (inodes, directories) through the block cache.
 *
 * libsquashfuse reads every metadata block through this public function
 * of its own, and calls it through the dynamic linker, so this definition
 * takes its place for the library's calls too (symbol interposition). It
 * keeps the library's behaviour, a per-handle cache of recent blocks, and
 * adds the block cache of other launches in between that cache and
 * decompression, because inode and directory lookups otherwise decompress
 * the same metadata at every launch.
 * NOTE: should a libsquashfuse build bind its calls internally, this
 * function is bypassed: the server stays correct, only without sharing.
 */
sqfs_err sqfs_md_cache(sqfs *fs, sqfs_off_t *pos, sqfs_block **block)
{
	struct worker *worker = current_worker;
	struct block_cache *cache = worker ? worker->server->cache : NULL;
	sqfs_block_cache_entry *entry = sqfs_cache_get(&fs->md_cache, (sqfs_cache_idx)*pos);

	if (!entry) {
		sqfs_block *found = NULL;
		uint32_t stored = 0;

		entry = sqfs_cache_add(&fs->md_cache, (sqfs_cache_idx)*pos);
		/* EXTRA is the block's length on disk, header included. */
		if (cache)
			found = shared_block(cache, (uint64_t)*pos, SQUASHFS_METADATA_SIZE, &stored);
		if (found && stored > 2 && stored <= SQUASHFS_METADATA_SIZE + 2) {
			entry->block = found;
			entry->data_size = stored;
			__atomic_add_fetch(&worker->metadata_cached, 1, __ATOMIC_RELAXED);
		} else {
			if (found)
				sqfs_block_dispose(found);
			if (sqfs_md_block_read(fs, *pos, &entry->data_size, &entry->block) != SQFS_OK) {
				sqfs_cache_invalidate(&fs->md_cache, (sqfs_cache_idx)*pos);
				return SQFS_ERR;
			}
			if (worker) {
				__atomic_add_fetch(&worker->metadata_decompressed, 1, __ATOMIC_RELAXED);
				if (cache)
					block_cache_store(cache, (uint64_t)*pos, entry->block->data, entry->block->size,
							  (uint32_t)entry->data_size);
			}
		}
	}
	*block = entry->block;
	*pos += (sqfs_off_t)entry->data_size;
	return SQFS_OK;
}

unsigned server_default_threads(void)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	/* Decompression is bound by CPU. Threads beyond the CPUs help only
	 * while requests wait for the image's storage, so allow a few. */
	if (cpus < 2)
		return 4;
	if (cpus > 8)
		return 16;
	return (unsigned)cpus * 2;
}

static double thread_cpu(clockid_t clock)
{
	struct timespec ts;

	if (clock_gettime(clock, &ts) < 0)
		return 0;
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void worker_exit(void *arg)
{
	struct worker *worker = arg;
	struct server *server = worker->server;

	/* This runs in the exiting worker, under the lock, so that
	 * server_get_stats() never reads the clock of a thread that is gone. */
	pthread_mutex_lock(&server->lock);
	worker->exit_cpu = thread_cpu(CLOCK_THREAD_CPUTIME_ID);
	worker->exited = true;
	pthread_mutex_unlock(&server->lock);
	current_worker = NULL;
	/* NOTE: the worker stays on the list for its counts; its handle is
	 * freed, since nothing uses it any more. */
	sqfs_destroy(&worker->fs);
	free(worker->buffer);
	worker->buffer = NULL;
}

/* The calling worker thread's handle on the image, opened on first use. */
static struct worker *worker_get(fuse_req_t req)
{
	struct server *server = fuse_req_userdata(req);
	struct worker *worker = pthread_getspecific(server->key);
	sqfs_err rc;

	if (worker)
		return worker;
	worker = calloc(1, sizeof(*worker));
	if (!worker)
		return NULL;
	rc = sqfs_init(&worker->fs, server->image_fd, 0);
	if (rc == SQFS_OK) {
		sqfs_cache_destroy(&worker->fs.data_cache);
		rc = sqfs_block_cache_init(&worker->fs.data_cache, DATA_CACHE_BLOCKS);
		if (rc != SQFS_OK)
			sqfs_destroy(&worker->fs);
	}
	if (rc != SQFS_OK) {
		/* NOTE: a failed sqfs_init() leaves partly built state that
		 * sqfs_destroy() can crash on, so it is leaked. The image was
		 * read the same way before mounting, so this takes a changed
		 * image file or no memory. */
		pthread_mutex_lock(&server->lock);
		if (!server->init_failed)
			log_msg(LOG_INFO, "image server: a worker failed to open image '%s' (libsquashfuse error %d), so its requests fail with EIO",
				server->path, (int)rc);
		server->init_failed = true;
		pthread_mutex_unlock(&server->lock);
		free(worker);
		return NULL;
	}
	worker->server = server;
	worker->thread = pthread_self();
	pthread_mutex_lock(&server->lock);
	worker->next = server->workers;
	server->workers = worker;
	pthread_mutex_unlock(&server->lock);
	pthread_setspecific(server->key, worker);
	current_worker = worker;
	return worker;
}

/* FUSE node ids from SquashFS inode ids: the root is node 1, as FUSE
 * requires, and every other inode id is shifted past it. An inode id is
 * 48 bits (block and offset in the inode table), so no two collide. */
static fuse_ino_t node_of(const struct server *server, sqfs_inode_id id)
{
	return id == server->root ? FUSE_ROOT_ID : (fuse_ino_t)id + 2;
}

static sqfs_inode_id inode_of(const struct server *server, fuse_ino_t node)
{
	return node == FUSE_ROOT_ID ? server->root : (sqfs_inode_id)(node - 2);
}

/* Start a request: the worker's handle and the inode of NODE. On failure
 * reply with an error and return NULL. */
static struct worker *begin(fuse_req_t req, fuse_ino_t node, sqfs_inode *inode)
{
	struct worker *worker = worker_get(req);

	if (!worker) {
		fuse_reply_err(req, EIO);
		return NULL;
	}
	__atomic_add_fetch(&worker->requests, 1, __ATOMIC_RELAXED);
	if (node < FUSE_ROOT_ID || sqfs_inode_get(&worker->fs, inode, inode_of(worker->server, node)) != SQFS_OK) {
		fuse_reply_err(req, EIO);
		return NULL;
	}
	return worker;
}

/* Fill ST with the attributes of INODE. sqfs_inode_get() has already put
 * the file type bits into base.mode. */
static int fill_stat(sqfs *fs, const sqfs_inode *inode, struct stat *st)
{
	sqfs_id_t uid, gid;

	memset(st, 0, sizeof(*st));
	st->st_mode = inode->base.mode;
	st->st_nlink = (nlink_t)inode->nlink;
	st->st_ino = inode->base.inode_number;
	st->st_mtime = st->st_ctime = st->st_atime = inode->base.mtime;
	st->st_blksize = (blksize_t)fs->sb.block_size;
	switch (st->st_mode & S_IFMT) {
	case S_IFREG:
		st->st_size = (off_t)inode->xtra.reg.file_size;
		break;
	case S_IFLNK:
		st->st_size = (off_t)inode->xtra.symlink_size;
		break;
	case S_IFDIR:
		st->st_size = (off_t)inode->xtra.dir.dir_size;
		break;
	case S_IFBLK:
	case S_IFCHR:
		st->st_rdev = makedev((unsigned)inode->xtra.dev.major, (unsigned)inode->xtra.dev.minor);
		break;
	}
	st->st_blocks = (st->st_size + 511) / 512;
	if (sqfs_id_get(fs, inode->base.uid, &uid) != SQFS_OK ||
	    sqfs_id_get(fs, inode->base.guid, &gid) != SQFS_OK)
		return -1;
	st->st_uid = uid;
	st->st_gid = gid;
	return 0;
}

static void op_init(void *userdata, struct fuse_conn_info *conn)
{
	struct server *server = userdata;

	server->no_open = conn->capable & FUSE_CAP_NO_OPEN_SUPPORT;
	/* Stores need protocol 7.15. With one thread, sending a file ahead
	 * would only delay the next request. */
	server->push = (conn->proto_major > 7 || (conn->proto_major == 7 && conn->proto_minor >= 15)) &&
		server->threads > 1;
	server->no_opendir = conn->capable & FUSE_CAP_NO_OPENDIR_SUPPORT;
	if (conn->capable & FUSE_CAP_CACHE_SYMLINKS)
		conn->want |= FUSE_CAP_CACHE_SYMLINKS;
	/* Nothing changes behind the kernel's back, so it need not compare
	 * modification times to drop cached pages. */
	conn->want &= ~FUSE_CAP_AUTO_INVAL_DATA;
	conn->max_readahead = UINT32_MAX;
	log_trace("FUSE connection ready: max_readahead %u, zero-message open %s, opendir %s",
		  conn->max_readahead, server->no_open ? "yes" : "no", server->no_opendir ? "yes" : "no");
}

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fuse_entry_param entry = { .attr_timeout = FOREVER, .entry_timeout = FOREVER };
	sqfs_inode dir, inode;
	struct worker *worker = begin(req, parent, &dir);
	sqfs_inode_id id;
	int found;

	if (!worker)
		return;
	if (!S_ISDIR(dir.base.mode)) {
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	found = squashfs_dir_lookup(&worker->fs, &dir, name, strlen(name), &id);
	if (found < 0) {
		fuse_reply_err(req, EIO);
		return;
	}
	/* Node 0 with a timeout caches the name as missing. */
	if (found) {
		if (sqfs_inode_get(&worker->fs, &inode, id) != SQFS_OK ||
		    fill_stat(&worker->fs, &inode, &entry.attr) < 0) {
			fuse_reply_err(req, EIO);
			return;
		}
		entry.ino = node_of(worker->server, id);
	}
	fuse_reply_entry(req, &entry);
}

static void op_getattr(fuse_req_t req, fuse_ino_t node, struct fuse_file_info *fi)
{
	struct stat st;
	sqfs_inode inode;
	struct worker *worker = begin(req, node, &inode);

	(void)fi;
	if (!worker)
		return;
	if (fill_stat(&worker->fs, &inode, &st) < 0)
		fuse_reply_err(req, EIO);
	else
		fuse_reply_attr(req, &st, FOREVER);
}

static void op_readlink(fuse_req_t req, fuse_ino_t node)
{
	sqfs_inode inode;
	struct worker *worker = begin(req, node, &inode);
	char *target;
	size_t size;

	if (!worker)
		return;
	if (!S_ISLNK(inode.base.mode)) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	size = inode.xtra.symlink_size + 1;
	target = malloc(size);
	if (!target) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	if (sqfs_readlink(&worker->fs, &inode, target, &size) != SQFS_OK)
		fuse_reply_err(req, EIO);
	else
		fuse_reply_readlink(req, target);
	free(target);
}

static void op_open(fuse_req_t req, fuse_ino_t node, struct fuse_file_info *fi)
{
	struct server *server = fuse_req_userdata(req);

	(void)node;
	/* Where the kernel supports it, ENOSYS makes it stop sending OPEN,
	 * and it then keeps cached pages as with keep_cache. */
	if (server->no_open) {
		fuse_reply_err(req, ENOSYS);
		return;
	}
	fi->keep_cache = 1;
	fuse_reply_open(req, fi);
}

static void op_opendir(fuse_req_t req, fuse_ino_t node, struct fuse_file_info *fi)
{
	struct server *server = fuse_req_userdata(req);

	(void)node;
	if (server->no_opendir) {
		fuse_reply_err(req, ENOSYS);
		return;
	}
	fi->keep_cache = 1;
	fi->cache_readdir = 1;
	fuse_reply_open(req, fi);
}

/* The worker's buffer, at least SIZE bytes. */
static char *worker_buffer(struct worker *worker, size_t size)
{
	if (worker->buffer_size < size) {
		char *buffer = realloc(worker->buffer, size);

		if (!buffer)
			return NULL;
		worker->buffer = buffer;
		worker->buffer_size = size;
	}
	return worker->buffer;
}

/* Copy LENGTH bytes at OFFSET of the decompressed block at image position
 * POS (HEADER gives its stored size and compression) into OUT: from the
 * worker's own cache, else the block cache, else by decompressing it. */
static int copy_block(struct worker *worker, uint64_t pos, uint32_t header, bool fragment,
		      size_t offset, size_t length, char *out)
{
	sqfs *fs = &worker->fs;
	sqfs_cache *own = fragment ? &fs->frag_cache : &fs->data_cache;
	struct block_cache *cache = worker->server->cache;
	sqfs_block_cache_entry *entry = sqfs_cache_get(own, pos);
	sqfs_block *block = NULL;
	uint32_t unused;

	if (entry) {
		block = entry->block;
	} else if (cache && (block = shared_block(cache, pos, fs->sb.block_size, &unused))) {
		/* Kept in the worker's cache too, so that the next small read
		 * of the block, as of a file in a fragment, costs a copy. */
		entry = sqfs_cache_add(own, pos);
		entry->block = block;
		entry->data_size = 0;
		__atomic_add_fetch(&worker->cached, 1, __ATOMIC_RELAXED);
	} else {
		if (sqfs_data_cache(fs, own, (sqfs_off_t)pos, header, &block) != SQFS_OK)
			return -1;
		__atomic_add_fetch(&worker->decompressed, 1, __ATOMIC_RELAXED);
		if (cache)
			block_cache_store(cache, pos, block->data, block->size, 0);
	}
	/* The size comes from the image, so a corrupt one is caught here. */
	if (offset > block->size || length > block->size - offset)
		return -1;
	memcpy(out, (char *)block->data + offset, length);
	return 0;
}

/* Read LENGTH bytes from START of the regular file INODE into OUT, which
 * the caller has clamped to the file. Return 0 or -1. This follows the
 * layout that libsquashfuse's sqfs_read_range() reads, with copy_block()
 * in place of its single cache. */
static int read_range(struct worker *worker, sqfs_inode *inode, uint64_t start, size_t length, char *out)
{
	sqfs *fs = &worker->fs;
	uint64_t file_size = inode->xtra.reg.file_size;
	size_t block_size = fs->sb.block_size, in_block = (size_t)(start % block_size), done = 0;
	sqfs_blocklist list;

	if (sqfs_blockidx_blocklist(fs, inode, &list, (sqfs_off_t)start) != SQFS_OK)
		return -1;
	while (done < length) {
		bool fragment = list.remain == 0, hole = false;
		size_t offset = 0, size, take;
		uint64_t pos;
		uint32_t header;

		if (fragment) {
			struct squashfs_fragment_entry entry;

			/* A file without a fragment ends with its last block. */
			if (inode->xtra.reg.frag_idx == SQUASHFS_INVALID_FRAG ||
			    sqfs_frag_entry(fs, &entry, inode->xtra.reg.frag_idx) != SQFS_OK)
				return -1;
			pos = entry.start_block;
			header = entry.size;
			offset = inode->xtra.reg.frag_off;
			size = (size_t)(file_size % block_size);
		} else {
			if (sqfs_blocklist_next(&list) != SQFS_OK)
				return -1;
			if (list.pos + block_size <= start)
				continue;
			pos = list.block;
			header = list.header;
			hole = list.input_size == 0;
			size = file_size - list.pos < block_size ? (size_t)(file_size - list.pos) : block_size;
		}
		if (in_block >= size)
			return -1;
		take = size - in_block;
		if (take > length - done)
			take = length - done;
		if (hole)
			memset(out + done, 0, take);
		else if (copy_block(worker, pos, header, fragment, offset + in_block, take, out + done) < 0)
			return -1;
		done += take;
		in_block = 0;
		if (fragment)
			break;
	}
	return done == length ? 0 : -1;
}

/* Add NODE to the set of nodes sent whole. Return false when it was
 * there already or the set cannot grow. */
static bool mark_pushed(struct server *server, fuse_ino_t node)
{
	bool added = false;

	pthread_mutex_lock(&server->lock);
	if (server->pushed_count * 2 >= server->pushed_size) {
		size_t size = server->pushed_size ? server->pushed_size * 2 : 1024;
		fuse_ino_t *set = calloc(size, sizeof(*set));

		if (set) {
			for (size_t i = 0; i < server->pushed_size; i++) {
				size_t j;

				if (!server->pushed[i])
					continue;
				for (j = server->pushed[i] % size; set[j]; j = (j + 1) % size)
					;
				set[j] = server->pushed[i];
			}
			free(server->pushed);
			server->pushed = set;
			server->pushed_size = size;
		}
	}
	if (server->pushed_count * 2 < server->pushed_size) {
		size_t j;

		for (j = node % server->pushed_size; server->pushed[j] && server->pushed[j] != node;
		     j = (j + 1) % server->pushed_size)
			;
		if (!server->pushed[j]) {
			server->pushed[j] = node;
			server->pushed_count++;
			added = true;
		}
	}
	pthread_mutex_unlock(&server->lock);
	return added;
}

/* Return whether the regular file INODE is an ELF file (a program or a
 * library), which programs map rather than read. DATA contains LENGTH
 * bytes from OFFSET of the file. */
static bool is_program(struct worker *worker, sqfs_inode *inode, off_t offset, const char *data, size_t length)
{
	static const char magic[4] = { 0x7f, 'E', 'L', 'F' };
	char start[4];

	if (inode->xtra.reg.file_size < sizeof(magic))
		return false;
	if (offset == 0 && length >= sizeof(magic))
		return memcmp(data, magic, sizeof(magic)) == 0;
	return read_range(worker, inode, 0, sizeof(start), start) == 0 && memcmp(start, magic, sizeof(magic)) == 0;
}

/* Send the regular file INODE (NODE) into the kernel's page cache, except
 * the range DONE_START to DONE_END just read. A program that maps a binary
 * faults its pages in one at a time, and each fault is a read request of
 * at most the readahead window (128 KiB for FUSE). Sending the file in a
 * few large messages saves those round trips while the program goes on. */
static void push_file(struct worker *worker, fuse_ino_t node, sqfs_inode *inode, uint64_t done_start,
		      uint64_t done_end)
{
	uint64_t size = inode->xtra.reg.file_size;
	struct fuse_bufvec data = FUSE_BUFVEC_INIT(0);
	char *buffer = worker_buffer(worker, PUSH_CHUNK);

	if (!buffer)
		return;
	for (uint64_t offset = 0; offset < size;) {
		uint64_t end = offset + PUSH_CHUNK < size ? offset + PUSH_CHUNK : size;

		/* Skip what the read that started the push returned. */
		if (offset >= done_start && offset < done_end) {
			offset = done_end;
			continue;
		}
		if (end > done_start && offset < done_start)
			end = done_start;
		if (read_range(worker, inode, offset, (size_t)(end - offset), buffer) < 0)
			return;
		data.buf[0].mem = buffer;
		data.buf[0].size = (size_t)(end - offset);
		/* An error means that the kernel dropped the inode or rejects
		 * stores, so the program reads what it needs itself. */
		if (fuse_lowlevel_notify_store(worker->server->session, node, (off_t)offset, &data, 0) != 0)
			return;
		__atomic_add_fetch(&worker->pushed_bytes, end - offset, __ATOMIC_RELAXED);
		offset = end;
	}
}

static int spawn_thread(struct server *server);

static void op_read(fuse_req_t req, fuse_ino_t node, size_t size, off_t offset,
		    struct fuse_file_info *fi)
{
	sqfs_inode inode;
	struct worker *worker = begin(req, node, &inode);
	size_t length;
	char *buffer;

	(void)fi;
	if (!worker)
		return;
	if (!S_ISREG(inode.base.mode)) {
		fuse_reply_err(req, EISDIR);
		return;
	}
	if (offset < 0 || (uint64_t)offset >= inode.xtra.reg.file_size) {
		fuse_reply_buf(req, NULL, 0);
		return;
	}
	length = size;
	if ((uint64_t)length > inode.xtra.reg.file_size - (uint64_t)offset)
		length = (size_t)(inode.xtra.reg.file_size - (uint64_t)offset);
	buffer = worker_buffer(worker, length);
	if (!buffer) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	if (read_range(worker, &inode, (uint64_t)offset, length, buffer) < 0) {
		fuse_reply_err(req, EIO);
		return;
	}
	__atomic_add_fetch(&worker->bytes, (uint64_t)length, __ATOMIC_RELAXED);
	fuse_reply_buf(req, buffer, length);
	if (worker->server->push && inode.xtra.reg.file_size <= PUSH_MAX_SIZE &&
	    (offset > 0 || length < inode.xtra.reg.file_size)) {
		struct server *server = worker->server;

		/* A store waits for pages that pending read requests keep
		 * locked, so a thread that sends nothing must exist to serve
		 * those reads: start one if needed, and send only while fewer
		 * threads send than have started. */
		unsigned pushers = __atomic_add_fetch(&server->pushing, 1, __ATOMIC_ACQ_REL);

		if (is_program(worker, &inode, offset, buffer, length)) {
			if (pushers >= __atomic_load_n(&server->started, __ATOMIC_ACQUIRE))
				spawn_thread(server);
			if (pushers < __atomic_load_n(&server->started, __ATOMIC_ACQUIRE) && mark_pushed(server, node))
				push_file(worker, node, &inode, (uint64_t)offset, (uint64_t)offset + length);
		}
		__atomic_sub_fetch(&server->pushing, 1, __ATOMIC_ACQ_REL);
	}
}

/* Fill a readdir (PLUS false) or readdirplus reply of at most SIZE bytes
 * from OFFSET in the directory NODE. */
static void read_directory(fuse_req_t req, fuse_ino_t node, size_t size, off_t offset, bool plus)
{
	sqfs_inode inode;
	struct worker *worker = begin(req, node, &inode);
	sqfs_dir dir;
	sqfs_dir_entry entry;
	sqfs_err rc = SQFS_OK;
	size_t used = 0;
	char *buffer;

	if (!worker)
		return;
	if (!S_ISDIR(inode.base.mode)) {
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	buffer = worker_buffer(worker, size);
	if (!buffer) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	/* The offset of an entry is where the next one starts, so a listing
	 * that did not fit goes on from there in the next request. */
	if (sqfs_dir_open(&worker->fs, &inode, &dir, offset) != SQFS_OK) {
		fuse_reply_err(req, EIO);
		return;
	}
	squashfs_entry_init(&entry);
	while (sqfs_dir_next(&worker->fs, &dir, &entry, &rc)) {
		off_t next = sqfs_dentry_next_offset(&entry);
		size_t n;

		if (!squashfs_entry_valid(&entry)) {
			rc = SQFS_ERR;
			break;
		}
		if (plus) {
			/* With the attributes, the kernel keeps a name for each
			 * entry, so a stat after the listing needs no lookup. */
			struct fuse_entry_param param = { .attr_timeout = FOREVER, .entry_timeout = FOREVER };
			sqfs_inode_id id = sqfs_dentry_inode(&entry);
			sqfs_inode child;

			if (sqfs_inode_get(&worker->fs, &child, id) != SQFS_OK ||
			    fill_stat(&worker->fs, &child, &param.attr) < 0) {
				rc = SQFS_ERR;
				break;
			}
			param.ino = node_of(worker->server, id);
			n = fuse_add_direntry_plus(req, buffer + used, size - used, sqfs_dentry_name(&entry), &param, next);
		} else {
			struct stat st = {
				.st_ino = sqfs_dentry_inode_num(&entry),
				.st_mode = sqfs_dentry_mode(&entry),
			};

			n = fuse_add_direntry(req, buffer + used, size - used, sqfs_dentry_name(&entry), &st, next);
		}
		if (n > size - used)
			break;
		used += n;
	}
	/* Entries before a corrupt one are listed. The next request, which
	 * starts at the corrupt entry, fails. */
	if (rc != SQFS_OK && used == 0)
		fuse_reply_err(req, EIO);
	else
		fuse_reply_buf(req, buffer, used);
}

static void op_readdir(fuse_req_t req, fuse_ino_t node, size_t size, off_t offset,
		       struct fuse_file_info *fi)
{
	(void)fi;
	read_directory(req, node, size, offset, false);
}

static void op_readdirplus(fuse_req_t req, fuse_ino_t node, size_t size, off_t offset,
			   struct fuse_file_info *fi)
{
	(void)fi;
	read_directory(req, node, size, offset, true);
}

static void op_statfs(fuse_req_t req, fuse_ino_t node)
{
	struct worker *worker = worker_get(req);
	struct statvfs st;

	(void)node;
	if (!worker) {
		fuse_reply_err(req, EIO);
		return;
	}
	memset(&st, 0, sizeof(st));
	st.f_bsize = st.f_frsize = worker->fs.sb.block_size;
	st.f_blocks = (worker->fs.sb.bytes_used + st.f_bsize - 1) / st.f_bsize;
	st.f_files = worker->fs.sb.inodes;
	st.f_namemax = SQUASHFS_NAME_LEN;
	st.f_flag = ST_RDONLY;
	fuse_reply_statfs(req, &st);
}

static void op_getxattr(fuse_req_t req, fuse_ino_t node, const char *name, size_t size)
{
	struct server *server = fuse_req_userdata(req);
	sqfs_inode inode;
	struct worker *worker;
	sqfs_xattr xattr;
	size_t length = strlen(name);
	char *found;

	/* After ENOSYS the kernel fails every later xattr call itself, which
	 * saves a request for security.capability at each exec. */
	if (!server->xattrs) {
		fuse_reply_err(req, ENOSYS);
		return;
	}
	worker = begin(req, node, &inode);
	if (!worker)
		return;
	/* Not sqfs_xattr_lookup(): it copies names of the image into a
	 * buffer sized for the requested name. */
	if (sqfs_xattr_open(&worker->fs, &inode, &xattr) != SQFS_OK) {
		fuse_reply_err(req, EIO);
		return;
	}
	found = worker_buffer(worker, XATTR_NAME_ROOM);
	if (!found) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	while (xattr.remain > 0) {
		size_t name_size, value_size;

		if (sqfs_xattr_read(&xattr) != SQFS_OK || (name_size = sqfs_xattr_name_size(&xattr)) >= XATTR_NAME_ROOM ||
		    sqfs_xattr_name(&xattr, found, true) != SQFS_OK) {
			fuse_reply_err(req, EIO);
			return;
		}
		if (name_size != length || memcmp(found, name, length) != 0)
			continue;
		if (sqfs_xattr_value_size(&xattr, &value_size) != SQFS_OK || value_size > XATTR_VALUE_MAX) {
			fuse_reply_err(req, EIO);
			return;
		}
		if (size == 0) {
			fuse_reply_xattr(req, value_size);
		} else if (value_size > size) {
			fuse_reply_err(req, ERANGE);
		} else {
			char *value = worker_buffer(worker, value_size + 1);

			if (!value)
				fuse_reply_err(req, ENOMEM);
			else if (sqfs_xattr_value(&xattr, value) != SQFS_OK)
				fuse_reply_err(req, EIO);
			else
				fuse_reply_buf(req, value, value_size);
		}
		return;
	}
	fuse_reply_err(req, ENODATA);
}

static void op_listxattr(fuse_req_t req, fuse_ino_t node, size_t size)
{
	struct server *server = fuse_req_userdata(req);
	sqfs_inode inode;
	struct worker *worker;
	sqfs_xattr xattr;
	size_t used = 0;
	char *names = NULL;

	if (!server->xattrs) {
		fuse_reply_err(req, ENOSYS);
		return;
	}
	worker = begin(req, node, &inode);
	if (!worker)
		return;
	if (size > 0 && !(names = worker_buffer(worker, size))) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	if (sqfs_xattr_open(&worker->fs, &inode, &xattr) != SQFS_OK) {
		fuse_reply_err(req, EIO);
		return;
	}
	/* The list is "prefix.name\0" for each attribute. */
	while (xattr.remain > 0) {
		size_t n;

		if (sqfs_xattr_read(&xattr) != SQFS_OK) {
			fuse_reply_err(req, EIO);
			return;
		}
		n = sqfs_xattr_name_size(&xattr);
		if (n >= XATTR_NAME_ROOM) {
			fuse_reply_err(req, EIO);
			return;
		}
		if (names) {
			if (used + n + 1 > size) {
				fuse_reply_err(req, ERANGE);
				return;
			}
			if (sqfs_xattr_name(&xattr, names + used, true) != SQFS_OK) {
				fuse_reply_err(req, EIO);
				return;
			}
			names[used + n] = '\0';
		}
		used += n + 1;
	}
	if (names)
		fuse_reply_buf(req, names, used);
	else
		fuse_reply_xattr(req, used);
}

static const struct fuse_lowlevel_ops operations = {
	.init = op_init,
	.lookup = op_lookup,
	.getattr = op_getattr,
	.readlink = op_readlink,
	.open = op_open,
	.read = op_read,
	.opendir = op_opendir,
	.readdir = op_readdir,
	.readdirplus = op_readdirplus,
	.statfs = op_statfs,
	.getxattr = op_getxattr,
	.listxattr = op_listxattr,
};

/* A thread of the pool: receive a request and process it, and start
 * another thread when requests wait for one.
 * The pool is launch's own rather than fuse_session_loop_mt(), which
 * cancels its threads when the mount goes away: glibc then needs to load
 * libgcc_s, which the staging root the launcher lives in does not have.
 * These threads end when the mount is gone, or with the process. */
static void *serve(void *arg)
{
	struct server *server = arg;
	struct fuse_buf buffer = { .mem = NULL };
	int fd = fuse_session_fd(server->session);
	int rc;

	for (;;) {
		struct pollfd pending = { .fd = fd, .events = POLLIN };

		/* A request already waiting when no thread is idle means the
		 * pool falls behind: one more thread, up to the limit. A single
		 * program's requests come one after the other, so it never
		 * pays for threads it cannot use. */
		if (__atomic_load_n(&server->idle, __ATOMIC_ACQUIRE) == 0 && poll(&pending, 1, 0) == 1 &&
		    (pending.revents & POLLIN))
			spawn_thread(server);
		__atomic_add_fetch(&server->idle, 1, __ATOMIC_ACQ_REL);
		rc = fuse_session_receive_buf(server->session, &buffer);
		__atomic_sub_fetch(&server->idle, 1, __ATOMIC_ACQ_REL);
		if (rc == -EINTR)
			continue;
		if (rc <= 0)
			break;
		fuse_session_process_buf(server->session, &buffer);
	}
	free(buffer.mem);
	/* The loop ends when the mount namespace, and so the mount, is gone. */
	log_trace("FUSE server thread for '%s' stopped (%d)", server->path, rc);
	return NULL;
}

/* Start one more thread of the pool unless it has SERVER->threads already.
 * Return 0, or an error number from pthread_create(). */
static int spawn_thread(struct server *server)
{
	pthread_attr_t attr;
	sigset_t all, old;
	pthread_t thread;
	int rc;

	unsigned started = __atomic_load_n(&server->started, __ATOMIC_ACQUIRE);

	do {
		if (started >= server->threads)
			return 0;
	} while (!__atomic_compare_exchange_n(&server->started, &started, started + 1, false, __ATOMIC_ACQ_REL,
					      __ATOMIC_ACQUIRE));
	/* The server's threads take no signals: they belong to the main
	 * thread, which forwards them to the command. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&thread, &attr, serve, server);
	pthread_attr_destroy(&attr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0)
		__atomic_sub_fetch(&server->started, 1, __ATOMIC_ACQ_REL);
	return rc;
}

int server_start(struct server **out, int image_fd, int fuse_fd, const char *path,
		 unsigned threads, struct block_cache *cache, struct lerror *err)
{
	char *fuse_argv[] = { (char *)"launch", NULL };
	struct fuse_args args = FUSE_ARGS_INIT(1, fuse_argv);
	struct server *server;
	char fd_path[64];
	sqfs fs;
	int rc;

	server = calloc(1, sizeof(*server));
	if (!server || !(server->path = strdup(path))) {
		free(server);
		return lerror_set(err, ENOMEM, "cannot start the FUSE server of image '%s'", path);
	}
	server->image_fd = image_fd;
	server->threads = threads;
	server->cache = cache;
	/* The caller has read the image with libsquashfuse, so this read of
	 * the superblock succeeds unless memory is short. */
	if (sqfs_init(&fs, image_fd, 0) != SQFS_OK) {
		free(server->path);
		free(server);
		return lerror_set(err, ENOMEM, "cannot start the FUSE server of image '%s'", path);
	}
	server->root = sqfs_inode_root(&fs);
	server->xattrs = fs.sb.xattr_id_table_start != (uint64_t)SQUASHFS_INVALID_BLK;
	sqfs_destroy(&fs);
	pthread_mutex_init(&server->lock, NULL);
	if ((rc = pthread_key_create(&server->key, worker_exit)) != 0) {
		free(server->path);
		free(server);
		return lerror_set(err, rc, "cannot start the FUSE server of image '%s'", path);
	}

	server->session = fuse_session_new(&args, &operations, sizeof(operations), server);
	fuse_opt_free_args(&args);
	if (!server->session)
		return lerror_set(err, 0, "cannot create the FUSE session for image '%s'", path);
	/* With "/dev/fd/N" libfuse uses the already mounted descriptor N, so
	 * it neither mounts nor calls fusermount3. */
	snprintf(fd_path, sizeof(fd_path), "/dev/fd/%d", fuse_fd);
	if (fuse_session_mount(server->session, fd_path) != 0)
		return lerror_set(err, 0, "cannot attach the FUSE session of image '%s' to %s", path, fd_path);

	rc = spawn_thread(server);
	if (rc != 0)
		return lerror_set(err, rc, "cannot start the FUSE server thread for image '%s'", path);
	log_trace("FUSE server for '%s' started with at most %u thread%s", path, threads, threads == 1 ? "" : "s");
	*out = server;
	return 0;
}

void server_get_stats(struct server *server, struct server_stats *stats)
{
	memset(stats, 0, sizeof(*stats));
	pthread_mutex_lock(&server->lock);
	for (struct worker *worker = server->workers; worker; worker = worker->next) {
		uint64_t requests = __atomic_load_n(&worker->requests, __ATOMIC_RELAXED);
		clockid_t clock;

		if (requests > 0)
			stats->threads++;
		stats->requests += requests;
		stats->bytes += __atomic_load_n(&worker->bytes, __ATOMIC_RELAXED);
		stats->cached += __atomic_load_n(&worker->cached, __ATOMIC_RELAXED);
		stats->decompressed += __atomic_load_n(&worker->decompressed, __ATOMIC_RELAXED);
		stats->metadata_cached += __atomic_load_n(&worker->metadata_cached, __ATOMIC_RELAXED);
		stats->metadata_decompressed += __atomic_load_n(&worker->metadata_decompressed, __ATOMIC_RELAXED);
		stats->pushed_bytes += __atomic_load_n(&worker->pushed_bytes, __ATOMIC_RELAXED);
		if (worker->exited)
			stats->cpu_seconds += worker->exit_cpu;
		else if (pthread_getcpuclockid(worker->thread, &clock) == 0)
			stats->cpu_seconds += thread_cpu(clock);
	}
	pthread_mutex_unlock(&server->lock);
}
