/* One funnel for everything launch prints about itself.
 *
 * The verbosity is a ladder: 0 prints warnings and errors, 1 (-v) adds the
 * decisions made (image, id maps, mounts chosen), 2 (-vv) each namespace,
 * map, mount and pivot step, 3 (-vvv) traces; -q lowers it to -1, which
 * keeps errors only. Verbose lines carry "launch[PID]:" so the lines of
 * many MPI ranks can be told apart; errors and warnings read
 * "launch: error: ..." and "launch: warning: ...".
 */
#ifndef LAUNCH_LOG_H
#define LAUNCH_LOG_H

#include "error.h"

enum log_level {
	LOG_ERROR = -1,
	LOG_WARNING = 0,
	LOG_INFO = 1,  /* -v */
	LOG_STEP = 2,  /* -vv */
	LOG_TRACE = 3, /* -vvv */
};

/* Destination of log lines; the default writes to stderr. The Slurm plugin
 * installs its own so that lines reach Slurm's log. */
typedef void (*log_sink)(enum log_level level, const char *line);

void log_set_verbosity(int verbosity);
int log_get_verbosity(void);
void log_set_sink(log_sink sink);

/* Print a line at LEVEL if the verbosity allows it. */
void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Print ERR as "launch: error: ...". */
void log_error(const struct lerror *err);

#define log_warning(...) log_msg(LOG_WARNING, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_step(...) log_msg(LOG_STEP, __VA_ARGS__)
#define log_trace(...) log_msg(LOG_TRACE, __VA_ARGS__)

#endif
