/* Unit tests of bind_spec_parse(), the parser of "-b SRC[:DST[:ro|rw]]". */
#include "config.h"

#include "bind.h"
#include "error.h"
#include "tap.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#define CWD "/home/u"

struct valid_case {
	const char *name;
	const char *text;
	const char *cwd;
	const char *source;
	const char *destination;
	bool read_only;
};

static const struct valid_case valid_cases[] = {
	{"bind absolute source only", "/data", CWD, "/data", "/data", false},
	{"bind relative source only", "data", CWD, "data", "/home/u/data", false},
	{"bind relative source with dots", "./data/../x", CWD, "./data/../x", "/home/u/x", false},
	{"bind dot source", ".", CWD, ".", "/home/u", false},
	{"bind cwd with trailing slash", "data", "/home/u/", "data", "/home/u/data", false},
	{"bind source with trailing slash", "/data/", CWD, "/data/", "/data", false},
	{"bind source and destination", "/data:/mnt", CWD, "/data", "/mnt", false},
	{"bind relative source and destination", "data:/mnt", CWD, "data", "/mnt", false},
	{"bind option ro", "/data:/mnt:ro", CWD, "/data", "/mnt", true},
	{"bind option rw", "/data:/mnt:rw", CWD, "/data", "/mnt", false},
	{"bind empty destination", "/data:", CWD, "/data", "/data", false},
	{"bind empty destination with ro", "/data::ro", CWD, "/data", "/data", true},
	{"bind empty destination relative source", "data::ro", CWD, "data", "/home/u/data", true},
	{"bind escaped colon in source", "/a\\:b", CWD, "/a:b", "/a:b", false},
	{"bind escaped colons in both", "/a\\:b:/c\\:d:ro", CWD, "/a:b", "/c:d", true},
	{"bind escaped backslash", "/a\\\\b:/c", CWD, "/a\\b", "/c", false},
	{"bind escaped backslash at end", "/a\\\\:/c\\\\", CWD, "/a\\", "/c\\", false},
	{"bind escaped backslash then colon", "/a\\\\\\:b", CWD, "/a\\:b", "/a\\:b", false},
	{"bind destination normalized", "/data:/a//b/./c/../d", CWD, "/data", "/a/b/d", false},
	{"bind destination trailing slash", "/data:/mnt/", CWD, "/data", "/mnt", false},
	{"bind destination dot-dot above root", "/data:/../../mnt", CWD, "/data", "/mnt", false},
	{"bind spaces", "/my data:/my dir/x y", CWD, "/my data", "/my dir/x y", false},
	{"bind commas", "/a,b:/c,d:ro", CWD, "/a,b", "/c,d", true},
	{"bind hash sign", "/a#b:/c#d", CWD, "/a#b", "/c#d", false},
	{"bind UTF-8 bytes", "/donn\xc3\xa9\x65s:/mnt/\xe6\x97\xa5\xe6\x9c\xac", CWD,
	 "/donn\xc3\xa9\x65s", "/mnt/\xe6\x97\xa5\xe6\x9c\xac", false},
};

static void test_valid(const struct valid_case *c)
{
	struct bind_spec spec;
	struct lerror err;
	int rc;

	lerror_clear(&err);
	rc = bind_spec_parse(c->text, c->cwd, &spec, &err);
	if (!is_int(rc, 0, "%s returns 0", c->name))
		diag("error: %s", err.message);
	is_str(spec.source, c->source, "%s source", c->name);
	is_str(spec.destination, c->destination, "%s destination", c->name);
	is_int(spec.read_only, c->read_only, "%s read_only", c->name);
	bind_spec_free(&spec);
}

struct error_case {
	const char *name;
	const char *text;
	const char *cwd;
	const char *message; /* full text from lerror_format() */
};

#define HINT_ESCAPE "write a literal colon as '\\:' and a backslash as '\\\\'"
#define HINT_SYNTAX "use -b SRC[:DST[:ro]]"
#define HINT_FIELDS "use -b SRC[:DST[:ro]], and write a literal colon in a path as '\\:'"
#define HINT_ABSOLUTE "write the destination as a path inside the container starting with '/'"
#define HINT_ROOT "choose a destination below '/'"
#define HINT_OPTION "the only options are 'ro' and 'rw'"

static const struct error_case error_cases[] = {
	{"bind empty text", "", CWD,
	 "invalid bind '': the source is empty; " HINT_SYNTAX},
	{"bind empty source", ":/mnt", CWD,
	 "invalid bind ':/mnt': the source is empty; " HINT_SYNTAX},
	{"bind empty source with option", ":rw", CWD,
	 "invalid bind ':rw': the source is empty; " HINT_SYNTAX},
	{"bind backslash before letter", "/a\\b", CWD,
	 "invalid bind '/a\\b': '\\' must be followed by ':' or '\\'; " HINT_ESCAPE},
	{"bind backslash at end", "/a\\", CWD,
	 "invalid bind '/a\\': '\\' must be followed by ':' or '\\'; " HINT_ESCAPE},
	{"bind backslash in destination", "/a:/b\\c", CWD,
	 "invalid bind '/a:/b\\c': '\\' must be followed by ':' or '\\'; " HINT_ESCAPE},
	{"bind backslash in option", "/a:/b:r\\o", CWD,
	 "invalid bind '/a:/b:r\\o': '\\' must be followed by ':' or '\\'; " HINT_ESCAPE},
	{"bind relative destination", "/data:mnt", CWD,
	 "invalid bind '/data:mnt': destination 'mnt' is not an absolute path; " HINT_ABSOLUTE},
	{"bind dot destination", "/data:./mnt:ro", CWD,
	 "invalid bind '/data:./mnt:ro': destination './mnt' is not an absolute path; " HINT_ABSOLUTE},
	{"bind destination root", "/data:/", CWD,
	 "invalid bind '/data:/': cannot bind over the container's root '/'; " HINT_ROOT},
	{"bind destination normalized to root", "/data:/a/..", CWD,
	 "invalid bind '/data:/a/..': cannot bind over the container's root '/'; " HINT_ROOT},
	{"bind source root only", "/", CWD,
	 "invalid bind '/': cannot bind over the container's root '/'; " HINT_ROOT},
	{"bind dot source in root cwd", ".", "/",
	 "invalid bind '.': cannot bind over the container's root '/'; " HINT_ROOT},
	{"bind four fields", "/a:/b:ro:x", CWD,
	 "invalid bind '/a:/b:ro:x': too many ':' separated fields; " HINT_FIELDS},
	{"bind trailing colon after option", "/a:/b:ro:", CWD,
	 "invalid bind '/a:/b:ro:': too many ':' separated fields; " HINT_FIELDS},
	{"bind unescaped colon in path", "/a:b:/c:ro", CWD,
	 "invalid bind '/a:b:/c:ro': too many ':' separated fields; " HINT_FIELDS},
	{"bind unknown option", "/a:/b:rx", CWD,
	 "invalid bind '/a:/b:rx': unknown option 'rx'; " HINT_OPTION},
	{"bind option upper case", "/a:/b:RO", CWD,
	 "invalid bind '/a:/b:RO': unknown option 'RO'; " HINT_OPTION},
	{"bind option list", "/a:/b:ro,nosuid", CWD,
	 "invalid bind '/a:/b:ro,nosuid': unknown option 'ro,nosuid'; " HINT_OPTION},
	{"bind empty option", "/a:/b:", CWD,
	 "invalid bind '/a:/b:': unknown option ''; " HINT_OPTION},
};

static void test_error(const struct error_case *c)
{
	struct bind_spec spec;
	struct lerror err;
	char message[2048];

	lerror_clear(&err);
	is_int(bind_spec_parse(c->text, c->cwd, &spec, &err), -1, "%s fails", c->name);
	lerror_format(&err, message, sizeof(message));
	is_str(message, c->message, "%s message", c->name);
	ok(spec.source == NULL, "%s leaves no source", c->name);
	ok(spec.destination == NULL, "%s leaves no destination", c->name);
	is_int(err.exit_code, EXIT_LAUNCH_ERROR, "%s exit code", c->name);
}

/* A destination longer than PATH_MAX fails in path_normalize(). */
static void test_destination_too_long(void)
{
	char text[PATH_MAX + 64];
	struct bind_spec spec;
	struct lerror err;
	size_t length;

	strcpy(text, "/data:");
	length = strlen(text);
	while (length + 101 < sizeof(text)) {
		text[length++] = '/';
		memset(text + length, 'a', 99);
		length += 99;
	}
	text[length] = '\0';

	lerror_clear(&err);
	is_int(bind_spec_parse(text, CWD, &spec, &err), -1, "bind destination too long fails");
	ok(spec.source == NULL, "bind destination too long leaves no source");
	ok(spec.destination == NULL, "bind destination too long leaves no destination");
}

int main(void)
{
	for (size_t i = 0; i < sizeof(valid_cases) / sizeof(valid_cases[0]); i++)
		test_valid(&valid_cases[i]);
	for (size_t i = 0; i < sizeof(error_cases) / sizeof(error_cases[0]); i++)
		test_error(&error_cases[i]);
	test_destination_too_long();
	return done_testing();
}
