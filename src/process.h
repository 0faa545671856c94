/* Processes of a container: the command, the optional PID-namespace init,
 * signal forwarding, reaping, and the watcher that ends the container when
 * the launcher dies.
 *
 * Decisions (documented in launch(1)):
 * - The launcher waits until every process of the container has exited,
 *   background children included, and then exits with the status of the
 *   command: the image stays readable until the last process is gone.
 *   Once the command has exited, SIGINT, SIGTERM or SIGHUP end them.
 * - Signals sent to the launcher (INT, TERM, HUP, QUIT, USR1, USR2, CONT,
 *   WINCH) are forwarded to the command. Signals the kernel sends to the
 *   whole foreground process group (Ctrl-C, Ctrl-\, terminal resize) reach
 *   the command directly and are not forwarded a second time.
 * - If the launcher is killed with SIGKILL, the watcher, a separate
 *   process, kills every process left in the container's user namespace
 *   or in namespaces nested below it.
 */
#ifndef LAUNCH_PROCESS_H
#define LAUNCH_PROCESS_H

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

#include "error.h"

/* Start the watcher for the calling process's user namespace: a detached
 * process that waits until the caller exits, then sends SIGKILL to every
 * process in that namespace or below it. PROC_FD is a descriptor of the host's /proc.
 * Must be called in the container's namespaces before any thread exists. */
int process_start_watcher(int proc_fd, struct lerror *err);

/* Tell the watcher that every process of the container has been reaped, so
 * that it exits without looking for any. Only a process that joined the
 * container from outside (nsenter) can then remain, and it is left alone. */
void process_release_watcher(void);

/* Block the signals that process_supervise() waits for and store the
 * previous mask in OLD_MASK; call before starting any child so that none
 * is lost. */
int process_block_signals(sigset_t *old_mask, struct lerror *err);

/* Restore the signal mask saved by process_block_signals(); the command
 * starts with the mask and dispositions the launcher was started with
 * (an ignored SIGHUP under nohup stays ignored). */
void process_restore_signals(const sigset_t *old_mask);

/* State of a supervisor beyond its command. */
struct supervision {
	int children_fd;	  /* the supervisor's /proc/.../task/TID/children, or -1 */
	int report_fd;		  /* non-blocking pipe carrying service pids, or -1 */
	bool pid_namespace_init;  /* the supervisor is PID 1 of the container */
	pid_t services[4];	  /* helper servers such as fuse-overlayfs */
	size_t service_count;
	bool services_ended;
	int stop_requests;
};

/* Forward signals to CHILD and reap every child, orphans included (the
 * caller must be a subreaper or a PID-namespace init), until none is
 * left. Return the wait status of CHILD. Once CHILD has exited, SIGINT,
 * SIGTERM or SIGHUP end the processes it left (SIGTERM, then SIGKILL),
 * and services still running when only they remain are ended.
 * SUPERVISION may be NULL. */
int process_supervise(pid_t child, struct supervision *supervision);

/* Convert a wait status into an exit code: the code, or 128+N for a death
 * by signal N. */
int process_exit_code(int wait_status);

/* Replace the process with ARGV[0] run with ENVP, looking it up in the
 * PATH of ENVP when it holds no '/'. Returns only on failure, with ERR
 * set and its exit code 127 (not found) or 126 (not executable). */
int process_exec(char *const argv[], char *const envp[], struct lerror *err);

/* Drop every capability, including the bounding set, and set
 * no_new_privs. With KEEP_CAPABILITIES (fake root) the capabilities that
 * the user namespace grants stay, but no_new_privs is still set. */
int process_drop_privileges(bool keep_capabilities, struct lerror *err);

#endif
