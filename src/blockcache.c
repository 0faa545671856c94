#include "config.h"

#include "blockcache.h"
#include "log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#define CACHE_MAGIC "launch-blocks\n"
#define CACHE_VERSION 3
#define HEADER_SIZE 4096
#define SUPERBLOCK_SIZE 96
/* Slots tried from a block's hash before it is left uncached. */
#define PROBES 32
#define GIB (UINT64_C(1) << 30)

/* Identifies the image: the same file, unchanged. */
struct identity {
	uint64_t dev;
	uint64_t ino;
	uint64_t size;
	int64_t mtime_sec;
	int64_t mtime_nsec;
	unsigned char superblock[SUPERBLOCK_SIZE];
};

struct header {
	char magic[16];
	uint32_t version;
	uint32_t slot_size;
	uint64_t slots;
	struct identity image;
};

/* A slot names the image position of its block plus one (0: free), and
 * is ready once its data are written. EXTRA belongs to the caller. SUM is
 * the checksum of the data, which catches a damaged file. */
struct slot {
	uint64_t tag;
	uint32_t ready;
	uint32_t size;
	uint32_t extra;
	uint32_t unused;
	uint64_t sum;
};

struct block_cache {
	int fd;
	char *path;
	uint32_t slot_size;
	uint64_t slots;
	struct slot *table;
	size_t table_size;	/* the mapped part: header and table */
	uint64_t damaged;	/* blocks whose checksum did not match */
};

uint64_t block_cache_default_size(void)
{
	long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
	uint64_t eighth;

	if (pages <= 0 || page <= 0)
		return GIB;
	eighth = (uint64_t)pages * (uint64_t)page / 8;
	return eighth < GIB ? eighth : GIB;
}

static uint64_t hash_bytes(const void *data, size_t size)
{
	const unsigned char *p = data;
	uint64_t h = UINT64_C(14695981039346656037);

	/* FNV-1a: names a cache file, nothing depends on its strength. */
	for (size_t i = 0; i < size; i++) {
		h ^= p[i];
		h *= UINT64_C(1099511628211);
	}
	return h;
}

static uint64_t slot_hash(uint64_t pos)
{
	pos ^= pos >> 33;
	pos *= UINT64_C(0xff51afd7ed558ccd);
	pos ^= pos >> 33;
	return pos;
}

static uint64_t rotate(uint64_t x, unsigned bits)
{
	return (x << bits) | (x >> (64 - bits));
}

/* Return a checksum of SIZE bytes at DATA: four independent
 * multiply-rotate lanes over 8-byte words, fast enough for every block
 * read from the cache. It detects damage, but not a deliberate change by
 * someone who can write the file, who could write a matching sum too. */
static uint64_t checksum(const void *data, size_t size)
{
	const unsigned char *p = data;
	uint64_t lane[4] = { UINT64_C(0x9e3779b97f4a7c15), UINT64_C(0xc2b2ae3d27d4eb4f),
			     UINT64_C(0x165667b19e3779f9), UINT64_C(0x27d4eb2f165667c5) };
	uint64_t sum = size;
	size_t i = 0;

	for (; i + 32 <= size; i += 32) {
		for (int k = 0; k < 4; k++) {
			uint64_t word;

			memcpy(&word, p + i + 8 * k, 8);
			lane[k] = rotate(lane[k] ^ word, 29) * UINT64_C(0x9fb21c651e98df25);
		}
	}
	for (; i < size; i++)
		lane[i % 4] = rotate(lane[i % 4] ^ p[i], 17) * UINT64_C(0xff51afd7ed558ccd);
	for (int k = 0; k < 4; k++)
		sum = rotate(sum ^ lane[k], 31) * UINT64_C(0xc4ceb9fe1a85ec53);
	return sum ^ (sum >> 29);
}

static size_t round_up(size_t n, size_t to)
{
	return (n + to - 1) / to * to;
}

/* Whether the file system of FD is shared between nodes: the slot table
 * relies on atomic operations on memory shared through the page cache,
 * which such file systems do not keep coherent across nodes. */
static bool network_file_system(int fd)
{
	static const unsigned long magics[] = {
		0x6969,		/* NFS */
		0xff534d42,	/* CIFS */
		0xfe534d42,	/* SMB2 */
		0x0bd00bd0,	/* Lustre */
		0x47504653,	/* GPFS */
		0x65735546,	/* FUSE */
		0x00c36400,	/* CephFS */
		0x19830326,	/* BeeGFS */
	};
	struct statfs fs;

	if (fstatfs(fd, &fs) < 0)
		return false;
	for (size_t i = 0; i < sizeof(magics) / sizeof(magics[0]); i++)
		if ((unsigned long)fs.f_type == magics[i])
			return true;
	return false;
}

/* Open DIR, creating it with mode 0700 when missing, and check that it is
 * private to the caller and local. A symbolic link is followed only when
 * FOLLOW is true, for a directory the user named. */
static int open_dir(const char *dir, bool follow, struct lerror *err)
{
	struct stat st;
	int fd;

	if (dir[0] != '/') {
		lerror_set(err, 0, "cache directory '%s' is not an absolute path", dir);
		return lerror_hint(err, "set LAUNCH_CACHE_DIR to an absolute path");
	}
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return lerror_set(err, errno, "cannot create cache directory '%s'", dir);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW));
	if (fd < 0 && !follow && (errno == ENOTDIR || errno == ELOOP) && lstat(dir, &st) == 0 && S_ISLNK(st.st_mode)) {
		lerror_set(err, 0, "cache directory '%s' is a symbolic link", dir);
		return lerror_hint(err, "remove it, or name a directory with LAUNCH_CACHE_DIR");
	}
	if (fd < 0)
		return lerror_set(err, errno, "cannot open cache directory '%s'", dir);
	if (fstat(fd, &st) < 0) {
		lerror_set(err, errno, "cannot open cache directory '%s'", dir);
		close(fd);
		return -1;
	}
	/* Anyone who could write here could change what containers read. */
	if (st.st_uid != geteuid() || (st.st_mode & 022)) {
		if (st.st_uid != geteuid())
			lerror_set(err, 0, "cache directory '%s' belongs to uid %lu, not to you", dir, (unsigned long)st.st_uid);
		else
			lerror_set(err, 0, "cache directory '%s' is writable by others", dir);
		lerror_hint(err, "use a directory that only you can write, named with LAUNCH_CACHE_DIR");
		close(fd);
		return -1;
	}
	if (network_file_system(fd)) {
		lerror_set(err, 0, "cache directory '%s' is on a network or FUSE file system", dir);
		lerror_hint(err, "name a directory on a local file system, such as /dev/shm or /tmp, with LAUNCH_CACHE_DIR");
		close(fd);
		return -1;
	}
	return fd;
}

/* Open the default cache directory: $XDG_RUNTIME_DIR/launch-cache, which
 * only the user can create, else /dev/shm/launch-cache.UID. Another user
 * can create that name first, so a few numbered variants follow it. PATH
 * receives the directory used. */
static int open_default_dir(char *path, size_t size, struct lerror *err)
{
	const char *runtime = getenv("XDG_RUNTIME_DIR");
	struct lerror first;
	struct stat st;
	int fd;

	if (runtime && runtime[0] == '/' && stat(runtime, &st) == 0 && S_ISDIR(st.st_mode) &&
	    st.st_uid == geteuid() && !(st.st_mode & 022)) {
		snprintf(path, size, "%s/launch-cache", runtime);
		fd = open_dir(path, false, err);
		if (fd >= 0)
			return fd;
	}
	lerror_clear(&first);
	for (int variant = 0; variant < 4; variant++) {
		struct lerror failure;

		lerror_clear(&failure);
		if (variant == 0)
			snprintf(path, size, "/dev/shm/launch-cache.%lu", (unsigned long)geteuid());
		else
			snprintf(path, size, "/dev/shm/launch-cache.%lu.%d", (unsigned long)geteuid(), variant);
		fd = open_dir(path, false, &failure);
		if (fd >= 0) {
			if (variant > 0) {
				char text[1024];

				lerror_format(&first, text, sizeof(text));
				log_warning("block cache in %s instead: %s", path, text);
			}
			return fd;
		}
		if (variant == 0)
			first = failure;
		/* Only a name taken by someone else, as a directory, a file or a
		 * symbolic link, is worth another try. */
		if (failure.errnum != 0 && failure.errnum != ENOTDIR && failure.errnum != ELOOP)
			break;
	}
	if (err && first.message[0])
		*err = first;
	return -1;
}

struct cache_file {
	char name[NAME_MAX + 1];
	uint64_t used;		/* bytes of storage, not the sparse size */
	time_t mtime;
};

static int by_age(const void *a, const void *b)
{
	const struct cache_file *x = a, *y = b;

	return x->mtime < y->mtime ? -1 : x->mtime > y->mtime;
}

/* Whether NAME is a cache file's, "%016x.blocks", or the temporary name
 * of one, "%016x.blocks.PID.tmp": only those are ever removed. */
static bool own_name(const char *name)
{
	return strspn(name, "0123456789abcdef") == 16 && strcmp(name + 16, ".blocks") == 0;
}

static bool own_temporary_name(const char *name)
{
	size_t digits;

	if (strspn(name, "0123456789abcdef") != 16 || strncmp(name + 16, ".blocks.", 8) != 0)
		return false;
	digits = strspn(name + 24, "0123456789");
	return digits > 0 && strcmp(name + 24 + digits, ".tmp") == 0;
}

/* Remove the least recently used cache files of DIR_FD, KEEP aside, until
 * all of them take at most BUDGET bytes of storage, and the temporary
 * files of launches that died while creating one. Files of other names
 * are left alone. */
static void prune(int dir_fd, const char *keep, uint64_t budget)
{
	struct cache_file *files = NULL;
	size_t count = 0, capacity = 0;
	uint64_t total = 0;
	struct dirent *entry;
	time_t now = time(NULL);
	int fd = dup(dir_fd);
	DIR *dir;

	if (fd < 0)
		return;
	dir = fdopendir(fd);
	if (!dir) {
		close(fd);
		return;
	}
	rewinddir(dir);
	while ((entry = readdir(dir))) {
		struct stat st;

		bool temporary = own_temporary_name(entry->d_name);

		if ((!temporary && !own_name(entry->d_name)) ||
		    fstatat(dir_fd, entry->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
			continue;
		if (temporary) {
			if (now - st.st_mtime > 60)
				unlinkat(dir_fd, entry->d_name, 0);
			continue;
		}
		total += (uint64_t)st.st_blocks * 512;
		if (strcmp(entry->d_name, keep) == 0)
			continue;
		if (count == capacity) {
			struct cache_file *grown = realloc(files, (capacity ? capacity * 2 : 16) * sizeof(*files));

			if (!grown)
				break;
			files = grown;
			capacity = capacity ? capacity * 2 : 16;
		}
		snprintf(files[count].name, sizeof(files[count].name), "%s", entry->d_name);
		files[count].used = (uint64_t)st.st_blocks * 512;
		files[count].mtime = st.st_mtime;
		count++;
	}
	closedir(dir);
	if (count > 0)
		qsort(files, count, sizeof(*files), by_age);
	for (size_t i = 0; i < count && total > budget; i++) {
		/* Launches that use the file keep it open and go on. */
		if (unlinkat(dir_fd, files[i].name, 0) == 0)
			total -= files[i].used;
	}
	free(files);
}

/* Open NAME in DIR_FD if its header matches HEADER. Return -1 otherwise. */
static int open_existing(int dir_fd, const char *name, const struct header *header, size_t total)
{
	struct header found;
	struct stat st;
	int fd = openat(dir_fd, name, O_RDWR | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
	    (uint64_t)st.st_size < total ||
	    pread(fd, &found, sizeof(found), 0) != (ssize_t)sizeof(found) ||
	    memcmp(&found, header, sizeof(found)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Create the file under a temporary name, then rename it into place, so
 * that no launch reads a half-written header. */
static int create_new(int dir_fd, const char *name, const struct header *header, size_t table_size,
		      size_t total, const char *path, struct lerror *err)
{
	char temporary[128];
	int fd, rc;

	snprintf(temporary, sizeof(temporary), "%s.%ld.tmp", name, (long)getpid());
	fd = openat(dir_fd, temporary, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return lerror_set(err, errno, "cannot create cache file '%s'", path);
	/* The table is mapped: reserve its space now, so that a full file
	 * system fails here and not as SIGBUS on a write to the mapping. */
	rc = posix_fallocate(fd, 0, (off_t)table_size);
	if (rc == 0 && ftruncate(fd, (off_t)total) < 0)
		rc = errno;
	if (rc == 0 && pwrite(fd, header, sizeof(*header), 0) != (ssize_t)sizeof(*header))
		rc = errno ? errno : EIO;
	if (rc == 0 && renameat(dir_fd, temporary, dir_fd, name) < 0)
		rc = errno;
	if (rc != 0) {
		unlinkat(dir_fd, temporary, 0);
		close(fd);
		return lerror_set(err, rc, "cannot create cache file '%s'", path);
	}
	return fd;
}

int block_cache_open(struct block_cache **out, const char *dir, int image_fd,
		     const void *superblock, uint32_t slot_size, uint64_t max_bytes,
		     struct lerror *err)
{
	struct header header;
	struct block_cache *cache;
	struct stat st;
	char name[64], default_dir[PATH_MAX], *path;
	size_t table_size, total;
	uint64_t slots;
	int dir_fd, fd;
	void *map;

	*out = NULL;
	if (slot_size == 0 || fstat(image_fd, &st) < 0)
		return lerror_set(err, errno, "cannot identify the image for its cache");
	slots = max_bytes / slot_size;
	if (slots < 8)
		slots = 8;
	memset(&header, 0, sizeof(header));
	memcpy(header.magic, CACHE_MAGIC, sizeof(CACHE_MAGIC) - 1);
	header.version = CACHE_VERSION;
	header.slot_size = slot_size;
	header.slots = slots;
	header.image.dev = st.st_dev;
	header.image.ino = st.st_ino;
	header.image.size = (uint64_t)st.st_size;
	header.image.mtime_sec = st.st_mtim.tv_sec;
	header.image.mtime_nsec = st.st_mtim.tv_nsec;
	memcpy(header.image.superblock, superblock, SUPERBLOCK_SIZE);
	table_size = round_up(HEADER_SIZE + slots * sizeof(struct slot), 4096);
	total = table_size + slots * slot_size;

	snprintf(name, sizeof(name), "%016" PRIx64 ".blocks", hash_bytes(&header, sizeof(header)));
	dir_fd = dir ? open_dir(dir, true, err) : open_default_dir(default_dir, sizeof(default_dir), err);
	if (dir_fd < 0)
		return -1;
	if (asprintf(&path, "%s/%s", dir ? dir : default_dir, name) < 0) {
		close(dir_fd);
		return lerror_set(err, ENOMEM, "cannot open the block cache");
	}
	fd = open_existing(dir_fd, name, &header, total);
	if (fd < 0) {
		/* Make room first, since the new file's table needs space. */
		prune(dir_fd, name, max_bytes);
		fd = create_new(dir_fd, name, &header, table_size, total, path, err);
	} else {
		/* The modification time records which files were used last. */
		futimens(fd, NULL);
		prune(dir_fd, name, max_bytes);
	}
	close(dir_fd);
	if (fd < 0) {
		free(path);
		return -1;
	}
	/* NOTE: the file belongs to the caller, who could truncate it under
	 * the mapping. That ends the caller's own launch with SIGBUS. */
	map = mmap(NULL, table_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	cache = calloc(1, sizeof(*cache));
	if (map == MAP_FAILED || !cache) {
		lerror_set(err, map == MAP_FAILED ? errno : ENOMEM, "cannot map cache file '%s'", path);
		if (map != MAP_FAILED)
			munmap(map, table_size);
		free(cache);
		free(path);
		close(fd);
		return -1;
	}
	cache->fd = fd;
	cache->path = path;
	cache->slot_size = slot_size;
	cache->slots = slots;
	cache->table = (struct slot *)((char *)map + HEADER_SIZE);
	cache->table_size = table_size;
	*out = cache;
	return 0;
}

static off_t slot_offset(const struct block_cache *cache, uint64_t index)
{
	return (off_t)(cache->table_size + index * cache->slot_size);
}

/* The ready slot of the block at POS, or NULL. */
static struct slot *find(struct block_cache *cache, uint64_t pos, uint64_t *index)
{
	uint64_t tag = pos + 1, first = slot_hash(pos) % cache->slots;

	for (uint64_t i = 0; i < PROBES && i < cache->slots; i++) {
		struct slot *slot = &cache->table[(first + i) % cache->slots];
		uint64_t found = __atomic_load_n(&slot->tag, __ATOMIC_ACQUIRE);

		if (found == 0)
			return NULL;
		if (found != tag)
			continue;
		if (!__atomic_load_n(&slot->ready, __ATOMIC_ACQUIRE))
			return NULL;
		*index = (first + i) % cache->slots;
		return slot;
	}
	return NULL;
}

bool block_cache_read_block(struct block_cache *cache, uint64_t pos, void *buf, size_t capacity,
			    size_t *size, uint32_t *extra)
{
	uint64_t index;
	struct slot *slot = find(cache, pos, &index);

	if (!slot)
		return false;
	uint64_t sum;

	*size = __atomic_load_n(&slot->size, __ATOMIC_RELAXED);
	*extra = __atomic_load_n(&slot->extra, __ATOMIC_RELAXED);
	sum = __atomic_load_n(&slot->sum, __ATOMIC_RELAXED);
	if (*size > capacity || pread(cache->fd, buf, *size, slot_offset(cache, index)) != (ssize_t)*size)
		return false;
	if (checksum(buf, *size) != sum) {
		__atomic_add_fetch(&cache->damaged, 1, __ATOMIC_RELAXED);
		return false;
	}
	return true;
}

void block_cache_store(struct block_cache *cache, uint64_t pos, const void *data, size_t size,
		       uint32_t extra)
{
	uint64_t tag = pos + 1, first = slot_hash(pos) % cache->slots;

	if (size == 0 || size > cache->slot_size)
		return;
	for (uint64_t i = 0; i < PROBES && i < cache->slots; i++) {
		uint64_t index = (first + i) % cache->slots;
		struct slot *slot = &cache->table[index];
		uint64_t found = 0;

		if (!__atomic_compare_exchange_n(&slot->tag, &found, tag, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
			if (found == tag)
				return;	/* held or being written by another */
			continue;
		}
		/* A failed write (a full file system) gives the slot back. */
		if (pwrite(cache->fd, data, size, slot_offset(cache, index)) != (ssize_t)size) {
			__atomic_store_n(&slot->tag, 0, __ATOMIC_RELEASE);
			return;
		}
		__atomic_store_n(&slot->size, (uint32_t)size, __ATOMIC_RELAXED);
		__atomic_store_n(&slot->extra, extra, __ATOMIC_RELAXED);
		__atomic_store_n(&slot->sum, checksum(data, size), __ATOMIC_RELAXED);
		__atomic_store_n(&slot->ready, 1, __ATOMIC_RELEASE);
		return;
	}
}

uint64_t block_cache_damaged(struct block_cache *cache)
{
	return __atomic_load_n(&cache->damaged, __ATOMIC_RELAXED);
}

const char *block_cache_path(const struct block_cache *cache)
{
	return cache->path;
}
