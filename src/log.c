#include "config.h"

#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int verbosity;
static log_sink sink;

void log_set_verbosity(int level)
{
	verbosity = level;
}

int log_get_verbosity(void)
{
	return verbosity;
}

void log_set_sink(log_sink new_sink)
{
	sink = new_sink;
}

static void emit(enum log_level level, const char *text)
{
	char line[4096];

	if (sink) {
		sink(level, text);
		return;
	}
	if (level == LOG_ERROR)
		snprintf(line, sizeof(line), "launch: error: %s\n", text);
	else if (level == LOG_WARNING)
		snprintf(line, sizeof(line), "launch: warning: %s\n", text);
	else
		snprintf(line, sizeof(line), "launch[%ld]: %s\n", (long)getpid(), text);
	/* One write per line keeps lines of parallel ranks from interleaving. */
	(void)!write(STDERR_FILENO, line, strnlen(line, sizeof(line)));
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char text[3072];
	va_list ap;

	if (level > verbosity)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	emit(level, text);
}

void log_error(const struct lerror *err)
{
	char text[2048];

	lerror_format(err, text, sizeof(text));
	emit(LOG_ERROR, text);
}
