#include "config.h"

#include "container.h"
#include "idmap.h"
#include "log.h"
#include "mount.h"
#include "process.h"
#include "rootfs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int enter_namespaces(uid_t inside_uid, gid_t inside_gid, struct lerror *err)
{
	/* Read before unshare: afterwards they read as the overflow ids
	 * until the maps are written. */
	uid_t outside_uid = getuid();
	gid_t outside_gid = getgid();

	log_step("unshare user and mount namespaces");
	if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0) {
		int saved = errno;

		lerror_set(err, saved, "cannot create a user namespace");
		if (saved == EPERM || saved == ENOSPC || saved == EUSERS)
			return lerror_hint(err, "unprivileged user namespaces must be enabled (sysctl user.max_user_namespaces > 0; on Debian also kernel.unprivileged_userns_clone=1); ask your administrator");
		return -1;
	}
	return idmap_write(0, inside_uid, outside_uid, inside_gid, outside_gid, err);
}

/* Wait until the launcher has mounted the image. EOF without the byte
 * means the launcher failed and reported the error. */
static int wait_for_image(int sync_fd)
{
	char byte;
	ssize_t n;

	do
		n = read(sync_fd, &byte, 1);
	while (n < 0 && errno == EINTR);
	return n == 1 ? 0 : -1;
}

/* Move a --root command into user and mount namespaces nested in the
 * container's, keeping uid and gid 0. Copying the mounts into a mount
 * namespace of another user namespace locks their flags and their
 * stacking (mount_namespaces(7), "Restrictions on mount namespaces"): the
 * command keeps its capabilities, but cannot make a read-only bind
 * writable or unmount /proc to uncover what lies below. */
static int enter_locked_namespaces(struct lerror *err)
{
	log_step("unshare nested user and mount namespaces for the fake root");
	if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0)
		return lerror_set(err, errno, "cannot create the nested user namespace for --root");
	return idmap_write(0, 0, 0, 0, 0, err);
}

static void exec_command(const struct container_config *config, const char *workdir,
			 const sigset_t *old_mask) __attribute__((noreturn));

static void exec_command(const struct container_config *config, const char *workdir,
			 const sigset_t *old_mask)
{
	struct lerror err;

	lerror_clear(&err);
	if (chdir(workdir) < 0) {
		lerror_set(&err, errno, "cannot enter working directory %s in the container", workdir);
		goto fail;
	}
	if (config->fake_root && enter_locked_namespaces(&err) < 0)
		goto fail;
	if (process_drop_privileges(config->fake_root, &err) < 0)
		goto fail;
	log_step("exec %s in %s", config->argv[0], workdir);
	process_restore_signals(old_mask);
	process_exec(config->argv, config->envp, &err);
fail:
	log_error(&err);
	_exit(err.exit_code);
}

static void run_child(const struct container_config *config, const struct rootfs_config *root,
		      int sync_fd, int report_fd, pid_t launcher, const sigset_t *old_mask)
	__attribute__((noreturn));

static void run_child(const struct container_config *config, const struct rootfs_config *root,
		      int sync_fd, int report_fd, pid_t launcher, const sigset_t *old_mask)
{
	struct supervision supervision = { .children_fd = -1, .report_fd = -1, .pid_namespace_init = true };
	char workdir[PATH_MAX];
	struct lerror err;
	pid_t command, service;

	lerror_clear(&err);
	/* A quicker end than the watcher's when the launcher dies. In a new
	 * PID namespace the parent is outside it and getppid() returns 0. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != (config->pid_namespace ? 0 : launcher))
		_exit(EXIT_LAUNCH_ERROR);
	if (chdir("/") < 0 || wait_for_image(sync_fd) < 0)
		_exit(EXIT_LAUNCH_ERROR);
	close(sync_fd);

	/* This process, not the launcher, touches the image's mount: if the
	 * server in the launcher dies, its death aborts the FUSE connection
	 * and this process gets an error instead of waiting for ever. */
	if (rootfs_assemble(root, workdir, &service, &err) < 0) {
		log_error(&err);
		_exit(err.exit_code);
	}
	if (!config->pid_namespace) {
		/* The launcher ends the service once only it remains. */
		if (service > 0 && write(report_fd, &service, sizeof(service)) != (ssize_t)sizeof(service)) {
			lerror_set(&err, errno, "cannot report the layer's server to the launcher");
			log_error(&err);
			_exit(EXIT_LAUNCH_ERROR);
		}
		exec_command(config, workdir, old_mask);
	}
	if (service > 0)
		supervision.services[supervision.service_count++] = service;

	/* This process is PID 1 of the new PID namespace: it mounts the
	 * namespace's own /proc, starts the command and then reaps orphans
	 * and forwards signals until the namespace is empty. It is not
	 * dumpable, so that a command with --root cannot reach its memory
	 * or descriptors through /proc. */
	if (mount_proc("/proc", &err) < 0) {
		log_error(&err);
		_exit(EXIT_LAUNCH_ERROR);
	}
	/* The namespace's own /proc names the children with the pids that
	 * fork() returned here. */
	supervision.children_fd = open("/proc/thread-self/children", O_RDONLY | O_CLOEXEC);
	command = fork();
	if (command < 0) {
		lerror_set(&err, errno, "cannot fork the command in the PID namespace");
		log_error(&err);
		_exit(EXIT_LAUNCH_ERROR);
	}
	if (command == 0)
		exec_command(config, workdir, old_mask);
	prctl(PR_SET_NAME, "launch-init");
	prctl(PR_SET_DUMPABLE, 0);
	_exit(process_exit_code(process_supervise(command, &supervision)));
}

int container_run(const struct container_config *config, int *exit_code,
		  struct lerror *err)
{
	uid_t inside_uid = config->fake_root ? 0 : getuid();
	gid_t inside_gid = config->fake_root ? 0 : getgid();
	struct rootfs_config root = {
		.image = config->image,
		.uid = inside_uid,
		.gid = inside_gid,
		.private_tmp = config->private_tmp,
		.home = config->mount_home ? config->account->home : NULL,
		.home_source = config->home_source,
		.cwd = config->cwd,
		.workdir = config->workdir,
		.image_workdir = config->image_workdir,
		.forbidden = config->forbidden,
		.forbidden_count = config->forbidden_count,
		.forbidden_rule = config->forbidden_rule,
		.cwd_rule = config->cwd_rule,
		.binds = config->binds,
		.bind_count = config->bind_count,
		.account = config->account,
		.fake_root = config->fake_root,
		.layer = config->layer,
	};
	struct supervision supervision = { .children_fd = -1, .report_fd = -1 };
	int proc_fd = -1, sync_fds[2] = { -1, -1 }, report_fds[2] = { -1, -1 };
	sigset_t old_mask;
	pid_t launcher = getpid(), child;
	int rc = -1;

	proc_fd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (proc_fd < 0) {
		lerror_set(err, errno, "cannot open /proc");
		goto out;
	}
	if (enter_namespaces(inside_uid, inside_gid, err) < 0)
		goto out;
	if (process_start_watcher(proc_fd, err) < 0)
		goto out;
	/* Only the watcher needs the host's /proc; a descriptor of it kept
	 * here would be a way out of the container through /proc/PID/fd. */
	close(proc_fd);
	proc_fd = -1;
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) {
		lerror_set(err, errno, "cannot become a subreaper");
		goto out;
	}
	if (process_block_signals(&old_mask, err) < 0)
		goto out;
	if (pipe2(sync_fds, O_CLOEXEC) < 0 || pipe2(report_fds, O_CLOEXEC) < 0 ||
	    fcntl(report_fds[0], F_SETFL, O_NONBLOCK) < 0) {
		lerror_set(err, errno, "cannot create a pipe");
		goto out;
	}

	/* CLONE_NEWPID goes to clone() because unshare() would apply it to
	 * the FUSE server threads too, which the kernel rejects. The raw
	 * clone() is safe because no thread exists yet. */
	child = (pid_t)syscall(SYS_clone, SIGCHLD | (config->pid_namespace ? CLONE_NEWPID : 0), NULL, NULL, NULL, NULL);
	if (child < 0) {
		lerror_set(err, errno, "cannot start the container's first process");
		goto out;
	}
	if (child == 0) {
		close(sync_fds[1]);
		close(report_fds[0]);
		run_child(config, &root, sync_fds[0], report_fds[1], launcher, &old_mask);
	}
	log_step("container process %ld started%s", (long)child, config->pid_namespace ? " in a new PID namespace" : "");
	close(sync_fds[0]);
	sync_fds[0] = -1;
	close(report_fds[1]);
	report_fds[1] = -1;

	/* Opened before the child may detach the staging root. A file, not a
	 * directory: it gives the container nothing through /proc/PID/fd. */
	if (rootfs_prepare(&root, err) == 0)
		supervision.children_fd = open("/oldroot/proc/thread-self/children", O_RDONLY | O_CLOEXEC);
	if (err->message[0] || write(sync_fds[1], "", 1) != 1) {
		if (!err->message[0])
			lerror_set(err, errno, "cannot start the container's first process");
		/* The child reads EOF and exits without running anything. */
		close(sync_fds[1]);
		sync_fds[1] = -1;
		process_supervise(child, NULL);
		goto out;
	}
	close(sync_fds[1]);
	sync_fds[1] = -1;
	supervision.report_fd = report_fds[0];
	/* The child reports its own errors, so a failure there comes back
	 * as its exit code. */
	*exit_code = process_exit_code(process_supervise(child, &supervision));
	process_release_watcher();
	rc = 0;
out:
	if (sync_fds[0] >= 0)
		close(sync_fds[0]);
	if (sync_fds[1] >= 0)
		close(sync_fds[1]);
	if (proc_fd >= 0)
		close(proc_fd);
	for (int i = 0; i < 2; i++)
		if (report_fds[i] >= 0)
			close(report_fds[i]);
	if (supervision.children_fd >= 0)
		close(supervision.children_fd);
	return rc;
}
