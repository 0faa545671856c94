#include "config.h"

#include "enforce.h"
#include "log.h"
#include "path.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Fill ERR for a violation of KEY, whose value has ORIGIN. */
static int violation(struct lerror *err, const struct policy_origin *origin, const char *key,
		     const char *what)
{
	char rule[PATH_MAX + 64];

	policy_describe(origin, key, rule, sizeof(rule));
	lerror_set(err, 0, "%s, by the site policy (%s)", what, rule);
	return lerror_hint(err, "ask your administrator, or see launch --show-config");
}

/* Return true when the absolute PATH lies below one of the directories of
 * LIST, compared after resolving symlinks in them. */
static bool within_any(const struct policy_list *list, const char *path)
{
	for (size_t i = 0; i < list->count; i++) {
		char resolved[PATH_MAX];
		const char *dir = realpath(list->items[i], resolved) ? resolved : list->items[i];

		if (path_is_within(path, dir))
			return true;
	}
	return false;
}

static void join(const struct policy_list *list, char *buf, size_t size)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < list->count && used < size; i++)
		used += (size_t)snprintf(buf + used, size - used, "%s%s", i ? " " : "", list->items[i]);
}

int enforce_image(const struct policy *policy, const struct image *image, struct lerror *err)
{
	char what[PATH_MAX * 3];

	if (image->kind == IMAGE_DIRECTORY && !policy->allow_directory_images.value) {
		snprintf(what, sizeof(what), "image '%s' is a directory, and directory images are not allowed", image->path);
		return violation(err, &policy->allow_directory_images.origin, "allow_directory_images", what);
	}
	if (policy->allowed_image_dirs.count && !within_any(&policy->allowed_image_dirs, image->path)) {
		char dirs[PATH_MAX];

		join(&policy->allowed_image_dirs, dirs, sizeof(dirs));
		snprintf(what, sizeof(what), "image '%s' is outside the allowed image directories (%s)", image->path, dirs);
		return violation(err, &policy->allowed_image_dirs.origin, "allowed_dirs", what);
	}
	return 0;
}

int enforce_runtime(const struct policy *policy, bool fake_root, bool *pid_namespace,
		    bool writable, struct lerror *err)
{
	if (fake_root && !policy->allow_fake_root.value)
		return violation(err, &policy->allow_fake_root.origin, "allow_fake_root", "--root is not allowed");
	if (writable && !policy->allow_writable_layers.value)
		return violation(err, &policy->allow_writable_layers.origin, "allow_writable_layers",
				 "writable layers (-w, --overlay) are not allowed");
	if (!*pid_namespace && policy->default_pid_namespace.value && policy->allow_pid_namespace.value) {
		log_info("PID namespace by default (site policy)");
		*pid_namespace = true;
	}
	if (*pid_namespace && !policy->allow_pid_namespace.value)
		return violation(err, &policy->allow_pid_namespace.origin, "allow_pid_namespace",
				 "PID namespaces (--pid) are not allowed");
	return 0;
}

bool enforce_parse_write_size(const char *text, unsigned long long *bytes)
{
	size_t digits = strspn(text, "0123456789");
	unsigned long long number;
	char unit;

	if (digits == 0 || (text[digits] && (!strchr("kKmMgG%", text[digits]) || text[digits + 1])))
		return false;
	errno = 0;
	number = strtoull(text, NULL, 10);
	/* The largest unit, g, must not overflow 64 bits either. */
	if (errno || number == 0 || number > (~0ULL >> 30))
		return false;
	unit = text[digits];
	if (unit == '%') {
		if (number > 100)
			return false;
		*bytes = (unsigned long long)sysconf(_SC_PHYS_PAGES) * (unsigned long long)sysconf(_SC_PAGESIZE) / 100 * number;
	} else {
		unsigned shift = unit == 'k' || unit == 'K' ? 10 : unit == 'm' || unit == 'M' ? 20 : unit == 'g' || unit == 'G' ? 30 : 0;

		*bytes = number << shift;
	}
	return true;
}

int enforce_write_size(const struct policy *policy, const char *requested, char *size,
		       size_t length, struct lerror *err)
{
	unsigned long long max = policy->max_write_size.value, bytes;

	snprintf(size, length, "%s", requested ? requested : "");
	if (!policy->max_write_size.origin.file || max == 0)
		return 0;
	if (!requested) {
		snprintf(size, length, "%llu", max);
		return 0;
	}
	if (!enforce_parse_write_size(requested, &bytes) || bytes > max) {
		char what[128];

		snprintf(what, sizeof(what), "--write-size %s is larger than the maximum of %llu bytes", requested, max);
		return violation(err, &policy->max_write_size.origin, "max_write_size", what);
	}
	return 0;
}

int enforce_bind(const struct policy *policy, const struct bind_spec *bind, struct lerror *err)
{
	char what[PATH_MAX * 3];

	if (policy->allowed_bind_sources.count && !within_any(&policy->allowed_bind_sources, bind->source)) {
		char dirs[PATH_MAX];

		join(&policy->allowed_bind_sources, dirs, sizeof(dirs));
		snprintf(what, sizeof(what), "bind source '%s' is outside the allowed sources (%s)", bind->source, dirs);
		return violation(err, &policy->allowed_bind_sources.origin, "allowed_sources", what);
	}
	for (size_t i = 0; i < policy->forbidden_bind_destinations.count; i++) {
		char normalized[PATH_MAX];
		const char *dir = policy->forbidden_bind_destinations.items[i];

		if (path_normalize(dir, normalized, sizeof(normalized), NULL) == 0 &&
		    path_is_within(bind->destination, normalized)) {
			snprintf(what, sizeof(what), "bind destination '%s' lies on or below %s, where binds are forbidden",
				 bind->destination, normalized);
			return violation(err, &policy->forbidden_bind_destinations.origin, "forbidden_destinations", what);
		}
	}
	return 0;
}

bool enforce_cwd_bindable(const struct policy *policy, const char *cwd, char *rule, size_t size)
{
	if (!policy->allowed_bind_sources.count || within_any(&policy->allowed_bind_sources, cwd))
		return true;
	policy_describe(&policy->allowed_bind_sources.origin, "allowed_sources", rule, size);
	return false;
}

int enforce_default_binds(const struct policy *policy, struct bind_spec **binds, size_t *count,
			  struct lerror *err)
{
	const struct policy_list *list = &policy->default_binds;
	struct bind_spec *out = calloc(list->count + 1, sizeof(*out));

	*binds = NULL;
	*count = 0;
	if (!out)
		return lerror_set(err, ENOMEM, "cannot record the default binds");
	for (size_t i = 0; i < list->count; i++) {
		const char *text = list->items[i];
		bool optional = text[0] == '?';
		char resolved[PATH_MAX];
		struct bind_spec spec;

		if (bind_spec_parse(text + optional, "/", &spec, err) < 0)
			goto fail;
		if (!realpath(spec.source, resolved)) {
			if (optional) {
				log_info("default bind %s skipped: its source is missing", text);
				bind_spec_free(&spec);
				continue;
			}
			{
				char what[PATH_MAX * 2];

				snprintf(what, sizeof(what), "the source of default bind %s is missing: %s", text, strerror(errno));
				bind_spec_free(&spec);
				violation(err, &list->origin, "default", what);
				lerror_hint(err, "ask your administrator to fix the site policy, or mark the bind optional with '?'");
				goto fail;
			}
		}
		{
			struct stat st;

			free(spec.source);
			spec.source = strdup(resolved);
			spec.directory = stat(resolved, &st) == 0 && S_ISDIR(st.st_mode);
		}
		spec.from_policy = true;
		log_info("default bind %s", text);
		out[(*count)++] = spec;
	}
	*binds = out;
	return 0;
fail:
	for (size_t i = 0; i < *count; i++)
		bind_spec_free(&out[i]);
	free(out);
	*count = 0;
	return -1;
}

void enforce_env_host(const struct policy *policy, struct env_list *env)
{
	for (size_t i = 0; i < policy->env_block_host.count; i++)
		env_list_unset_matching(env, policy->env_block_host.items[i]);
}

int enforce_env_final(const struct policy *policy, struct env_list *env, struct lerror *err)
{
	for (size_t i = 0; i < policy->env_set_count; i++)
		if (env_list_set(env, policy->env_set[i].name, policy->env_set[i].value) < 0)
			return lerror_set(err, ENOMEM, "cannot set %s", policy->env_set[i].name);
	for (size_t i = 0; i < policy->env_unset.count; i++)
		env_list_unset_matching(env, policy->env_unset.items[i]);
	return 0;
}
