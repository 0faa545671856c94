#include "config.h"

#include "environ.h"
#include "log.h"

#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void env_list_init(struct env_list *list)
{
	memset(list, 0, sizeof(*list));
}

void env_list_free(struct env_list *list)
{
	for (size_t i = 0; i < list->count; i++)
		free(list->entries[i]);
	free(list->entries);
	env_list_init(list);
}

bool env_name_valid(const char *name, size_t length)
{
	if (length == 0 || !(isalpha((unsigned char)name[0]) || name[0] == '_'))
		return false;
	for (size_t i = 1; i < length; i++)
		if (!(isalnum((unsigned char)name[i]) || name[i] == '_'))
			return false;
	return true;
}

static ssize_t find(const struct env_list *list, const char *name, size_t length)
{
	for (size_t i = 0; i < list->count; i++)
		if (strncmp(list->entries[i], name, length) == 0 && list->entries[i][length] == '=')
			return (ssize_t)i;
	return -1;
}

/* Store ENTRY ("NAME=VALUE", owned by the list afterwards). */
static int store(struct env_list *list, char *entry)
{
	size_t length = strcspn(entry, "=");
	ssize_t at = find(list, entry, length);

	if (at >= 0) {
		free(list->entries[at]);
		list->entries[at] = entry;
		return 0;
	}
	if (list->count + 2 > list->capacity) {
		size_t capacity = list->capacity ? list->capacity * 2 : 64;
		char **grown = realloc(list->entries, capacity * sizeof(*grown));

		if (!grown) {
			free(entry);
			return -1;
		}
		list->entries = grown;
		list->capacity = capacity;
	}
	list->entries[list->count++] = entry;
	list->entries[list->count] = NULL;
	return 0;
}

int env_list_add_all(struct env_list *list, char *const *vars)
{
	for (; vars && *vars; vars++) {
		char *copy;

		if (!strchr(*vars, '='))
			continue;
		copy = strdup(*vars);
		if (!copy || store(list, copy) < 0)
			return -1;
	}
	return 0;
}

int env_list_set(struct env_list *list, const char *name, const char *value)
{
	char *entry;

	if (asprintf(&entry, "%s=%s", name, value) < 0)
		return -1;
	return store(list, entry);
}

int env_list_put(struct env_list *list, const char *assignment, struct lerror *err)
{
	const char *equals = strchr(assignment, '=');
	char *copy;

	if (!equals) {
		lerror_set(err, 0, "invalid environment assignment '%s': '=' is missing", assignment);
		return lerror_hint(err, "write NAME=VALUE, for example -e OMP_NUM_THREADS=4");
	}
	if (!env_name_valid(assignment, (size_t)(equals - assignment))) {
		lerror_set(err, 0, "invalid environment variable name '%.*s' in '%s'",
			   (int)(equals - assignment), assignment, assignment);
		return lerror_hint(err, "a name starts with a letter or '_' and holds only letters, digits and '_'");
	}
	copy = strdup(assignment);
	if (!copy || store(list, copy) < 0)
		return lerror_set(err, ENOMEM, "cannot set '%s'", assignment);
	return 0;
}

const char *env_list_get(const struct env_list *list, const char *name)
{
	size_t length = strlen(name);
	ssize_t at = find(list, name, length);

	return at < 0 ? NULL : list->entries[at] + length + 1;
}

size_t env_list_unset_matching(struct env_list *list, const char *pattern)
{
	size_t kept = 0, removed = 0;

	for (size_t i = 0; i < list->count; i++) {
		char *entry = list->entries[i];
		size_t length = strcspn(entry, "=");
		int match;

		/* Match the name alone: cut the entry at '=' for a moment. */
		entry[length] = '\0';
		match = fnmatch(pattern, entry, 0);
		entry[length] = '=';
		if (match == 0) {
			free(entry);
			removed++;
		} else {
			list->entries[kept++] = entry;
		}
	}
	list->count = kept;
	if (list->entries)
		list->entries[kept] = NULL;
	return removed;
}

int env_file_parse_line(const char *line, const char **name_start,
			size_t *name_len, const char **value_start)
{
	const char *p = line;
	const char *equals;

	*name_len = 0;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0' || *p == '#')
		return 0;
	if (strncmp(p, "export", 6) == 0 && (p[6] == ' ' || p[6] == '\t')) {
		p += 6;
		while (*p == ' ' || *p == '\t')
			p++;
	}
	equals = strchr(p, '=');
	if (!equals || !env_name_valid(p, (size_t)(equals - p)))
		return -1;
	*name_start = p;
	*name_len = (size_t)(equals - p);
	*value_start = equals + 1;
	return 0;
}

int env_file_load(struct env_list *list, const char *path, struct lerror *err)
{
	FILE *file = fopen(path, "re");
	char *line = NULL;
	size_t capacity = 0;
	ssize_t length;
	unsigned long number = 0;
	int rc = 0;

	if (!file) {
		lerror_set(err, errno, "cannot open environment file '%s'", path);
		return lerror_hint(err, "check the path given to --env-file");
	}
	while ((length = getline(&line, &capacity, file)) >= 0) {
		const char *name, *value;
		size_t name_len;

		number++;
		if (length > 0 && line[length - 1] == '\n')
			line[--length] = '\0';
		if (length > 0 && line[length - 1] == '\r')
			line[--length] = '\0';
		if (strlen(line) != (size_t)length) {
			rc = lerror_set(err, 0, "invalid environment file '%s', line %lu: the line contains a NUL byte", path, number);
			break;
		}
		if (env_file_parse_line(line, &name, &name_len, &value) < 0) {
			rc = lerror_set(err, 0, "invalid environment file '%s', line %lu: expected NAME=VALUE, found '%s'", path, number, line);
			lerror_hint(err, "each line is NAME=VALUE, a comment starting with '#', or blank");
			break;
		}
		if (name_len == 0)
			continue;
		{
			char *name_copy = strndup(name, name_len);

			if (!name_copy || env_list_set(list, name_copy, value) < 0) {
				free(name_copy);
				rc = lerror_set(err, ENOMEM, "cannot load environment file '%s'", path);
				break;
			}
			free(name_copy);
		}
	}
	if (rc == 0 && ferror(file))
		rc = lerror_set(err, errno, "cannot read environment file '%s'", path);
	free(line);
	fclose(file);
	return rc;
}

size_t env_list_apply_image_text(struct env_list *list, const char *text, const char *label)
{
	size_t applied = 0;
	unsigned long number = 0;

	for (const char *line = text; line && *line;) {
		const char *end = strchrnul(line, '\n');
		size_t length = (size_t)(end - line);
		char *copy = strndup(line, length);
		const char *name, *value;
		size_t name_len;

		number++;
		line = *end ? end + 1 : end;
		if (!copy)
			break;
		if (length > 0 && copy[length - 1] == '\r')
			copy[--length] = '\0';
		if (env_file_parse_line(copy, &name, &name_len, &value) < 0) {
			log_warning("ignoring line %lu of %s in the image: expected NAME=VALUE", number, label);
		} else if (name_len > 0) {
			size_t value_len = strlen(value);

			/* enroot and Charliecloud images may quote values, as
			 * pam_env does: one pair of matching quotes is removed. */
			if (value_len >= 2 && (value[0] == '"' || value[0] == '\'') && value[value_len - 1] == value[0]) {
				((char *)value)[value_len - 1] = '\0';
				value++;
			}
			((char *)name)[name_len] = '\0';
			if (env_list_set(list, name, value) == 0)
				applied++;
		}
		free(copy);
	}
	return applied;
}
