#include "config.h"

#include "policy.h"
#include "bind.h"
#include "log.h"
#include "path.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* inih reads lines into a buffer of INI_MAX_LINE bytes (200 in Debian's
 * build) and splits longer ones; the reader below rejects them first. */
#define MAX_LINE 200

/* Kinds of values, for parsing and printing. */
enum kind { LIST, BOOL, SIZE, NUMBER, CPU };

struct key {
	const char *section;
	const char *name;
	enum kind kind;
	size_t offset; /* of the member in struct policy */
};

#define MEMBER(m) offsetof(struct policy, m)

static const struct key keys[] = {
	{ "images", "allowed_dirs", LIST, MEMBER(allowed_image_dirs) },
	{ "images", "allow_directory_images", BOOL, MEMBER(allow_directory_images) },
	{ "binds", "default", LIST, MEMBER(default_binds) },
	{ "binds", "allowed_sources", LIST, MEMBER(allowed_bind_sources) },
	{ "binds", "forbidden_destinations", LIST, MEMBER(forbidden_bind_destinations) },
	{ "environment", "unset", LIST, MEMBER(env_unset) },
	{ "environment", "block_host", LIST, MEMBER(env_block_host) },
	{ "runtime", "allow_fake_root", BOOL, MEMBER(allow_fake_root) },
	{ "runtime", "allow_writable_layers", BOOL, MEMBER(allow_writable_layers) },
	{ "runtime", "allow_pid_namespace", BOOL, MEMBER(allow_pid_namespace) },
	{ "runtime", "default_pid_namespace", BOOL, MEMBER(default_pid_namespace) },
	{ "runtime", "max_write_size", SIZE, MEMBER(max_write_size) },
	{ "slurm", "memory_limit", BOOL, MEMBER(slurm_memory_limit) },
	{ "slurm", "swap_limit", SIZE, MEMBER(slurm_swap_limit) },
	{ "slurm", "pids_limit", NUMBER, MEMBER(slurm_pids_limit) },
	{ "slurm", "cpu_limit", CPU, MEMBER(slurm_cpu_limit) },
};

#define KEY_COUNT (sizeof(keys) / sizeof(keys[0]))
#define SET_SECTION "environment.set"

static const char *const cpu_names[] = { "cpuset", "quota", "both", "none" };

void policy_init(struct policy *policy)
{
	memset(policy, 0, sizeof(*policy));
	policy->allow_directory_images.value = true;
	policy->allow_fake_root.value = true;
	policy->allow_writable_layers.value = true;
	policy->allow_pid_namespace.value = true;
	policy->slurm_memory_limit.value = true;
	policy->slurm_cpu_limit = POLICY_CPU_CPUSET;
}

static void list_free(struct policy_list *list)
{
	for (size_t i = 0; i < list->count; i++)
		free(list->items[i]);
	free(list->items);
	free(list->origin.file);
	memset(list, 0, sizeof(*list));
}

static struct policy_origin *origin_of(struct policy *policy, const struct key *key)
{
	char *member = (char *)policy + key->offset;

	switch (key->kind) {
	case LIST:
		return &((struct policy_list *)member)->origin;
	case BOOL:
		return &((struct policy_bool *)member)->origin;
	case SIZE:
	case NUMBER:
		return &((struct policy_size *)member)->origin;
	case CPU:
		return &policy->slurm_cpu_limit_origin;
	}
	return NULL;
}

void policy_free(struct policy *policy)
{
	for (size_t i = 0; i < KEY_COUNT; i++) {
		if (keys[i].kind == LIST)
			list_free((struct policy_list *)((char *)policy + keys[i].offset));
		else
			free(origin_of(policy, &keys[i])->file);
	}
	for (size_t i = 0; i < policy->env_set_count; i++) {
		free(policy->env_set[i].name);
		free(policy->env_set[i].value);
		free(policy->env_set[i].origin.file);
	}
	free(policy->env_set);
	memset(policy, 0, sizeof(*policy));
}

/* State of one parse: the staging copy, the position, the first error. */
struct parse {
	struct policy staging;
	bool seen[KEY_COUNT];
	const char *path;
	const char *text;
	size_t length;
	size_t position;
	unsigned line;
	struct lerror *err;
	int failed;
};

static int parse_failed(struct parse *parse, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Record the first error of the file; return 0, inih's "stop" value. */
static int parse_failed(struct parse *parse, const char *key, const char *fmt, ...)
{
	va_list ap;
	size_t used;

	if (parse->failed)
		return 0;
	lerror_set(parse->err, 0, "invalid policy file %s, line %u%s%s%s: ", parse->path, parse->line,
		   key ? ", key '" : "", key ? key : "", key ? "'" : "");
	used = strlen(parse->err->message);
	va_start(ap, fmt);
	vsnprintf(parse->err->message + used, sizeof(parse->err->message) - used, fmt, ap);
	va_end(ap);
	lerror_hint(parse->err, "fix the file; nothing of it was applied (see launch.conf(5))");
	parse->failed = 1;
	return 0;
}

/* Feed inih one line at a time, counting lines and rejecting what inih
 * would accept silently: long lines, ':' separators, continuation lines. */
static char *read_line(char *buffer, int size, void *stream)
{
	struct parse *parse = stream;
	const char *start = parse->text + parse->position;
	size_t left = parse->length - parse->position;
	const char *newline = memchr(start, '\n', left);
	size_t length = newline ? (size_t)(newline - start) + 1 : left;
	const char *p = start;

	if (left == 0 || parse->failed)
		return NULL;
	parse->line++;
	parse->position += length;
	if (memchr(start, '\0', length)) {
		parse_failed(parse, NULL, "the line contains a NUL byte");
		return NULL;
	}
	{
		/* inih needs room for the newline and a NUL. */
		size_t content = length - (newline ? 1 : 0);

		if (content > MAX_LINE - 2 || length >= (size_t)size) {
			parse_failed(parse, NULL, "the line is longer than %d bytes", MAX_LINE - 2);
			return NULL;
		}
	}
	/* inih skips a UTF-8 byte order mark at the start of the file. */
	if (parse->line == 1 && length >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
		p += 3;
	if (p < start + length && (*p == ' ' || *p == '\t')) {
		while (p < start + length && isspace((unsigned char)*p))
			p++;
		if (p < start + length) {
			parse_failed(parse, NULL, "indented line: continuation lines are not allowed");
			return NULL;
		}
	}
	if (p == start + length) {
		/* Blank, or only a byte order mark. */
	} else if (*p == '[') {
		/* inih calls no handler for a section without keys, so an
		 * unknown section is caught here. */
		static const char *const sections[] = { "images", "binds", "environment", SET_SECTION, "runtime", "slurm" };
		const char *end = start + length;
		const char *close = memchr(p, ']', (size_t)(end - p));
		const char *after = close ? close + 1 : end;
		bool known = false;

		if (!close) {
			parse_failed(parse, NULL, "malformed section header: ']' is missing");
			return NULL;
		}
		while (after < end && (*after == ' ' || *after == '\t' || *after == '\r' || *after == '\n'))
			after++;
		if (after < end && *after != '#' && *after != ';') {
			parse_failed(parse, NULL, "text after the section header");
			return NULL;
		}
		for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++)
			if ((size_t)(close - p - 1) == strlen(sections[i]) && strncmp(p + 1, sections[i], strlen(sections[i])) == 0)
				known = true;
		if (!known) {
			parse_failed(parse, NULL, "unknown section %.*s", (int)(close - p + 1), p);
			return NULL;
		}
	} else if (*p != '#' && *p != ';' && *p != '\n' && *p != '\r') {
		const char *equals = memchr(start, '=', length);
		const char *colon = memchr(start, ':', length);

		if (!equals || (colon && colon < equals)) {
			parse_failed(parse, NULL, "expected KEY = VALUE");
			return NULL;
		}
	}
	memcpy(buffer, start, length);
	buffer[length] = '\0';
	return buffer;
}

static int parse_bool(const char *value, bool *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };

	for (size_t i = 0; i < 4; i++) {
		if (strcmp(value, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcmp(value, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -1;
}

static int parse_size(const char *value, bool suffixes, unsigned long long *out)
{
	char *end;
	unsigned long long number;
	unsigned shift = 0;

	if (!isdigit((unsigned char)value[0]))
		return -1;
	errno = 0;
	number = strtoull(value, &end, 10);
	if (errno)
		return -1;
	if (*end && suffixes) {
		const char *units = "kmgt";
		const char *unit = strchr(units, tolower((unsigned char)*end));

		if (!unit || end[1])
			return -1;
		shift = 10 * (unsigned)(unit - units + 1);
		end++;
	}
	if (*end || (shift && number > (~0ULL >> shift)))
		return -1;
	*out = number << shift;
	return 0;
}

static int parse_list(const char *value, struct policy_list *list)
{
	char *copy = strdup(value), *save = NULL;

	if (!copy)
		return -1;
	for (char *word = strtok_r(copy, " \t", &save); word; word = strtok_r(NULL, " \t", &save)) {
		char **grown = realloc(list->items, (list->count + 1) * sizeof(*grown));

		if (!grown || !(grown[list->count] = strdup(word))) {
			if (grown)
				list->items = grown;
			free(copy);
			return -1;
		}
		list->items = grown;
		list->count++;
	}
	free(copy);
	return 0;
}

static int check_list(struct parse *parse, const struct key *key, const struct policy_list *list)
{
	for (size_t i = 0; i < list->count; i++) {
		const char *item = list->items[i];

		if (strcmp(key->name, "default") == 0) {
			static const char *const kernel_trees[] = { "/proc", "/sys", "/dev" };
			struct bind_spec spec;
			struct lerror bind_err;

			if (item[0] == '?')
				item++;
			if (item[0] != '/')
				return parse_failed(parse, key->name, "bind '%s' must start with an absolute source path", list->items[i]);
			/* The same checks as for -b, so that a bad default bind is
			 * reported here with its line, not at every run. */
			if (bind_spec_parse(item, "/", &spec, &bind_err) < 0)
				return parse_failed(parse, key->name, "%s", bind_err.message);
			for (size_t k = 0; k < 3; k++) {
				if (path_is_within(spec.destination, kernel_trees[k])) {
					bind_spec_free(&spec);
					return parse_failed(parse, key->name, "bind '%s' lands under %s, which launch mounts from the kernel",
							    list->items[i], kernel_trees[k]);
				}
			}
			bind_spec_free(&spec);
		} else if (strcmp(key->section, "environment") != 0 && item[0] != '/') {
			return parse_failed(parse, key->name, "'%s' is not an absolute path", item);
		}
	}
	return 1;
}

static int handle(void *user, const char *section, const char *name, const char *value)
{
	struct parse *parse = user;
	const struct key *key = NULL;
	size_t index = 0;

	if (parse->failed)
		return 0;
	if (strcmp(section, SET_SECTION) == 0) {
		struct policy *staging = &parse->staging;
		struct policy_variable *grown;

		if (!name[0] || isdigit((unsigned char)name[0]))
			return parse_failed(parse, name, "invalid variable name '%s'", name);
		for (size_t i = 0; name[i]; i++)
			if (!(isalnum((unsigned char)name[i]) || name[i] == '_'))
				return parse_failed(parse, name, "invalid variable name '%s'", name);
		for (size_t i = 0; i < staging->env_set_count; i++)
			if (strcmp(staging->env_set[i].name, name) == 0)
				return parse_failed(parse, name, "duplicate key '%s'", name);
		grown = realloc(staging->env_set, (staging->env_set_count + 1) * sizeof(*grown));
		if (!grown)
			return parse_failed(parse, name, "out of memory");
		staging->env_set = grown;
		grown[staging->env_set_count] = (struct policy_variable){
			.name = strdup(name), .value = strdup(value),
			.origin = { .file = strdup(parse->path), .line = parse->line },
		};
		staging->env_set_count++;
		return 1;
	}
	for (index = 0; index < KEY_COUNT; index++)
		if (strcmp(keys[index].section, section) == 0 && strcmp(keys[index].name, name) == 0)
			break;
	if (index == KEY_COUNT) {
		for (size_t i = 0; i < KEY_COUNT; i++)
			if (strcmp(keys[i].section, section) == 0)
				return parse_failed(parse, name, "unknown key in section [%s]", section);
		return parse_failed(parse, name, "unknown section [%s]", section);
	}
	key = &keys[index];
	if (parse->seen[index])
		return parse_failed(parse, name, "duplicate key, already set in this file");
	parse->seen[index] = true;

	{
		char *member = (char *)&parse->staging + key->offset;
		struct policy_origin *origin = origin_of(&parse->staging, key);

		switch (key->kind) {
		case LIST:
			if (parse_list(value, (struct policy_list *)member) < 0)
				return parse_failed(parse, name, "out of memory");
			if (!check_list(parse, key, (struct policy_list *)member))
				return 0;
			break;
		case BOOL:
			if (parse_bool(value, &((struct policy_bool *)member)->value) < 0)
				return parse_failed(parse, name, "'%s' is not a boolean (yes or no)", value);
			break;
		case SIZE:
		case NUMBER:
			if (parse_size(value, key->kind == SIZE, &((struct policy_size *)member)->value) < 0)
				return parse_failed(parse, name,
						    key->kind == SIZE ? "'%s' is not a size (digits with an optional k, m, g or t)"
								      : "'%s' is not a number", value);
			break;
		case CPU: {
			size_t i;

			for (i = 0; i < 4; i++)
				if (strcmp(value, cpu_names[i]) == 0)
					break;
			if (i == 4)
				return parse_failed(parse, name, "'%s' is not one of cpuset, quota, both, none", value);
			parse->staging.slurm_cpu_limit = (enum policy_cpu_limit)i;
			break;
		}
		}
		origin->file = strdup(parse->path);
		origin->line = parse->line;
		if (!origin->file)
			return parse_failed(parse, name, "out of memory");
	}
	return 1;
}

/* Move the values that the staging copy set into POLICY. */
static void apply(struct policy *policy, struct parse *parse)
{
	for (size_t i = 0; i < KEY_COUNT; i++) {
		const struct key *key = &keys[i];
		char *to = (char *)policy + key->offset;
		char *from = (char *)&parse->staging + key->offset;
		size_t size = key->kind == LIST ? sizeof(struct policy_list)
			    : key->kind == BOOL ? sizeof(struct policy_bool)
			    : key->kind == CPU	? sizeof(enum policy_cpu_limit)
						: sizeof(struct policy_size);

		if (!parse->seen[i])
			continue;
		if (key->kind == LIST)
			list_free((struct policy_list *)to);
		else
			free(origin_of(policy, key)->file);
		memcpy(to, from, size);
		if (key->kind == CPU)
			policy->slurm_cpu_limit_origin = parse->staging.slurm_cpu_limit_origin;
		memset(from, 0, size);
		if (key->kind == CPU)
			memset(&parse->staging.slurm_cpu_limit_origin, 0, sizeof(struct policy_origin));
	}
	for (size_t i = 0; i < parse->staging.env_set_count; i++) {
		struct policy_variable *variable = &parse->staging.env_set[i];
		size_t at;

		for (at = 0; at < policy->env_set_count; at++)
			if (strcmp(policy->env_set[at].name, variable->name) == 0)
				break;
		if (at < policy->env_set_count) {
			free(policy->env_set[at].name);
			free(policy->env_set[at].value);
			free(policy->env_set[at].origin.file);
			policy->env_set[at] = *variable;
		} else {
			struct policy_variable *grown = realloc(policy->env_set, (policy->env_set_count + 1) * sizeof(*grown));

			if (!grown)
				continue;
			policy->env_set = grown;
			policy->env_set[policy->env_set_count++] = *variable;
		}
		memset(variable, 0, sizeof(*variable));
	}
}

int policy_parse_text(struct policy *policy, const char *path, const char *text,
		      size_t length, struct lerror *err)
{
	struct parse parse = { .path = path, .text = text, .length = length, .err = err };
	int rc;

	policy_init(&parse.staging);
	/* The BOM is skipped by inih, which is harmless. */
	rc = ini_parse_stream(read_line, &parse, handle, &parse);
	if (!parse.failed && rc != 0) {
		/* inih reports a line it cannot parse (no ']' or no '='). */
		parse.line = rc > 0 ? (unsigned)rc : parse.line;
		parse_failed(&parse, NULL, "malformed line");
	}
	if (!parse.failed)
		apply(policy, &parse);
	policy_free(&parse.staging);
	return parse.failed ? -1 : 0;
}

static int load_file(struct policy *policy, int dir_fd, const char *dir, const char *name,
		     long trusted_uid, bool required, struct lerror *err)
{
	char path[PATH_MAX];
	struct stat st;
	char *text;
	ssize_t n;
	int fd, rc;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	/* O_NONBLOCK: a FIFO named like a policy file must not block the
	 * open; it fails the regular-file check below. */
	fd = openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ENOENT && !required)
			return 0;
		lerror_set(err, errno, "cannot open policy file %s", path);
		return lerror_hint(err, errno == ENOENT ? "this build requires a site policy; ask your administrator to install it"
							: "ask your administrator to check its permissions");
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		log_warning("ignoring policy file %s: not a regular file", path);
		return 0;
	}
	if ((st.st_uid != 0 && (trusted_uid < 0 || st.st_uid != (uid_t)trusted_uid)) || (st.st_mode & 022)) {
		close(fd);
		log_warning("ignoring policy file %s: it is writable by a user other than root (owner uid %lu, mode %04o)",
			    path, (unsigned long)st.st_uid, (unsigned)(st.st_mode & 07777));
		return 0;
	}
	if (st.st_size > 1 << 20) {
		close(fd);
		lerror_set(err, 0, "policy file %s is larger than 1 MiB", path);
		return lerror_hint(err, "ask your administrator to check it");
	}
	text = malloc((size_t)st.st_size + 1);
	if (!text) {
		close(fd);
		return lerror_set(err, ENOMEM, "cannot read policy file %s", path);
	}
	n = read(fd, text, (size_t)st.st_size);
	close(fd);
	if (n < 0) {
		free(text);
		return lerror_set(err, errno, "cannot read policy file %s", path);
	}
	text[n] = '\0';
	rc = policy_parse_text(policy, path, text, (size_t)n, err);
	free(text);
	if (rc == 0)
		log_info("policy: read %s", path);
	return rc;
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int policy_load(struct policy *policy, const char *dir, long trusted_uid, bool required,
		struct lerror *err)
{
	char sub[PATH_MAX];
	char **names = NULL;
	size_t count = 0;
	DIR *listing;
	struct dirent *entry;
	int dir_fd, sub_fd, rc = 0;

	dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir_fd < 0) {
		if (errno == ENOENT && !required)
			return 0;
		lerror_set(err, errno, "cannot open policy directory %s", dir);
		return lerror_hint(err, "ask your administrator to install the site policy");
	}
	if (load_file(policy, dir_fd, dir, "launch.conf", trusted_uid, required, err) < 0) {
		close(dir_fd);
		return -1;
	}
	snprintf(sub, sizeof(sub), "%s/launch.conf.d", dir);
	sub_fd = openat(dir_fd, "launch.conf.d", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	close(dir_fd);
	if (sub_fd < 0 && errno == ENOENT)
		return 0;
	if (sub_fd < 0) {
		/* Skipping it would drop part of the policy without a word. */
		lerror_set(err, errno, "cannot open policy directory %s", sub);
		return lerror_hint(err, "ask your administrator to check its permissions");
	}
	listing = fdopendir(dup(sub_fd));
	while (listing && (entry = readdir(listing))) {
		size_t length = strlen(entry->d_name);
		char **grown;

		if (entry->d_name[0] == '.' || length < 6 || strcmp(entry->d_name + length - 5, ".conf") != 0)
			continue;
		grown = realloc(names, (count + 1) * sizeof(*grown));
		if (!grown || !(grown[count] = strdup(entry->d_name))) {
			names = grown ? grown : names;
			rc = lerror_set(err, ENOMEM, "cannot list %s", sub);
			break;
		}
		names = grown;
		count++;
	}
	if (listing)
		closedir(listing);
	if (rc == 0)
		qsort(names, count, sizeof(*names), compare_names);
	for (size_t i = 0; rc == 0 && i < count; i++)
		rc = load_file(policy, sub_fd, sub, names[i], trusted_uid, false, err);
	for (size_t i = 0; i < count; i++)
		free(names[i]);
	free(names);
	close(sub_fd);
	return rc;
}

void policy_describe(const struct policy_origin *origin, const char *key, char *buf, size_t size)
{
	if (origin->file)
		snprintf(buf, size, "%s in %s line %u", key, origin->file, origin->line);
	else
		snprintf(buf, size, "the default of %s", key);
}

static void print_origin(const struct policy_origin *origin, FILE *out)
{
	if (origin->file)
		fprintf(out, "  # %s:%u\n", origin->file, origin->line);
	else
		fputs("  # default\n", out);
}

void policy_print(const struct policy *policy, FILE *out)
{
	const char *section = NULL;

	for (size_t i = 0; i < KEY_COUNT; i++) {
		const struct key *key = &keys[i];
		const char *member = (const char *)policy + key->offset;

		if (!section || strcmp(section, key->section) != 0) {
			if (section && strcmp(section, "environment") == 0) {
				fputs("\n[" SET_SECTION "]\n", out);
				for (size_t k = 0; k < policy->env_set_count; k++) {
					fprintf(out, "%s = %s", policy->env_set[k].name, policy->env_set[k].value);
					print_origin(&policy->env_set[k].origin, out);
				}
			}
			fprintf(out, "%s[%s]\n", section ? "\n" : "", key->section);
			section = key->section;
		}
		fprintf(out, "%s =", key->name);
		switch (key->kind) {
		case LIST: {
			const struct policy_list *list = (const struct policy_list *)member;

			for (size_t k = 0; k < list->count; k++)
				fprintf(out, " %s", list->items[k]);
			print_origin(&list->origin, out);
			break;
		}
		case BOOL:
			fprintf(out, " %s", ((const struct policy_bool *)member)->value ? "yes" : "no");
			print_origin(&((const struct policy_bool *)member)->origin, out);
			break;
		case SIZE:
		case NUMBER:
			fprintf(out, " %llu", ((const struct policy_size *)member)->value);
			print_origin(&((const struct policy_size *)member)->origin, out);
			break;
		case CPU:
			fprintf(out, " %s", cpu_names[policy->slurm_cpu_limit]);
			print_origin(&policy->slurm_cpu_limit_origin, out);
			break;
		}
	}
}
