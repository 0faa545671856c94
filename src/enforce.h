/* The rules of the site policy (policy.h) applied to one run.
 *
 * Each check fails with an error that names the rule and the file and
 * line that set it, so users know whom to ask and admins what to change.
 */
#ifndef LAUNCH_ENFORCE_H
#define LAUNCH_ENFORCE_H

#include <stdbool.h>
#include <stddef.h>

#include "bind.h"
#include "environ.h"
#include "error.h"
#include "image.h"
#include "policy.h"

/* Check IMAGE against [images]. */
int enforce_image(const struct policy *policy, const struct image *image, struct lerror *err);

/* Check the requested features against [runtime]; turn on the PID
 * namespace when the policy makes it the default. */
int enforce_runtime(const struct policy *policy, bool fake_root, bool *pid_namespace,
		    bool writable, struct lerror *err);

/* Parse TEXT, a tmpfs size above zero (digits, then an optional k, m, g
 * or %, at most 100%, as tmpfs(5) takes it), into *BYTES. Zero, which
 * tmpfs reads as "no limit", and numbers that overflow are invalid.
 * Return false for an invalid size. */
bool enforce_parse_write_size(const char *text, unsigned long long *bytes);

/* Check --write-size REQUESTED (or NULL) against max_write_size and store
 * the size to use, or an empty string for tmpfs's default, in SIZE. */
int enforce_write_size(const struct policy *policy, const char *requested, char *size,
		       size_t length, struct lerror *err);

/* Check a user bind, its source already resolved, against [binds]. */
int enforce_bind(const struct policy *policy, const struct bind_spec *bind, struct lerror *err);

/* Return true when the site policy lets the current directory CWD be
 * bound like a -b bind; otherwise store the rule in RULE. */
bool enforce_cwd_bindable(const struct policy *policy, const char *cwd, char *rule, size_t size);

/* Build the default binds of [binds], sources resolved, skipping the
 * optional ones whose source is missing. Store a new array in *BINDS and
 * its length in *COUNT. */
int enforce_default_binds(const struct policy *policy, struct bind_spec **binds, size_t *count,
			  struct lerror *err);

/* Remove the host variables matching [environment] block_host. */
void enforce_env_host(const struct policy *policy, struct env_list *env);

/* Apply [environment.set], then [environment] unset. */
int enforce_env_final(const struct policy *policy, struct env_list *env, struct lerror *err);

#endif
