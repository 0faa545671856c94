#include "config.h"

#include "account.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The overflow ids of Linux (/proc/sys/kernel/overflowuid): files owned by
 * ids outside the container's map appear as owned by them. */
#define NOBODY_ID 65534

bool account_name_valid(const char *name)
{
	size_t length;

	if (!name)
		return false;
	length = strlen(name);
	if (length == 0 || length > 32 || name[0] == '-')
		return false;
	return strpbrk(name, ":\n\r\t ,/") == NULL;
}

/* A field of passwd(5) must not hold ':' or a newline; fall back otherwise. */
static bool field_valid(const char *text)
{
	return text && !strpbrk(text, ":\n");
}

int account_from_host(struct account *account, struct lerror *err)
{
	struct passwd *pw;
	struct group *gr;
	const char *name = NULL, *home = NULL, *shell = "/bin/sh", *group_name = NULL;
	char fallback[32], group_fallback[32];

	memset(account, 0, sizeof(*account));
	account->uid = getuid();
	account->gid = getgid();

	errno = 0;
	pw = getpwuid(account->uid);
	if (pw) {
		name = pw->pw_name;
		home = pw->pw_dir;
		if (pw->pw_shell && pw->pw_shell[0])
			shell = pw->pw_shell;
	}
	if (!account_name_valid(name)) {
		name = getenv("USER");
		if (!account_name_valid(name)) {
			snprintf(fallback, sizeof(fallback), "uid%lu", (unsigned long)account->uid);
			name = fallback;
		}
	}
	if (!field_valid(home) || !home || home[0] != '/') {
		home = getenv("HOME");
		if (!field_valid(home) || !home || home[0] != '/')
			home = "/";
	}
	if (!field_valid(shell))
		shell = "/bin/sh";

	gr = getgrgid(account->gid);
	if (gr && account_name_valid(gr->gr_name)) {
		group_name = gr->gr_name;
	} else {
		snprintf(group_fallback, sizeof(group_fallback), "gid%lu", (unsigned long)account->gid);
		group_name = group_fallback;
	}

	account->name = strdup(name);
	account->home = strdup(home);
	account->shell = strdup(shell);
	account->group_name = strdup(group_name);
	if (!account->name || !account->home || !account->shell || !account->group_name) {
		account_free(account);
		return lerror_set(err, ENOMEM, "cannot record the caller's account");
	}
	return 0;
}

void account_free(struct account *account)
{
	free(account->name);
	free(account->home);
	free(account->shell);
	free(account->group_name);
	memset(account, 0, sizeof(*account));
}

int account_render(const struct account *account, bool fake_root,
		   char **passwd_text, char **group_text)
{
	int n;

	*passwd_text = *group_text = NULL;
	if (fake_root || account->uid == 0) {
		n = asprintf(passwd_text,
			     "root:x:0:0:root:/root:%s\n"
			     "nobody:x:%d:%d:nobody:/nonexistent:/usr/sbin/nologin\n",
			     fake_root ? "/bin/sh" : account->shell, NOBODY_ID, NOBODY_ID);
		if (n >= 0)
			n = asprintf(group_text, "root:x:0:\nnogroup:x:%d:\n", NOBODY_ID);
	} else {
		n = asprintf(passwd_text,
			     "root:x:0:0:root:/root:/bin/sh\n"
			     "%s:x:%lu:%lu:%s:%s:%s\n"
			     "nobody:x:%d:%d:nobody:/nonexistent:/usr/sbin/nologin\n",
			     account->name, (unsigned long)account->uid,
			     (unsigned long)account->gid, account->name,
			     account->home, account->shell, NOBODY_ID, NOBODY_ID);
		if (n >= 0) {
			if (account->gid == 0)
				n = asprintf(group_text, "root:x:0:\nnogroup:x:%d:\n", NOBODY_ID);
			else
				n = asprintf(group_text, "root:x:0:\n%s:x:%lu:\nnogroup:x:%d:\n",
					     account->group_name, (unsigned long)account->gid, NOBODY_ID);
		}
	}
	if (n < 0) {
		/* asprintf() leaves its pointer undefined when it fails. */
		free(*passwd_text);
		*passwd_text = NULL;
		*group_text = NULL;
		return -1;
	}
	return 0;
}
