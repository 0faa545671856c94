/* Unit tests of account_name_valid(), account_render() and
 * account_from_host(). */
#include "config.h"

#include "account.h"
#include "error.h"
#include "tap.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define NOBODY_LINE "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"

static void test_name_valid(void)
{
	static const struct {
		const char *name;
		bool expected;
	} cases[] = {
		{"alice", true},
		{"a", true},
		{"a-b", true},
		{"a_b", true},
		{"user.name", true},
		{"Alice2", true},
		{"host$", true},
		{"12345678901234567890123456789012", true},
		{"123456789012345678901234567890123", false},
		{"", false},
		{"-alice", false},
		{"a:b", false},
		{"a\nb", false},
		{"alice\n", false},
		{"a\rb", false},
		{"a\tb", false},
		{"a b", false},
		{"a,b", false},
		{"a/b", false},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		is_int(account_name_valid(cases[i].name), cases[i].expected,
		       "account_name_valid '%s'", cases[i].name);
	is_int(account_name_valid(NULL), false, "account_name_valid NULL");
}

/* Render ACCOUNT and compare both files with the expected text. */
static void check_render(const char *name, const struct account *account, bool fake_root,
			 const char *expected_passwd, const char *expected_group)
{
	char *passwd_text = NULL, *group_text = NULL;

	is_int(account_render(account, fake_root, &passwd_text, &group_text), 0, "%s returns 0", name);
	is_str(passwd_text, expected_passwd, "%s passwd", name);
	is_str(group_text, expected_group, "%s group", name);
	free(passwd_text);
	free(group_text);
}

static void test_render(void)
{
	struct account user = {
		.uid = 1000,
		.gid = 100,
		.name = "alice",
		.group_name = "users",
		.home = "/home/alice",
		.shell = "/bin/bash",
	};
	struct account gid_zero = user;
	struct account large_ids = user;
	struct account root = {
		.uid = 0,
		.gid = 0,
		.name = "root",
		.group_name = "root",
		.home = "/root",
		.shell = "/bin/zsh",
	};

	check_render("account_render user", &user, false,
		     "root:x:0:0:root:/root:/bin/sh\n"
		     "alice:x:1000:100:alice:/home/alice:/bin/bash\n" NOBODY_LINE,
		     "root:x:0:\n"
		     "users:x:100:\n"
		     "nogroup:x:65534:\n");

	check_render("account_render fake root", &user, true,
		     "root:x:0:0:root:/root:/bin/sh\n" NOBODY_LINE,
		     "root:x:0:\n"
		     "nogroup:x:65534:\n");

	gid_zero.gid = 0;
	gid_zero.group_name = "wheel";
	check_render("account_render gid 0", &gid_zero, false,
		     "root:x:0:0:root:/root:/bin/sh\n"
		     "alice:x:1000:0:alice:/home/alice:/bin/bash\n" NOBODY_LINE,
		     "root:x:0:\n"
		     "nogroup:x:65534:\n");

	/* Ids of 2^31 and above must print as unsigned numbers. */
	large_ids.uid = 3000000000u;
	large_ids.gid = 3000000001u;
	check_render("account_render large ids", &large_ids, false,
		     "root:x:0:0:root:/root:/bin/sh\n"
		     "alice:x:3000000000:3000000001:alice:/home/alice:/bin/bash\n" NOBODY_LINE,
		     "root:x:0:\n"
		     "users:x:3000000001:\n"
		     "nogroup:x:65534:\n");

	/* The real root keeps its shell. */
	check_render("account_render real root", &root, false,
		     "root:x:0:0:root:/root:/bin/zsh\n" NOBODY_LINE,
		     "root:x:0:\n"
		     "nogroup:x:65534:\n");
}

static void test_from_host(void)
{
	struct account account;
	struct lerror err;
	int rc;

	lerror_clear(&err);
	rc = account_from_host(&account, &err);
	if (!is_int(rc, 0, "account_from_host returns 0")) {
		diag("error: %s", err.message);
		return;
	}
	is_int(account.uid, getuid(), "account_from_host uid");
	is_int(account.gid, getgid(), "account_from_host gid");
	ok(account.name && account.name[0], "account_from_host name not empty");
	ok(account_name_valid(account.name), "account_from_host name valid");
	ok(account.group_name && account.group_name[0], "account_from_host group name not empty");
	ok(account.home && account.home[0] == '/', "account_from_host home absolute");
	ok(account.shell && account.shell[0], "account_from_host shell not empty");
	account_free(&account);
	ok(account.name == NULL, "account_free clears name");
}

/* Result of account_from_host() that the child sends to the parent. */
struct child_account {
	int rc;
	unsigned long uid;
	char name[64];
	char group_name[64];
	char home[256];
};

/* Run account_from_host() in a child that switches to UID and GID and
 * sets USER and HOME (NULL unsets them). Return 0 and fill RESULT, or -1
 * when the child could not switch ids. */
static int from_host_as(uid_t uid, gid_t gid, const char *user, const char *home,
			struct child_account *result)
{
	int pipe_fds[2];
	pid_t pid;
	int status;
	ssize_t n;

	if (pipe(pipe_fds) < 0)
		bail_out("pipe failed: %s", strerror(errno));
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		bail_out("fork failed: %s", strerror(errno));
	if (pid == 0) {
		struct child_account child = {0};
		struct account account;
		struct lerror err;

		close(pipe_fds[0]);
		if (setgroups(0, NULL) < 0 || setgid(gid) < 0 || setuid(uid) < 0)
			_exit(2);
		if (user)
			setenv("USER", user, 1);
		else
			unsetenv("USER");
		if (home)
			setenv("HOME", home, 1);
		else
			unsetenv("HOME");
		child.rc = account_from_host(&account, &err);
		if (child.rc == 0) {
			child.uid = account.uid;
			snprintf(child.name, sizeof(child.name), "%s", account.name);
			snprintf(child.group_name, sizeof(child.group_name), "%s", account.group_name);
			snprintf(child.home, sizeof(child.home), "%s", account.home);
		}
		if (write(pipe_fds[1], &child, sizeof(child)) != (ssize_t)sizeof(child))
			_exit(3);
		_exit(0);
	}
	close(pipe_fds[1]);
	n = read(pipe_fds[0], result, sizeof(*result));
	close(pipe_fds[0]);
	if (waitpid(pid, &status, 0) < 0)
		bail_out("waitpid failed: %s", strerror(errno));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || n != (ssize_t)sizeof(*result))
		return -1;
	return 0;
}

/* The fallbacks for a uid without a passwd entry need a process that can
 * switch to such a uid, so they run only as root. */
static void test_from_host_unknown_uid(void)
{
	static const uid_t unknown = 3999999999u;
	static const struct {
		const char *test;
		const char *user;
		const char *home;
		const char *name;
		const char *group_name;
		const char *expected_home;
	} cases[] = {
		{"from USER and HOME", "alice", "/home/alice", "alice", "gid3999999999", "/home/alice"},
		{"invalid USER and HOME", "bad:name", "relative/home", "uid3999999999", "gid3999999999", "/"},
		{"HOME with colon", "alice", "/home/a:b", "alice", "gid3999999999", "/"},
		{"USER and HOME unset", NULL, NULL, "uid3999999999", "gid3999999999", "/"},
	};
	const int checks_per_case = 5;

	if (getuid() != 0 || getpwuid(unknown)) {
		skip((int)(sizeof(cases) / sizeof(cases[0])) * checks_per_case,
		     "needs root and a uid without a passwd entry");
		return;
	}
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct child_account result;

		if (from_host_as(unknown, unknown, cases[i].user, cases[i].home, &result) < 0) {
			skip(checks_per_case, "cannot switch to an unknown uid");
			continue;
		}
		is_int(result.rc, 0, "account_from_host %s returns 0", cases[i].test);
		is_int((long long)result.uid, unknown, "account_from_host %s uid", cases[i].test);
		is_str(result.name, cases[i].name, "account_from_host %s name", cases[i].test);
		is_str(result.group_name, cases[i].group_name, "account_from_host %s group name",
		       cases[i].test);
		is_str(result.home, cases[i].expected_home, "account_from_host %s home", cases[i].test);
	}
}

int main(void)
{
	test_name_valid();
	test_render();
	test_from_host();
	test_from_host_unknown_uid();
	return done_testing();
}
