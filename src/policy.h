/* Site policy: the INI file in which cluster administrators set what
 * launch does on their machines.
 *
 * Files: SYSCONFDIR/launch/launch.conf, then launch.conf.d/\*.conf in name
 * order; a value set by a later file replaces the earlier one. A file
 * writable by anyone but root (owner not root, or group or other write
 * bit set) is ignored with a warning. For tests and for trying a policy,
 * the standalone launcher reads LAUNCH_CONFIG_DIR instead of
 * SYSCONFDIR/launch when that variable is set, and then also accepts files
 * owned by the caller; the Slurm plugin ignores the variable.
 *
 * Parsing is strict: an unknown section or key, a duplicate key, a line
 * with ':' as separator, an indented (continuation) line, a line too long
 * for the parser, or a malformed value is an error that names the file,
 * the line and the key, and nothing of that file is applied.
 *
 * Sections and keys (lists are separated by whitespace; booleans are
 * yes/no, true/false, on/off, 1/0; sizes are digits with an optional
 * k, m, g or t suffix):
 *
 *   [images]
 *   allowed_dirs = DIR...            images must lie below one of them
 *                                    (default: empty, anywhere)
 *   allow_directory_images = BOOL    (default: yes)
 *
 *   [binds]
 *   default = SPEC...                binds every container gets, each
 *                                    [?]SRC[:DST[:ro]]; a leading '?' makes
 *                                    it optional: skipped when SRC is missing
 *   allowed_sources = DIR...         user binds must come from below one of
 *                                    them (default: empty, anywhere)
 *   forbidden_destinations = DIR...  no user bind may land on or below them
 *
 *   [environment]
 *   unset = PATTERN...               always removed (shell globs), last step
 *   block_host = PATTERN...          never passed from the host environment
 *
 *   [environment.set]
 *   NAME = VALUE                     always set, after -e and --env-file
 *
 *   [runtime]
 *   allow_fake_root = BOOL           --root allowed (default: yes)
 *   allow_writable_layers = BOOL     -w and --overlay allowed (default: yes)
 *   allow_pid_namespace = BOOL       --pid allowed (default: yes)
 *   default_pid_namespace = BOOL     --pid without asking (default: no)
 *   max_write_size = SIZE            cap and default of --write-size
 *                                    (default: none)
 *
 *   [slurm]
 *   memory_limit = BOOL              limit memory to the allocation (yes)
 *   swap_limit = SIZE                swap allowed beyond it (default: 0)
 *   pids_limit = NUMBER              0 for none (default: 0)
 *   cpu_limit = cpuset|quota|both|none   (default: cpuset)
 */
#ifndef LAUNCH_POLICY_H
#define LAUNCH_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "error.h"

/* Origin of a value: FILE and LINE, or FILE NULL for the default. */
struct policy_origin {
	char *file;
	unsigned line;
};

struct policy_list {
	char **items;
	size_t count;
	struct policy_origin origin;
};

struct policy_bool {
	bool value;
	struct policy_origin origin;
};

struct policy_size {
	unsigned long long value; /* bytes; 0 with no origin means unset */
	struct policy_origin origin;
};

struct policy_variable {
	char *name;
	char *value;
	struct policy_origin origin;
};

enum policy_cpu_limit {
	POLICY_CPU_CPUSET,
	POLICY_CPU_QUOTA,
	POLICY_CPU_BOTH,
	POLICY_CPU_NONE,
};

struct policy {
	struct policy_list allowed_image_dirs;
	struct policy_bool allow_directory_images;

	struct policy_list default_binds;
	struct policy_list allowed_bind_sources;
	struct policy_list forbidden_bind_destinations;

	struct policy_list env_unset;
	struct policy_list env_block_host;
	struct policy_variable *env_set;
	size_t env_set_count;

	struct policy_bool allow_fake_root;
	struct policy_bool allow_writable_layers;
	struct policy_bool allow_pid_namespace;
	struct policy_bool default_pid_namespace;
	struct policy_size max_write_size;

	struct policy_bool slurm_memory_limit;
	struct policy_size slurm_swap_limit;
	struct policy_size slurm_pids_limit;
	enum policy_cpu_limit slurm_cpu_limit;
	struct policy_origin slurm_cpu_limit_origin;
};

/* Fill POLICY with the defaults. */
void policy_init(struct policy *policy);

void policy_free(struct policy *policy);

/* Parse the policy file PATH (TEXT is its content, LENGTH bytes) into a
 * staging copy and, when the whole file is valid, apply its values to
 * POLICY. Return 0, or -1 with ERR naming PATH, the line and the key;
 * POLICY is then unchanged. */
int policy_parse_text(struct policy *policy, const char *path, const char *text,
		      size_t length, struct lerror *err);

/* Load the policy from DIR (launch.conf, then launch.conf.d/\*.conf).
 * TRUSTED_UID is an owner accepted besides root (the caller when
 * LAUNCH_CONFIG_DIR is used), or -1. REQUIRED makes a missing launch.conf
 * an error. Files that fail the ownership check are skipped with a
 * warning; a file that fails to parse is an error. */
int policy_load(struct policy *policy, const char *dir, long trusted_uid, bool required,
		struct lerror *err);

/* Print the policy in effect, each value with its origin ("default" or
 * FILE:LINE), in the order of the sections above. */
void policy_print(const struct policy *policy, FILE *out);

/* Write "KEY in FILE line N" (or "the default of KEY") into BUF. */
void policy_describe(const struct policy_origin *origin, const char *key, char *buf,
		     size_t size);

#endif
