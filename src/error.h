/* Error records returned by library code.
 *
 * Functions in src/ never exit and never print errors themselves: they fill
 * a struct lerror and return -1. Only a program's main() (or the Slurm
 * plugin's entry points) decides how to report it. The message names the
 * operation and the value. strerror() of errnum is added once, when the
 * record is printed, followed by the hint: what the user can do next.
 */
#ifndef LAUNCH_ERROR_H
#define LAUNCH_ERROR_H

#include <stddef.h>

/* Exit codes of launch itself, distinct from the command's own statuses. */
enum launch_exit {
	EXIT_LAUNCH_ERROR = 125,   /* bad usage, bad image, setup failure */
	EXIT_CANNOT_EXECUTE = 126, /* command found but not executable */
	EXIT_NOT_FOUND = 127,      /* command not found */
};

struct lerror {
	int errnum;         /* errno value, or 0 when none applies */
	int exit_code;      /* one of enum launch_exit */
	char message[1024]; /* operation and value, without strerror */
	char hint[512];     /* what the user can do, or empty */
};

/* Fill ERR with errnum ERRNUM and a printf-style message; return -1 so
 * callers can write "return lerror_set(...)". ERR may be NULL. */
int lerror_set(struct lerror *err, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Set the hint of ERR (printf-style); return -1. */
int lerror_hint(struct lerror *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Set the exit code that main() should use for ERR; return -1. */
int lerror_exit_code(struct lerror *err, int exit_code);

/* Write the full text of ERR, "MESSAGE[: STRERROR][; HINT]", into BUF. */
void lerror_format(const struct lerror *err, char *buf, size_t size);

/* Reset ERR to "no error". */
void lerror_clear(struct lerror *err);

#endif
