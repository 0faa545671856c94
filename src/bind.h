/* Bind specifications: "-b SRC[:DST[:ro|rw]]".
 *
 * A literal ':' or '\' inside SRC or DST is written "\:" or "\\"; every
 * other byte (spaces, commas, '#', non-ASCII) is taken as it is.
 */
#ifndef LAUNCH_BIND_H
#define LAUNCH_BIND_H

#include <stdbool.h>

#include "error.h"

struct bind_spec {
	char *source;      /* host path as given (relative paths allowed) */
	char *destination; /* container path, normalized; equals source when omitted */
	bool read_only;
	bool directory;    /* the source is a directory; set when it is checked */
	bool from_policy;  /* a default bind of the site policy */
};

/* Parse TEXT into SPEC. SRC must be non-empty; DST, when given, must be
 * absolute. When DST is omitted, the destination is the source made
 * absolute against CWD. Return 0, or -1 with ERR naming TEXT. */
int bind_spec_parse(const char *text, const char *cwd, struct bind_spec *spec,
		    struct lerror *err);

void bind_spec_free(struct bind_spec *spec);

#endif
