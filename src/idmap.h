/* User and group id maps of the container's user namespace.
 *
 * An unprivileged process may map exactly one id of its own, and for
 * gid_map only after writing "deny" to setgroups (user_namespaces(7)).
 * launch maps the caller's uid and gid either to themselves or, with
 * --root, to 0.
 */
#ifndef LAUNCH_IDMAP_H
#define LAUNCH_IDMAP_H

#include <stddef.h>
#include <sys/types.h>

#include "error.h"

/* Write the one-line map "INSIDE OUTSIDE COUNT\n" into BUF with the ids
 * as unsigned decimal numbers (ids of 2^31 and above stay positive).
 * Return the length, or -1 when BUF is too small. */
int idmap_format(char *buf, size_t size, unsigned long inside,
		 unsigned long outside, unsigned long count);

/* Deny setgroups and write the uid and gid maps of process PID (0 for the
 * calling process), mapping INSIDE_UID to OUTSIDE_UID and INSIDE_GID to
 * OUTSIDE_GID. Return 0 or -1 with ERR set. */
int idmap_write(pid_t pid, uid_t inside_uid, uid_t outside_uid,
		gid_t inside_gid, gid_t outside_gid, struct lerror *err);

#endif
