/* The environment of the command in the container.
 *
 * An env_list holds "NAME=VALUE" strings in order, without duplicate names.
 * launch builds it in this order (documented in launch(1)):
 *   1. the host environment, or nothing with --clean-env;
 *   2. --unset-env patterns remove host variables (shell globs);
 *   3. the image's defaults, unless --no-image-env: /etc/environment
 *      (enroot), /ch/environment (Charliecloud), /.launch/environment;
 *   4. HOME, USER, LOGNAME of the container's user, and PATH (the
 *      current PATH with /usr/local/bin, /usr/bin and /bin appended when
 *      missing, or a standard PATH when there is none);
 *   5. -e NAME=VALUE and --env-file FILE, in command-line order;
 *   6. LAUNCH_CONTAINER, the marker, which nothing overrides.
 */
#ifndef LAUNCH_ENVIRON_H
#define LAUNCH_ENVIRON_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

struct env_list {
	char **entries; /* NULL-terminated, each "NAME=VALUE" */
	size_t count;
	size_t capacity;
};

void env_list_init(struct env_list *list);
void env_list_free(struct env_list *list);

/* Add every "NAME=VALUE" string of the NULL-terminated array VARS, skipping
 * strings without '='. Return 0 or -1 on ENOMEM. */
int env_list_add_all(struct env_list *list, char *const *vars);

/* Return true when NAME is a valid variable name: a letter or '_', then
 * letters, digits and '_'. */
bool env_name_valid(const char *name, size_t length);

/* Set NAME to VALUE, replacing an existing entry in place. */
int env_list_set(struct env_list *list, const char *name, const char *value);

/* Parse "NAME=VALUE" (ASSIGNMENT) and set it. Return -1 with ERR naming
 * ASSIGNMENT when the name is invalid or '=' is missing. */
int env_list_put(struct env_list *list, const char *assignment, struct lerror *err);

/* Return the value of NAME or NULL. */
const char *env_list_get(const struct env_list *list, const char *name);

/* Remove every variable whose name matches the shell glob PATTERN; return
 * the number removed. */
size_t env_list_unset_matching(struct env_list *list, const char *pattern);

/* Parse one line of an environment file. Blank lines and lines whose first
 * non-blank character is '#' are skipped (return 0 and leave *NAME_LEN 0).
 * Otherwise the line must be NAME=VALUE, optionally preceded by "export ";
 * VALUE runs to the end of the line, taken literally (no quotes, no
 * expansion). On success set *NAME_START, *NAME_LEN and *VALUE_START into
 * LINE and return 0; return -1 when the line is malformed. */
int env_file_parse_line(const char *line, const char **name_start,
			size_t *name_len, const char **value_start);

/* Read the environment file PATH and set each variable in LIST. Errors name
 * the file and line. The file is read with the caller's permissions. */
int env_file_load(struct env_list *list, const char *path, struct lerror *err);

/* Apply the NAME=VALUE lines of TEXT, an environment file of an image
 * named LABEL in messages. Unlike --env-file, one pair of matching quotes
 * around a value is removed, and a malformed line is skipped with a
 * warning, because the image is not the user's input. Return the number
 * of variables set. */
size_t env_list_apply_image_text(struct env_list *list, const char *text, const char *label);

#endif
