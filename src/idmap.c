#include "config.h"

#include "idmap.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int idmap_format(char *buf, size_t size, unsigned long inside,
		 unsigned long outside, unsigned long count)
{
	int n = snprintf(buf, size, "%lu %lu %lu\n", inside, outside, count);

	if (n < 0 || (size_t)n >= size)
		return -1;
	return n;
}

static int write_proc_file(pid_t pid, const char *name, const char *text,
			   struct lerror *err)
{
	char path[64];
	size_t len = strlen(text);
	ssize_t written;
	int fd;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%ld/%s", (long)pid, name);
	else
		snprintf(path, sizeof(path), "/proc/self/%s", name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return lerror_set(err, errno, "cannot open %s", path);
	written = write(fd, text, len);
	if (written < 0 || (size_t)written != len) {
		int saved = written < 0 ? errno : EIO;

		close(fd);
		lerror_set(err, saved, "cannot write '%.*s' to %s", (int)strcspn(text, "\n"), text, path);
		return lerror_hint(err, "the kernel refused the id map; check that unprivileged user namespaces are enabled");
	}
	close(fd);
	return 0;
}

int idmap_write(pid_t pid, uid_t inside_uid, uid_t outside_uid,
		gid_t inside_gid, gid_t outside_gid, struct lerror *err)
{
	char map[96];

	if (write_proc_file(pid, "setgroups", "deny", err) < 0)
		return -1;
	idmap_format(map, sizeof(map), inside_uid, outside_uid, 1);
	log_info("uid map: %.*s", (int)strcspn(map, "\n"), map);
	if (write_proc_file(pid, "uid_map", map, err) < 0)
		return -1;
	idmap_format(map, sizeof(map), inside_gid, outside_gid, 1);
	log_info("gid map: %.*s", (int)strcspn(map, "\n"), map);
	return write_proc_file(pid, "gid_map", map, err);
}
