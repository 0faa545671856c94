/* The caller's account and the /etc/passwd and /etc/group of the container.
 *
 * The container's files list root, the caller and nobody, whatever the
 * image holds, so that tools that look up the current user (whoami, ssh,
 * Python's getpass) work even when the caller has no entry in the image or
 * on the host. They are generated in memory and never written to the host.
 */
#ifndef LAUNCH_ACCOUNT_H
#define LAUNCH_ACCOUNT_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"

struct account {
	uid_t uid;
	gid_t gid;
	char *name;       /* login name */
	char *group_name; /* name of the primary group */
	char *home;       /* home directory on the host */
	char *shell;      /* login shell, a path inside the container */
};

/* Fill ACCOUNT for the calling process's real uid and gid from the host's
 * user database. When the uid has no entry, the name comes from $USER when
 * it is a valid name, otherwise "uid" followed by the number, and the home
 * from $HOME. Return 0 or -1 with ERR set. */
int account_from_host(struct account *account, struct lerror *err);

void account_free(struct account *account);

/* Return true when NAME is usable as a user or group name in passwd(5):
 * 1 to 32 bytes, not starting with '-', and free of ':', ',', '/', spaces,
 * tabs and line breaks. */
bool account_name_valid(const char *name);

/* Render the container's passwd and group files for ACCOUNT into new
 * strings. With FAKE_ROOT the caller appears as root (uid 0, home /root).
 * Return 0 or -1 on ENOMEM. */
int account_render(const struct account *account, bool fake_root,
		   char **passwd_text, char **group_text);

#endif
