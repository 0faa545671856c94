/* Unit tests of the env_list functions and of environment files. File tests
 * write temporary files in a directory under $TMPDIR (or /tmp) and remove
 * them. */
#include "config.h"

#include "environ.h"
#include "error.h"
#include "tap.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

/* Check that LIST contains exactly the NULL-terminated EXPECTED entries, in
 * order, and that entries[count] is NULL. */
static void check_entries(const struct env_list *list, const char *const *expected,
			  const char *name)
{
	size_t count = 0;

	while (expected[count])
		count++;
	is_int((long long)list->count, (long long)count, "%s count", name);
	for (size_t i = 0; i < count && i < list->count; i++)
		is_str(list->entries[i], expected[i], "%s entry %zu", name, i);
	ok(list->entries && list->entries[list->count] == NULL, "%s NULL-terminated", name);
}

static void test_set_get(void)
{
	struct env_list list;

	env_list_init(&list);
	is_int((long long)list.count, 0, "env_list_init count");
	ok(env_list_get(&list, "A") == NULL, "env_list_get on empty list");

	is_int(env_list_set(&list, "A", "1"), 0, "env_list_set A");
	is_int(env_list_set(&list, "B", "2"), 0, "env_list_set B");
	is_int(env_list_set(&list, "C", "3"), 0, "env_list_set C");
	check_entries(&list, (const char *const[]){"A=1", "B=2", "C=3", NULL}, "env_list_set three");

	is_int(env_list_set(&list, "B", "20"), 0, "env_list_set replace B");
	check_entries(&list, (const char *const[]){"A=1", "B=20", "C=3", NULL},
		      "env_list_set replace in place");

	is_int(env_list_set(&list, "AB", "9"), 0, "env_list_set AB");
	is_str(env_list_get(&list, "A"), "1", "env_list_get A beside AB");
	is_str(env_list_get(&list, "AB"), "9", "env_list_get AB");
	ok(env_list_get(&list, "ABC") == NULL, "env_list_get longer name");
	ok(env_list_get(&list, "") == NULL, "env_list_get empty name");

	is_int(env_list_set(&list, "E", ""), 0, "env_list_set empty value");
	is_str(env_list_get(&list, "E"), "", "env_list_get empty value");
	is_int(env_list_set(&list, "F", "x=y z"), 0, "env_list_set value with '='");
	is_str(env_list_get(&list, "F"), "x=y z", "env_list_get value with '='");
	check_entries(&list, (const char *const[]){"A=1", "B=20", "C=3", "AB=9", "E=", "F=x=y z", NULL},
		      "env_list_set appends new names");

	env_list_free(&list);
	is_int((long long)list.count, 0, "env_list_free count");
	ok(list.entries == NULL, "env_list_free entries");
}

/* Adding past the first capacity keeps every entry. */
static void test_set_many(void)
{
	struct env_list list;
	char name[16], value[16];
	int failures = 0;

	env_list_init(&list);
	for (int i = 0; i < 300; i++) {
		snprintf(name, sizeof(name), "V%d", i);
		snprintf(value, sizeof(value), "%d", i);
		if (env_list_set(&list, name, value) < 0)
			failures++;
	}
	is_int(failures, 0, "env_list_set 300 names");
	is_int((long long)list.count, 300, "env_list_set 300 count");
	is_str(list.entries[0], "V0=0", "env_list_set 300 first");
	is_str(list.entries[299], "V299=299", "env_list_set 300 last");
	ok(list.entries[300] == NULL, "env_list_set 300 NULL-terminated");
	is_str(env_list_get(&list, "V150"), "150", "env_list_get V150");
	env_list_free(&list);
}

static void test_put(void)
{
	struct env_list list;
	struct lerror err;

	env_list_init(&list);
	lerror_clear(&err);
	is_int(env_list_put(&list, "A=1", &err), 0, "env_list_put A");
	is_int(env_list_put(&list, "B=x=y", &err), 0, "env_list_put value with '='");
	is_int(env_list_put(&list, "C=", &err), 0, "env_list_put empty value");
	is_int(env_list_put(&list, "_under_1=ok", &err), 0, "env_list_put underscore name");
	is_int(env_list_put(&list, "A=2", &err), 0, "env_list_put replace A");
	check_entries(&list, (const char *const[]){"A=2", "B=x=y", "C=", "_under_1=ok", NULL},
		      "env_list_put");
	is_str(env_list_get(&list, "B"), "x=y", "env_list_put B value");
	env_list_free(&list);
}

static void test_put_errors(void)
{
	static const struct {
		const char *name;
		const char *assignment;
		const char *message;
	} cases[] = {
		{"env_list_put missing '='", "NOEQUALS",
		 "invalid environment assignment 'NOEQUALS': '=' is missing; "
		 "write NAME=VALUE, for example -e OMP_NUM_THREADS=4"},
		{"env_list_put empty text", "",
		 "invalid environment assignment '': '=' is missing; "
		 "write NAME=VALUE, for example -e OMP_NUM_THREADS=4"},
		{"env_list_put empty name", "=x",
		 "invalid environment variable name '' in '=x'; "
		 "a name starts with a letter or '_' and holds only letters, digits and '_'"},
		{"env_list_put leading digit", "1A=x",
		 "invalid environment variable name '1A' in '1A=x'; "
		 "a name starts with a letter or '_' and holds only letters, digits and '_'"},
		{"env_list_put dash in name", "A-B=x",
		 "invalid environment variable name 'A-B' in 'A-B=x'; "
		 "a name starts with a letter or '_' and holds only letters, digits and '_'"},
		{"env_list_put space in name", "A B=x",
		 "invalid environment variable name 'A B' in 'A B=x'; "
		 "a name starts with a letter or '_' and holds only letters, digits and '_'"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct env_list list;
		struct lerror err;
		char message[2048];

		env_list_init(&list);
		lerror_clear(&err);
		is_int(env_list_put(&list, cases[i].assignment, &err), -1, "%s fails", cases[i].name);
		lerror_format(&err, message, sizeof(message));
		is_str(message, cases[i].message, "%s message", cases[i].name);
		is_int((long long)list.count, 0, "%s adds nothing", cases[i].name);
		env_list_free(&list);
	}
}

static void test_add_all(void)
{
	char *vars[] = {"X=1", "novalue", "Y=2", "X=3", "Z=", NULL};
	struct env_list list;

	env_list_init(&list);
	is_int(env_list_add_all(&list, vars), 0, "env_list_add_all returns 0");
	check_entries(&list, (const char *const[]){"X=3", "Y=2", "Z=", NULL}, "env_list_add_all");
	is_int(env_list_add_all(&list, NULL), 0, "env_list_add_all NULL array");
	is_int((long long)list.count, 3, "env_list_add_all NULL array count");
	env_list_free(&list);
}

static void test_unset_matching(void)
{
	char *vars[] = {
		"SLURM_JOB_ID=1", "A=x", "SLURMD_NODENAME=n1", "PATH=/bin", "SLURM_NODELIST=n[1-2]",
		"B=y", "SLURM_=z", "AB=1", "X=SLURM_JOB_ID", "HOME=/home/u", NULL,
	};
	struct env_list list;
	struct env_list empty;

	env_list_init(&list);
	if (env_list_add_all(&list, vars) < 0)
		bail_out("env_list_add_all failed");

	is_int((long long)env_list_unset_matching(&list, "SLURM_*"), 3, "env_list_unset_matching SLURM_* count");
	check_entries(&list,
		      (const char *const[]){"A=x", "SLURMD_NODENAME=n1", "PATH=/bin", "B=y", "AB=1",
					    "X=SLURM_JOB_ID", "HOME=/home/u", NULL},
		      "env_list_unset_matching SLURM_*");

	is_int((long long)env_list_unset_matching(&list, "?"), 3, "env_list_unset_matching ? count");
	check_entries(&list,
		      (const char *const[]){"SLURMD_NODENAME=n1", "PATH=/bin", "AB=1", "HOME=/home/u", NULL},
		      "env_list_unset_matching ?");

	is_int((long long)env_list_unset_matching(&list, "PATH"), 1, "env_list_unset_matching exact count");
	check_entries(&list, (const char *const[]){"SLURMD_NODENAME=n1", "AB=1", "HOME=/home/u", NULL},
		      "env_list_unset_matching exact");

	is_int((long long)env_list_unset_matching(&list, "PAT"), 0, "env_list_unset_matching prefix count");
	is_int((long long)env_list_unset_matching(&list, "HOME=/home/u"), 0,
	       "env_list_unset_matching whole entry count");
	is_int((long long)env_list_unset_matching(&list, "[AZ]B"), 1, "env_list_unset_matching bracket count");
	check_entries(&list, (const char *const[]){"SLURMD_NODENAME=n1", "HOME=/home/u", NULL},
		      "env_list_unset_matching bracket");

	is_int(env_list_set(&list, "NEW", "1"), 0, "env_list_set after unset");
	check_entries(&list, (const char *const[]){"SLURMD_NODENAME=n1", "HOME=/home/u", "NEW=1", NULL},
		      "env_list_set after unset");

	is_int((long long)env_list_unset_matching(&list, "*"), 3, "env_list_unset_matching * count");
	is_int((long long)list.count, 0, "env_list_unset_matching * empties");
	ok(list.entries[0] == NULL, "env_list_unset_matching * NULL-terminated");
	env_list_free(&list);

	env_list_init(&empty);
	is_int((long long)env_list_unset_matching(&empty, "*"), 0, "env_list_unset_matching empty list");
	env_list_free(&empty);
}

static void test_name_valid(void)
{
	static const struct {
		const char *name;
		size_t length;
		bool expected;
	} cases[] = {
		{"A", 1, true},
		{"a", 1, true},
		{"_", 1, true},
		{"_a1", 3, true},
		{"A1_B", 4, true},
		{"PATH", 4, true},
		{"ABC=def", 3, true},
		{"", 0, false},
		{"A", 0, false},
		{"1A", 2, false},
		{"A-B", 3, false},
		{"A.B", 3, false},
		{"A B", 3, false},
		{"A=B", 3, false},
		{"\xc3\xa9", 2, false},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		is_int(env_name_valid(cases[i].name, cases[i].length), cases[i].expected,
		       "env_name_valid '%.*s' length %zu", (int)cases[i].length, cases[i].name,
		       cases[i].length);
}

static void test_parse_line(void)
{
	/* A NULL name means the line is skipped (blank or comment). */
	static const struct {
		const char *test;
		const char *line;
		const char *name;
		const char *value;
	} valid[] = {
		{"empty", "", NULL, NULL},
		{"spaces", "   ", NULL, NULL},
		{"tab", "\t", NULL, NULL},
		{"comment", "# comment", NULL, NULL},
		{"indented comment", "  \t# A=1", NULL, NULL},
		{"commented assignment", "#A=1", NULL, NULL},
		{"plain", "A=1", "A", "1"},
		{"leading spaces", "   A=1", "A", "1"},
		{"leading tab", "\tA=1", "A", "1"},
		{"export", "export A=1", "A", "1"},
		{"export tab", "export\tA=1", "A", "1"},
		{"export spaces", "  export   A=1", "A", "1"},
		{"name export", "export=1", "export", "1"},
		{"name exportA", "exportA=1", "exportA", "1"},
		{"value with '='", "A=b=c", "A", "b=c"},
		{"value with spaces", "A= two  words ", "A", " two  words "},
		{"value with quotes", "A=\"q\"", "A", "\"q\""},
		{"value with dollar", "A=$HOME", "A", "$HOME"},
		{"value with hash", "A=1 # not a comment", "A", "1 # not a comment"},
		{"empty value", "A=", "A", ""},
	};
	static const struct {
		const char *test;
		const char *line;
	} invalid[] = {
		{"missing '='", "A"},
		{"leading digit", "1A=x"},
		{"space in name", "A B=x"},
		{"space before '='", "A =x"},
		{"empty name", "=x"},
		{"export without '='", "export A"},
		{"export alone", "export"},
		{"export empty name", "export =x"},
		{"dash in name", "A-B=x"},
	};

	for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
		const char *name = NULL, *value = NULL;
		size_t name_len = 99;
		int rc = env_file_parse_line(valid[i].line, &name, &name_len, &value);

		is_int(rc, 0, "env_file_parse_line %s returns 0", valid[i].test);
		if (!valid[i].name) {
			is_int((long long)name_len, 0, "env_file_parse_line %s skipped", valid[i].test);
			continue;
		}
		is_int((long long)name_len, (long long)strlen(valid[i].name),
		       "env_file_parse_line %s name length", valid[i].test);
		ok(name && strncmp(name, valid[i].name, name_len) == 0, "env_file_parse_line %s name",
		   valid[i].test);
		is_str(value, valid[i].value, "env_file_parse_line %s value", valid[i].test);
	}
	for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
		const char *name = NULL, *value = NULL;
		size_t name_len = 0;

		is_int(env_file_parse_line(invalid[i].line, &name, &name_len, &value), -1,
		       "env_file_parse_line %s fails", invalid[i].test);
	}
}

/* Write LENGTH bytes of CONTENT to a new file in DIR and store its path in PATH. */
static void write_temp_file(const char *dir, const char *content, size_t length, char *path,
			    size_t size)
{
	int fd;

	snprintf(path, size, "%s/env.XXXXXX", dir);
	fd = mkstemp(path);
	if (fd < 0)
		bail_out("cannot create a file from %s: %s", path, strerror(errno));
	if (write(fd, content, length) != (ssize_t)length)
		bail_out("cannot write %s: %s", path, strerror(errno));
	close(fd);
}

/* Load CONTENT (a string) as an environment file into LIST. Return the
 * result of env_file_load() and store the file's path in PATH. */
static int load_text(const char *dir, struct env_list *list, const char *content, size_t length,
		     char *path, size_t size, struct lerror *err)
{
	int rc;

	write_temp_file(dir, content, length, path, size);
	lerror_clear(err);
	rc = env_file_load(list, path, err);
	unlink(path);
	return rc;
}

static void test_load_good(const char *dir)
{
	static const char content[] =
		"# launch environment\n"
		"export A=1\n"
		"\n"
		"  B=two  words \n"
		"C=x=y\n"
		"\tD=\"quoted\"\n"
		"A=override\n";
	char path[PATH_MAX];
	struct env_list list;
	struct lerror err;
	int rc;

	env_list_init(&list);
	env_list_set(&list, "B", "old");
	env_list_set(&list, "Z", "kept");
	rc = load_text(dir, &list, content, sizeof(content) - 1, path, sizeof(path), &err);
	if (!is_int(rc, 0, "env_file_load good file returns 0"))
		diag("error: %s", err.message);
	check_entries(&list,
		      (const char *const[]){"B=two  words ", "Z=kept", "A=override", "C=x=y", "D=\"quoted\"",
					    NULL},
		      "env_file_load good file");
	env_list_free(&list);
}

static void test_load_crlf(const char *dir)
{
	static const char content[] = "A=1\r\nB=two words\r\n# comment\r\n\r\nC=x\ry\r\nD=3";
	char path[PATH_MAX];
	struct env_list list;
	struct lerror err;
	int rc;

	env_list_init(&list);
	rc = load_text(dir, &list, content, sizeof(content) - 1, path, sizeof(path), &err);
	if (!is_int(rc, 0, "env_file_load CRLF returns 0"))
		diag("error: %s", err.message);
	check_entries(&list, (const char *const[]){"A=1", "B=two words", "C=x\ry", "D=3", NULL},
		      "env_file_load CRLF");
	env_list_free(&list);
}

static void test_load_empty(const char *dir)
{
	char path[PATH_MAX];
	struct env_list list;
	struct lerror err;

	env_list_init(&list);
	is_int(load_text(dir, &list, "", 0, path, sizeof(path), &err), 0, "env_file_load empty file");
	is_int((long long)list.count, 0, "env_file_load empty file count");
	env_list_free(&list);
}

/* Load CONTENT and check that it fails with the message
 * "invalid environment file 'PATH'" followed by DETAIL. */
static void check_load_error(const char *dir, const char *name, const char *content, size_t length,
			     const char *detail)
{
	char path[PATH_MAX];
	char message[2 * PATH_MAX];
	char expected[2 * PATH_MAX];
	struct env_list list;
	struct lerror err;

	env_list_init(&list);
	is_int(load_text(dir, &list, content, length, path, sizeof(path), &err), -1, "%s fails", name);
	lerror_format(&err, message, sizeof(message));
	snprintf(expected, sizeof(expected), "invalid environment file '%s'%s", path, detail);
	is_str(message, expected, "%s message", name);
	env_list_free(&list);
}

#define LINE_HINT "each line is NAME=VALUE, a comment starting with '#', or blank"

static void test_load_errors(const char *dir)
{
	static const char bad_line_3[] = "A=1\n# comment\nnot valid\nD=4\n";
	static const char bad_crlf[] = "A=1\r\nbad name=x\r\n";
	static const char nul_byte[] = "A=1\nB=x\0y\n";

	check_load_error(dir, "env_file_load bad line 3", bad_line_3, sizeof(bad_line_3) - 1,
			 ", line 3: expected NAME=VALUE, found 'not valid'; " LINE_HINT);
	check_load_error(dir, "env_file_load bad CRLF line", bad_crlf, sizeof(bad_crlf) - 1,
			 ", line 2: expected NAME=VALUE, found 'bad name=x'; " LINE_HINT);
	check_load_error(dir, "env_file_load NUL byte", nul_byte, sizeof(nul_byte) - 1,
			 ", line 2: the line contains a NUL byte");
}

static void test_load_missing(const char *dir)
{
	char path[PATH_MAX];
	char message[2 * PATH_MAX];
	char expected[2 * PATH_MAX];
	struct env_list list;
	struct lerror err;

	snprintf(path, sizeof(path), "%s/missing.env", dir);
	env_list_init(&list);
	lerror_clear(&err);
	is_int(env_file_load(&list, path, &err), -1, "env_file_load missing file fails");
	is_int(err.errnum, ENOENT, "env_file_load missing file errnum");
	lerror_format(&err, message, sizeof(message));
	snprintf(expected, sizeof(expected),
		 "cannot open environment file '%s': %s; check the path given to --env-file", path,
		 strerror(ENOENT));
	is_str(message, expected, "env_file_load missing file message");
	is_int((long long)list.count, 0, "env_file_load missing file count");
	env_list_free(&list);
}

static void test_load_directory(const char *dir)
{
	char message[2 * PATH_MAX];
	char expected[2 * PATH_MAX];
	struct env_list list;
	struct lerror err;

	env_list_init(&list);
	lerror_clear(&err);
	is_int(env_file_load(&list, dir, &err), -1, "env_file_load directory fails");
	is_int(err.errnum, EISDIR, "env_file_load directory errnum");
	lerror_format(&err, message, sizeof(message));
	snprintf(expected, sizeof(expected), "cannot read environment file '%s': %s", dir,
		 strerror(EISDIR));
	is_str(message, expected, "env_file_load directory message");
	env_list_free(&list);
}

/* A valid name longer than the stack must not crash the loader. The child
 * limits its stack to 1 MiB, so a 4 MiB name is enough. With the usual
 * limit of 8 MiB, a 16 MiB name crashes it the same way. */
static void test_load_long_name(const char *dir)
{
	const size_t name_length = 4u << 20;
	char path[PATH_MAX];
	char *content = malloc(name_length + 3);
	int status;
	pid_t pid;

	if (!content)
		bail_out("cannot allocate %zu bytes", name_length + 3);
	memset(content, 'A', name_length);
	memcpy(content + name_length, "=1\n", 3);
	write_temp_file(dir, content, name_length + 3, path, sizeof(path));
	free(content);

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		bail_out("fork failed: %s", strerror(errno));
	if (pid == 0) {
		struct rlimit stack_limit = {1u << 20, 1u << 20};
		struct env_list list;
		struct lerror err;

		if (setrlimit(RLIMIT_STACK, &stack_limit) < 0)
			_exit(2);
		env_list_init(&list);
		env_file_load(&list, path, &err);
		_exit(0);
	}
	if (waitpid(pid, &status, 0) < 0)
		bail_out("waitpid failed: %s", strerror(errno));
	unlink(path);

	if (!ok(WIFEXITED(status), "env_file_load 4 MiB name does not crash"))
		diag("the child was killed by signal %d", WTERMSIG(status));
}

int main(void)
{
	const char *tmpdir = getenv("TMPDIR");
	/* Smaller than PATH_MAX, so that file paths below it always fit. */
	char dir[PATH_MAX / 2];

	test_set_get();
	test_set_many();
	test_put();
	test_put_errors();
	test_add_all();
	test_unset_matching();
	test_name_valid();
	test_parse_line();

	snprintf(dir, sizeof(dir), "%s/launch-test-environ.XXXXXX",
		 tmpdir && *tmpdir ? tmpdir : "/tmp");
	if (!mkdtemp(dir))
		bail_out("cannot create a directory from %s: %s", dir, strerror(errno));
	test_load_good(dir);
	test_load_crlf(dir);
	test_load_empty(dir);
	test_load_errors(dir);
	test_load_missing(dir);
	test_load_directory(dir);
	test_load_long_name(dir);
	if (rmdir(dir) < 0)
		diag("cannot remove %s: %s", dir, strerror(errno));

	return done_testing();
}
