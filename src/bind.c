#include "config.h"

#include "bind.h"
#include "path.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* Copy the next ':'-separated field of *CURSOR into a new string, removing
 * escapes, and advance *CURSOR past the separator. */
static int next_field(const char **cursor, char **field, bool *more,
		      const char *text, struct lerror *err)
{
	const char *p = *cursor;
	char *out = malloc(strlen(p) + 1);
	size_t n = 0;

	if (!out)
		return lerror_set(err, ENOMEM, "cannot parse bind '%s'", text);
	*more = false;
	for (; *p; p++) {
		if (*p == '\\') {
			if (p[1] != ':' && p[1] != '\\') {
				free(out);
				lerror_set(err, 0, "invalid bind '%s': '\\' must be followed by ':' or '\\'", text);
				return lerror_hint(err, "write a literal colon as '\\:' and a backslash as '\\\\'");
			}
			out[n++] = *++p;
		} else if (*p == ':') {
			*more = true;
			p++;
			break;
		} else {
			out[n++] = *p;
		}
	}
	out[n] = '\0';
	*cursor = p;
	*field = out;
	return 0;
}

int bind_spec_parse(const char *text, const char *cwd, struct bind_spec *spec,
		    struct lerror *err)
{
	const char *cursor = text;
	char *source = NULL, *destination = NULL, *options = NULL;
	char normalized[PATH_MAX];
	bool more;

	memset(spec, 0, sizeof(*spec));
	if (next_field(&cursor, &source, &more, text, err) < 0)
		return -1;
	if (!source[0]) {
		lerror_set(err, 0, "invalid bind '%s': the source is empty", text);
		lerror_hint(err, "use -b SRC[:DST[:ro]]");
		goto fail;
	}
	if (more && next_field(&cursor, &destination, &more, text, err) < 0)
		goto fail;
	if (more && next_field(&cursor, &options, &more, text, err) < 0)
		goto fail;
	if (more) {
		lerror_set(err, 0, "invalid bind '%s': too many ':' separated fields", text);
		lerror_hint(err, "use -b SRC[:DST[:ro]], and write a literal colon in a path as '\\:'");
		goto fail;
	}
	if (options && strcmp(options, "ro") == 0) {
		spec->read_only = true;
	} else if (options && strcmp(options, "rw") != 0) {
		lerror_set(err, 0, "invalid bind '%s': unknown option '%s'", text, options);
		lerror_hint(err, "the only options are 'ro' and 'rw'");
		goto fail;
	}

	if (!destination || !destination[0]) {
		free(destination);
		if (source[0] == '/') {
			destination = strdup(source);
		} else {
			destination = path_join(cwd, source);
		}
		if (!destination) {
			lerror_set(err, ENOMEM, "cannot parse bind '%s'", text);
			goto fail;
		}
	} else if (destination[0] != '/') {
		lerror_set(err, 0, "invalid bind '%s': destination '%s' is not an absolute path", text, destination);
		lerror_hint(err, "write the destination as a path inside the container starting with '/'");
		goto fail;
	}
	if (path_normalize(destination, normalized, sizeof(normalized), err) < 0)
		goto fail;
	if (strcmp(normalized, "/") == 0) {
		lerror_set(err, 0, "invalid bind '%s': cannot bind over the container's root '/'", text);
		lerror_hint(err, "choose a destination below '/'");
		goto fail;
	}
	free(destination);
	destination = strdup(normalized);
	if (!destination) {
		lerror_set(err, ENOMEM, "cannot parse bind '%s'", text);
		goto fail;
	}

	free(options);
	spec->source = source;
	spec->destination = destination;
	return 0;

fail:
	free(source);
	free(destination);
	free(options);
	return -1;
}

void bind_spec_free(struct bind_spec *spec)
{
	free(spec->source);
	free(spec->destination);
	spec->source = spec->destination = NULL;
}
