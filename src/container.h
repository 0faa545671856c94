/* A container: one image, its namespaces, its processes.
 *
 * container_run() is the whole life of a standalone container. The
 * launcher's process itself enters the new user and mount namespaces,
 * serves the image through FUSE and supervises the command, so another
 * process of the same user can join the container later with setns(2) on
 * /proc/PID/ns/user and /proc/PID/ns/mnt of the launcher while the image
 * stays mounted.
 */
#ifndef LAUNCH_CONTAINER_H
#define LAUNCH_CONTAINER_H

#include <stdbool.h>
#include <stddef.h>

#include "account.h"
#include "bind.h"
#include "error.h"
#include "image.h"
#include "layer.h"

struct container_config {
	struct image *image;		/* opened and checked */
	const struct account *account;	/* the caller */
	bool fake_root;			/* map the caller to uid 0 */
	bool pid_namespace;		/* --pid */
	bool private_tmp;		/* --private-tmp */
	bool mount_home;		/* false with --no-home */
	const char *home_source;	/* physical path of the home directory */
	const char *cwd;		/* physical current directory */
	const char *workdir;		/* --cd DIR, or NULL */
	const char *image_workdir;	/* the image's default working directory, or NULL */
	char *const *forbidden;		/* site policy: forbidden bind destinations */
	size_t forbidden_count;
	const char *forbidden_rule;
	const char *cwd_rule;		/* the policy forbids binding the current directory */
	const struct bind_spec *binds;	/* sources absolute and checked */
	size_t bind_count;
	struct layer_config layer;	/* -w, --write-size, --overlay */
	char *const *argv;		/* the command */
	char *const *envp;		/* its complete environment */
};

/* Run the command of CONFIG in a new container and wait for every process
 * of it. On success return 0 and store the command's exit code (128+N for
 * a death by signal N) in *EXIT_CODE. On a failure of launch itself return
 * -1 with ERR set; its exit_code is the code to exit with. Errors of the
 * command's own process before exec (not found, not executable) are
 * printed by that process and come back as *EXIT_CODE 126 or 127. */
int container_run(const struct container_config *config, int *exit_code,
		  struct lerror *err);

#endif
