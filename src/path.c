#include "config.h"

#include "path.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int path_normalize(const char *path, char *out, size_t size, struct lerror *err)
{
	size_t len = 0;
	const char *p = path;

	if (!path || !*path)
		return lerror_set(err, 0, "invalid path '': a path must not be empty");
	if (*path != '/')
		return lerror_set(err, 0, "invalid path '%s': it must be absolute (start with '/')", path);
	if (size < 2)
		return lerror_set(err, ENAMETOOLONG, "cannot normalize path '%s'", path);

	out[0] = '/';
	len = 1;
	while (*p) {
		const char *start;
		size_t n;

		while (*p == '/')
			p++;
		start = p;
		while (*p && *p != '/')
			p++;
		n = (size_t)(p - start);
		if (n == 0 || (n == 1 && start[0] == '.'))
			continue;
		if (n == 2 && start[0] == '.' && start[1] == '.') {
			/* Drop the last component; ".." at the root stays there. */
			while (len > 1 && out[len - 1] != '/')
				len--;
			if (len > 1)
				len--;
			continue;
		}
		if (len + (len > 1) + n + 1 > size)
			return lerror_set(err, ENAMETOOLONG, "cannot normalize path '%s'", path);
		if (len > 1)
			out[len++] = '/';
		memcpy(out + len, start, n);
		len += n;
	}
	out[len] = '\0';
	return 0;
}

bool path_is_within(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (n == 1 && dir[0] == '/')
		return path[0] == '/';
	if (strncmp(path, dir, n) != 0)
		return false;
	return path[n] == '\0' || path[n] == '/';
}

int path_open_in_root(int root_fd, const char *path, int flags)
{
	struct open_how how = {
		.flags = (unsigned long long)(flags | O_CLOEXEC),
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};

	/* openat2 takes a relative path below ROOT_FD; an absolute path is
	 * interpreted relative to ROOT_FD too under RESOLVE_IN_ROOT. */
	while (*path == '/')
		path++;
	if (!*path)
		path = ".";
	/* With ".." in the path, openat2 fails with EAGAIN when a rename or
	 * a mount anywhere raced with the lookup, and asks for a retry
	 * (openat2(2)); parallel containers make that common. */
	for (int attempt = 0;; attempt++) {
		int fd = (int)syscall(SYS_openat2, root_fd, path, &how, sizeof(how));

		if (fd >= 0 || errno != EAGAIN || attempt == 1000)
			return fd;
	}
}

bool path_is_system(const char *path)
{
	static const char *const trees[] = {
		"/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/libx32",
		"/proc", "/run", "/sbin", "/sys", "/usr",
	};

	if (strcmp(path, "/") == 0)
		return true;
	for (size_t i = 0; i < sizeof(trees) / sizeof(trees[0]); i++)
		if (path_is_within(path, trees[i]))
			return true;
	return false;
}

char *path_join(const char *dir, const char *name)
{
	char *joined;
	size_t dlen = strlen(dir);

	while (dlen > 0 && dir[dlen - 1] == '/')
		dlen--;
	while (*name == '/')
		name++;
	if (asprintf(&joined, "%.*s/%s", (int)dlen, dir, name) < 0)
		return NULL;
	return joined;
}
