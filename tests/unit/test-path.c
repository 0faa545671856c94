/* Unit tests of path_normalize(), path_is_within(), path_join() and
 * path_open_in_root(). The last ones run against a directory tree built
 * under $TMPDIR (or /tmp) and removed at the end. */
#include "config.h"

#include "path.h"
#include "tap.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void test_normalize_table(void)
{
	static const struct {
		const char *input;
		const char *expected;
	} cases[] = {
		{"/", "/"},
		{"//", "/"},
		{"///a//b///", "/a/b"},
		{"/a/..", "/"},
		{"/../..", "/"},
		{"/./.", "/"},
		{"/a/./b/", "/a/b"},
		{"/a/b/..", "/a"},
		{"/a/b/../../c", "/c"},
		{"/a/b/../../../c", "/c"},
		{"/home/user", "/home/user"},
		{"/a/.../b", "/a/.../b"},
		{"/.hidden/..x/x..", "/.hidden/..x/x.."},
		{"/a b/c,d/#e", "/a b/c,d/#e"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char out[PATH_MAX];
		struct lerror err;
		int rc;

		lerror_clear(&err);
		strcpy(out, "unset");
		rc = path_normalize(cases[i].input, out, sizeof(out), &err);
		is_int(rc, 0, "path_normalize '%s' returns 0", cases[i].input);
		is_str(out, cases[i].expected, "path_normalize '%s'", cases[i].input);
	}
}

/* Check that path_normalize(INPUT) into SIZE bytes fails with the full error
 * text EXPECTED_MESSAGE and errno value EXPECTED_ERRNUM. */
static void check_normalize_error(const char *name, const char *input, size_t size,
				  const char *expected_message, int expected_errnum)
{
	char out[PATH_MAX];
	char message[2048];
	struct lerror err;

	lerror_clear(&err);
	is_int(path_normalize(input, out, size, &err), -1, "%s fails", name);
	lerror_format(&err, message, sizeof(message));
	is_str(message, expected_message, "%s message", name);
	is_int(err.errnum, expected_errnum, "%s errnum", name);
}

static void test_normalize_errors(void)
{
	char long_path[PATH_MAX + 16];
	size_t length;
	char out[PATH_MAX];
	char message[2048];
	char expected[64];
	struct lerror err;

	check_normalize_error("path_normalize empty", "", PATH_MAX,
			      "invalid path '': a path must not be empty", 0);
	check_normalize_error("path_normalize relative", "a/b", PATH_MAX,
			      "invalid path 'a/b': it must be absolute (start with '/')", 0);
	check_normalize_error("path_normalize dot", ".", PATH_MAX,
			      "invalid path '.': it must be absolute (start with '/')", 0);

	/* "/abcd" needs 6 bytes with the terminating NUL. */
	snprintf(expected, sizeof(expected), "cannot normalize path '/abcd': %s", strerror(ENAMETOOLONG));
	check_normalize_error("path_normalize one byte short", "/abcd", 5, expected, ENAMETOOLONG);
	snprintf(expected, sizeof(expected), "cannot normalize path '/': %s", strerror(ENAMETOOLONG));
	check_normalize_error("path_normalize root in 1 byte", "/", 1, expected, ENAMETOOLONG);

	/* A path longer than PATH_MAX made of 99-byte components. The message
	 * field of struct lerror has 1024 bytes, so only the start of the path
	 * and the strerror text are compared. */
	length = 0;
	while (length + 101 < sizeof(long_path)) {
		long_path[length++] = '/';
		memset(long_path + length, 'a', 99);
		length += 99;
	}
	long_path[length] = '\0';
	lerror_clear(&err);
	is_int(path_normalize(long_path, out, sizeof(out), &err), -1,
	       "path_normalize longer than PATH_MAX fails");
	is_int(err.errnum, ENAMETOOLONG, "path_normalize longer than PATH_MAX errnum");
	lerror_format(&err, message, sizeof(message));
	ok(strncmp(message, "cannot normalize path '/aaa", 27) == 0,
	   "path_normalize longer than PATH_MAX message start");
	snprintf(expected, sizeof(expected), ": %s", strerror(ENAMETOOLONG));
	ok(strlen(message) > strlen(expected) &&
	   strcmp(message + strlen(message) - strlen(expected), expected) == 0,
	   "path_normalize longer than PATH_MAX message end");
}

static void test_normalize_exact_fit(void)
{
	char out[8];
	struct lerror err;

	lerror_clear(&err);
	is_int(path_normalize("/abcd", out, 6, &err), 0, "path_normalize exact fit returns 0");
	is_str(out, "/abcd", "path_normalize exact fit");
	is_int(path_normalize("//a/./b/", out, 5, &err), 0, "path_normalize exact fit after collapse returns 0");
	is_str(out, "/a/b", "path_normalize exact fit after collapse");
	is_int(path_normalize("/", out, 2, &err), 0, "path_normalize root in 2 bytes returns 0");
	is_str(out, "/", "path_normalize root in 2 bytes");
}

static void test_is_within(void)
{
	static const struct {
		const char *path;
		const char *dir;
		bool expected;
	} cases[] = {
		{"/home/a", "/home/a", true},
		{"/home/a/b", "/home/a", true},
		{"/home/a/b/c", "/home", true},
		{"/home/ab", "/home/a", false},
		{"/home/a", "/home/ab", false},
		{"/home", "/home/a", false},
		{"/homea", "/home", false},
		{"/", "/", true},
		{"/a", "/", true},
		{"/any/deep/path", "/", true},
		{"/", "/home", false},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		is_int(path_is_within(cases[i].path, cases[i].dir), cases[i].expected,
		       "path_is_within '%s' in '%s'", cases[i].path, cases[i].dir);
}

static void test_join(void)
{
	static const struct {
		const char *dir;
		const char *name;
		const char *expected;
	} cases[] = {
		{"/a", "b", "/a/b"},
		{"/a/", "b", "/a/b"},
		{"/a//", "//b", "/a/b"},
		{"/", "b", "/b"},
		{"/", "/", "/"},
		{"/home/u", "data/x", "/home/u/data/x"},
		{"/home/u", "../x", "/home/u/../x"},
		{"rel", "b", "rel/b"},
		{"/a", "", "/a/"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *joined = path_join(cases[i].dir, cases[i].name);

		is_str(joined, cases[i].expected, "path_join '%s' '%s'", cases[i].dir, cases[i].name);
		free(joined);
	}
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	if (remove(path) < 0)
		diag("cannot remove %s: %s", path, strerror(errno));
	return 0;
}

static void make_directory(int dir_fd, const char *path)
{
	if (mkdirat(dir_fd, path, 0755) < 0)
		bail_out("cannot create directory %s: %s", path, strerror(errno));
}

static void make_file(int dir_fd, const char *path)
{
	int fd = openat(dir_fd, path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);

	if (fd < 0)
		bail_out("cannot create file %s: %s", path, strerror(errno));
	close(fd);
}

static void make_symlink(const char *target, int dir_fd, const char *path)
{
	if (symlinkat(target, dir_fd, path) < 0)
		bail_out("cannot create symlink %s: %s", path, strerror(errno));
}

/* Return true when FD is the file PATH below DIR_FD (same device and inode),
 * without following a final symlink in PATH. */
static bool same_file(int fd, int dir_fd, const char *path)
{
	struct stat opened, expected;

	if (fd < 0 || fstat(fd, &opened) < 0)
		return false;
	if (fstatat(dir_fd, path, &expected, AT_SYMLINK_NOFOLLOW) < 0)
		return false;
	return opened.st_dev == expected.st_dev && opened.st_ino == expected.st_ino;
}

/* Open PATH in ROOT_FD and check that the result is EXPECTED below ROOT_FD. */
static void check_open_resolves(int root_fd, const char *name, const char *path, int flags,
				const char *expected)
{
	int fd = path_open_in_root(root_fd, path, flags);

	ok(fd >= 0, "%s opens", name);
	ok(same_file(fd, root_fd, expected), "%s resolves to '%s' in the root", name, expected);
	if (fd >= 0)
		close(fd);
}

static void check_open_fails(int root_fd, const char *name, const char *path, int flags,
			     int expected_errno)
{
	int fd = path_open_in_root(root_fd, path, flags);
	int saved = errno;

	is_int(fd, -1, "%s fails", name);
	is_int(fd < 0 ? saved : 0, expected_errno, "%s errno", name);
	if (fd >= 0)
		close(fd);
}

/* Tree under TOP:
 *   outside/secret          a file outside the root
 *   root/etc/passwd
 *   root/outside/secret     the file that "../outside/secret" must reach
 *   root/link-etc -> /etc
 *   root/up -> ../../..
 *   root/escape -> ../outside/secret
 *   root/absolute-escape -> TOP/outside/secret
 */
static void test_open_in_root_tree(const char *top)
{
	char secret[PATH_MAX + 32];
	int root_fd, top_fd, fd;

	top_fd = open(top, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (top_fd < 0)
		bail_out("cannot open %s: %s", top, strerror(errno));
	snprintf(secret, sizeof(secret), "%s/outside/secret", top);
	make_directory(top_fd, "outside");
	make_file(top_fd, "outside/secret");
	make_directory(top_fd, "root");
	make_directory(top_fd, "root/etc");
	make_file(top_fd, "root/etc/passwd");
	make_directory(top_fd, "root/outside");
	make_file(top_fd, "root/outside/secret");
	make_symlink("/etc", top_fd, "root/link-etc");
	make_symlink("../../..", top_fd, "root/up");
	make_symlink("../outside/secret", top_fd, "root/escape");
	make_symlink(secret, top_fd, "root/absolute-escape");

	root_fd = openat(top_fd, "root", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root_fd < 0)
		bail_out("cannot open %s/root: %s", top, strerror(errno));

	check_open_resolves(root_fd, "path_open_in_root '/'", "/", O_PATH, ".");
	check_open_resolves(root_fd, "path_open_in_root empty path", "", O_PATH, ".");
	check_open_resolves(root_fd, "path_open_in_root plain file", "/etc/passwd", O_RDONLY,
			    "etc/passwd");
	check_open_resolves(root_fd, "path_open_in_root relative path", "etc/passwd", O_RDONLY,
			    "etc/passwd");
	check_open_resolves(root_fd, "path_open_in_root absolute symlink", "/link-etc",
			    O_PATH | O_DIRECTORY, "etc");
	check_open_resolves(root_fd, "path_open_in_root through absolute symlink",
			    "/link-etc/passwd", O_RDONLY, "etc/passwd");
	check_open_resolves(root_fd, "path_open_in_root dot-dot above root", "../../..",
			    O_PATH | O_DIRECTORY, ".");
	check_open_resolves(root_fd, "path_open_in_root dot-dot then name", "/../../etc/passwd",
			    O_RDONLY, "etc/passwd");
	check_open_resolves(root_fd, "path_open_in_root dot-dot symlink", "/up/etc/passwd",
			    O_RDONLY, "etc/passwd");
	check_open_resolves(root_fd, "path_open_in_root escaping symlink", "/escape", O_RDONLY,
			    "outside/secret");

	fd = path_open_in_root(root_fd, "/escape", O_RDONLY);
	ok(fd >= 0 && !same_file(fd, top_fd, "outside/secret"),
	   "path_open_in_root escaping symlink misses the outside file");
	if (fd >= 0) {
		is_int(fcntl(fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC, "path_open_in_root sets O_CLOEXEC");
		close(fd);
	}

	check_open_fails(root_fd, "path_open_in_root absolute host path symlink", "/absolute-escape",
			 O_RDONLY, ENOENT);
	check_open_fails(root_fd, "path_open_in_root missing file", "/etc/missing", O_RDONLY, ENOENT);

	close(root_fd);
	close(top_fd);
}

/* /proc/self/fd/N are magic links: following them would bypass the root. */
static void test_open_in_root_magic_link(void)
{
	char name[32];
	int proc_fd = open("/proc/self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC);
	int target_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	int fd;

	if (proc_fd < 0 || target_fd < 0) {
		skip(3, "/proc/self/fd or /dev/null cannot be opened");
		return;
	}
	snprintf(name, sizeof(name), "%d", target_fd);

	/* Without path_open_in_root the link is followed, so the check below
	 * can fail. */
	fd = openat(proc_fd, name, O_RDONLY | O_CLOEXEC);
	ok(fd >= 0, "openat follows a magic link");
	if (fd >= 0)
		close(fd);

	check_open_fails(proc_fd, "path_open_in_root magic link", name, O_RDONLY, ELOOP);

	close(target_fd);
	close(proc_fd);
}

/* Return false when the kernel lacks openat2(2), added in Linux 5.6. */
static bool openat2_available(void)
{
	int root_fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	int fd = path_open_in_root(root_fd, "/", O_PATH);
	bool available = fd >= 0 || errno != ENOSYS;

	if (fd >= 0)
		close(fd);
	if (root_fd >= 0)
		close(root_fd);
	return available;
}

int main(void)
{
	const char *tmpdir = getenv("TMPDIR");
	char top[PATH_MAX];

	test_normalize_table();
	test_normalize_errors();
	test_normalize_exact_fit();
	test_is_within();
	test_join();

	if (!openat2_available()) {
		skip(1, "path_open_in_root needs openat2, which this kernel lacks");
		return done_testing();
	}

	snprintf(top, sizeof(top), "%s/launch-test-path.XXXXXX",
		 tmpdir && *tmpdir ? tmpdir : "/tmp");
	if (!mkdtemp(top))
		bail_out("cannot create a directory from %s: %s", top, strerror(errno));
	test_open_in_root_tree(top);
	nftw(top, remove_entry, 16, FTW_DEPTH | FTW_PHYS);

	test_open_in_root_magic_link();
	return done_testing();
}
