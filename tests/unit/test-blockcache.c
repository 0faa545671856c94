/* Unit tests of the block cache: storing and reading blocks, the checksum
 * that catches a damaged file, reopening, and pruning, which must remove
 * only the files whose names the cache makes. Each test works in a private
 * directory under $TMPDIR (or /tmp), removed at the end. */
#include "config.h"

#include "blockcache.h"
#include "tap.h"

#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define SLOT_SIZE 8192

static char base[PATH_MAX];
static int image_fd = -1;
static unsigned char superblock[96];

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	return remove(path);
}

static void write_file(const char *dir, const char *name, size_t size, time_t mtime)
{
	char path[PATH_MAX * 2];
	struct timeval times[2] = { { mtime, 0 }, { mtime, 0 } };
	char *data = calloc(1, size + 1);
	FILE *file;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	file = fopen(path, "w");
	if (!file || !data || fwrite(data, 1, size, file) != size || fclose(file) != 0 || utimes(path, times) != 0)
		bail_out("cannot write %s", path);
	free(data);
}

static bool exists(const char *dir, const char *name)
{
	char path[PATH_MAX * 2];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return access(path, F_OK) == 0;
}

static void test_store_and_read(const char *dir)
{
	struct block_cache *cache = NULL, *again = NULL;
	struct lerror err;
	char data[5000], out[SLOT_SIZE];
	size_t size = 0;
	uint32_t extra = 0;

	lerror_clear(&err);
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (char)(i * 7);
	if (!ok(block_cache_open(&cache, dir, image_fd, superblock, SLOT_SIZE, 1 << 20, &err) == 0,
		"open creates a cache in an empty private directory"))
		diag("%s", err.message);
	if (!cache)
		bail_out("no cache to test");
	ok(!block_cache_read_block(cache, 4096, out, sizeof(out), &size, &extra), "a block never stored is not found");
	block_cache_store(cache, 4096, data, sizeof(data), 42);
	ok(block_cache_read_block(cache, 4096, out, sizeof(out), &size, &extra), "a stored block is found");
	is_int((long long)size, sizeof(data), "its size is the stored size");
	is_int(extra, 42, "its extra value is the stored one");
	ok(memcmp(out, data, sizeof(data)) == 0, "its bytes are the stored bytes");
	ok(!block_cache_read_block(cache, 4096, out, 100, &size, &extra), "a buffer too small is refused");
	block_cache_store(cache, 8192, data, SLOT_SIZE + 1, 0);
	ok(!block_cache_read_block(cache, 8192, out, sizeof(out), &size, &extra), "a block larger than a slot is not stored");

	/* A second open of the same image finds the same file and blocks. */
	if (!ok(block_cache_open(&again, dir, image_fd, superblock, SLOT_SIZE, 1 << 20, &err) == 0, "a second open succeeds"))
		diag("%s", err.message);
	is_str(again ? block_cache_path(again) : "", block_cache_path(cache), "a second open uses the same file");
	ok(again && block_cache_read_block(again, 4096, out, sizeof(out), &size, &extra), "a second open reads the stored block");

	/* Damage one byte of the stored data: the checksum catches it. */
	{
		int fd = open(block_cache_path(cache), O_RDWR);
		off_t found = -1;
		char probe[sizeof(data)];
		struct stat st;

		if (fd < 0 || fstat(fd, &st) < 0)
			bail_out("cannot open the cache file");
		for (off_t at = 0; at + (off_t)sizeof(probe) <= st.st_size && found < 0; at += 4096)
			if (pread(fd, probe, sizeof(probe), at) == (ssize_t)sizeof(probe) && memcmp(probe, data, sizeof(data)) == 0)
				found = at;
		ok(found >= 0, "the block's bytes are in the cache file");
		if (found >= 0 && pwrite(fd, "X", 1, found + 100) != 1)
			bail_out("cannot damage the cache file");
		close(fd);
		ok(!block_cache_read_block(cache, 4096, out, sizeof(out), &size, &extra), "a damaged block is not returned");
		is_int((long long)block_cache_damaged(cache), 1, "the damaged block is counted");
	}
}

static void test_prune(const char *dir)
{
	struct block_cache *cache = NULL;
	struct lerror err;
	time_t old = time(NULL) - 3600;

	lerror_clear(&err);
	write_file(dir, "00000000000000aa.blocks", 300000, old - 100);
	write_file(dir, "00000000000000bb.blocks", 300000, old);
	write_file(dir, "00000000000000cc.blocks.123.tmp", 10, old);
	write_file(dir, "00000000000000dd.blocks.124.tmp", 10, time(NULL));
	write_file(dir, "results.tmp", 10, old);
	write_file(dir, "sim.blocks", 600000, old - 200);
	write_file(dir, "00000000000000AA.blocks", 600000, old - 200);
	write_file(dir, "00000000000000ee.blocks.x.tmp", 10, old);

	/* 400 kB: the oldest of the cache's own files must go, then the
	 * total of its files fits. */
	if (!ok(block_cache_open(&cache, dir, image_fd, superblock, SLOT_SIZE, 400000, &err) == 0, "open prunes and succeeds"))
		diag("%s", err.message);
	ok(!exists(dir, "00000000000000aa.blocks"), "the least recently used cache file is removed");
	ok(exists(dir, "00000000000000bb.blocks"), "a newer cache file stays once the rest fits");
	ok(!exists(dir, "00000000000000cc.blocks.123.tmp"), "an old temporary file of a dead launch is removed");
	ok(exists(dir, "00000000000000dd.blocks.124.tmp"), "a recent temporary file stays");
	ok(exists(dir, "results.tmp"), "a .tmp file of another name stays");
	ok(exists(dir, "sim.blocks"), "a .blocks file of another name stays");
	ok(exists(dir, "00000000000000AA.blocks"), "upper-case hexadecimal is not a cache name");
	ok(exists(dir, "00000000000000ee.blocks.x.tmp"), "a temporary name without a pid is not the cache's");
}

static void test_rejected_directories(const char *dir)
{
	struct block_cache *cache = NULL;
	struct lerror err;
	char path[PATH_MAX * 2];

	lerror_clear(&err);
	snprintf(path, sizeof(path), "%s/open", dir);
	if (mkdir(path, 0777) < 0 || chmod(path, 0777) < 0)
		bail_out("cannot create %s", path);
	ok(block_cache_open(&cache, path, image_fd, superblock, SLOT_SIZE, 1 << 20, &err) < 0, "a directory writable by others is refused");
	ok(strstr(err.message, "is writable by others") != NULL, "the error says it is writable by others");
	lerror_clear(&err);
	ok(block_cache_open(&cache, "relative/dir", image_fd, superblock, SLOT_SIZE, 1 << 20, &err) < 0, "a relative directory is refused");
	is_str(err.message, "cache directory 'relative/dir' is not an absolute path", "the error names the relative path");
}

int main(void)
{
	const char *tmp = getenv("TMPDIR");
	char image[PATH_MAX * 2], dir[PATH_MAX * 2];

	snprintf(base, sizeof(base), "%s/test-blockcache.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(base))
		bail_out("cannot create a directory under %s", tmp && *tmp ? tmp : "/tmp");
	/* The cache identifies an image by its file and superblock; any file
	 * does for these tests. */
	snprintf(image, sizeof(image), "%s/image", base);
	write_file(base, "image", 4096, time(NULL));
	image_fd = open(image, O_RDONLY);
	if (image_fd < 0)
		bail_out("cannot open %s", image);
	memcpy(superblock, "hsqs", 4);

	snprintf(dir, sizeof(dir), "%s/cache", base);
	test_store_and_read(dir);
	snprintf(dir, sizeof(dir), "%s/prune", base);
	if (mkdir(dir, 0700) < 0)
		bail_out("cannot create %s", dir);
	test_prune(dir);
	test_rejected_directories(base);

	close(image_fd);
	nftw(base, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	return done_testing();
}
