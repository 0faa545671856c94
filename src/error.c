#include "config.h"

#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int lerror_set(struct lerror *err, int errnum, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return -1;
	err->errnum = errnum;
	err->exit_code = EXIT_LAUNCH_ERROR;
	err->hint[0] = '\0';
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return -1;
}

int lerror_hint(struct lerror *err, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return -1;
	va_start(ap, fmt);
	vsnprintf(err->hint, sizeof(err->hint), fmt, ap);
	va_end(ap);
	return -1;
}

int lerror_exit_code(struct lerror *err, int exit_code)
{
	if (err)
		err->exit_code = exit_code;
	return -1;
}

void lerror_format(const struct lerror *err, char *buf, size_t size)
{
	int n;

	n = snprintf(buf, size, "%s", err->message);
	if (err->errnum && n >= 0 && (size_t)n < size)
		n += snprintf(buf + n, size - n, ": %s", strerror(err->errnum));
	if (err->hint[0] && n >= 0 && (size_t)n < size)
		snprintf(buf + n, size - n, "; %s", err->hint);
}

void lerror_clear(struct lerror *err)
{
	memset(err, 0, sizeof(*err));
	err->exit_code = EXIT_LAUNCH_ERROR;
}
