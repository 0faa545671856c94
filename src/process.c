#include "config.h"

#include "process.h"
#include "log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/nsfs.h>
#include <sys/capability.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const int forwarded_signals[] = {
	SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGCONT, SIGWINCH,
};

#define COUNT(array) (sizeof(array) / sizeof((array)[0]))

/* How long the watcher keeps killing before it gives up; processes stuck
 * in the kernel may take a moment to die. */
#define WATCHER_TIMEOUT_MS 30000

static void supervised_set(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGCHLD);
	for (size_t i = 0; i < COUNT(forwarded_signals); i++)
		sigaddset(set, forwarded_signals[i]);
}

int process_block_signals(sigset_t *old_mask, struct lerror *err)
{
	sigset_t set;

	supervised_set(&set);
	/* A write to the pipe of a child that already died must fail with
	 * EPIPE, not kill the launcher. */
	sigaddset(&set, SIGPIPE);
	if (sigprocmask(SIG_BLOCK, &set, old_mask) < 0)
		return lerror_set(err, errno, "cannot block signals");
	return 0;
}

void process_restore_signals(const sigset_t *old_mask)
{
	sigprocmask(SIG_SETMASK, old_mask, NULL);
}

/* Return true when the user namespace open as FD is OWN (device and inode
 * in OWN) or one of its descendants. Consumes FD. NS_GET_PARENT fails
 * with EPERM once the walk leaves the caller's user namespace, which ends
 * it for every namespace outside the container. */
static bool user_namespace_within(int fd, const struct stat *own)
{
	for (int depth = 0; fd >= 0 && depth < 64; depth++) {
		struct stat st;
		int parent;

		if (fstat(fd, &st) == 0 && st.st_ino == own->st_ino && st.st_dev == own->st_dev) {
			close(fd);
			return true;
		}
		parent = ioctl(fd, NS_GET_PARENT);
		close(fd);
		fd = parent;
	}
	if (fd >= 0)
		close(fd);
	return false;
}

/* Send SIGKILL to every process in the user namespace OWN or below it:
 * the container's processes, also those that made namespaces of their
 * own, and those that joined it. Return the number signalled. */
static int kill_namespace_members(int proc_fd, const struct stat *own)
{
	DIR *dir;
	struct dirent *entry;
	int killed = 0;
	int fd = openat(proc_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0 || !(dir = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	while ((entry = readdir(dir))) {
		char path[64];
		char *end;
		long pid = strtol(entry->d_name, &end, 10);
		int ns;

		if (*end || pid <= 0 || pid == (long)getpid())
			continue;
		snprintf(path, sizeof(path), "%ld/ns/user", pid);
		/* Processes of other users fail here with EACCES. */
		ns = openat(proc_fd, path, O_RDONLY | O_CLOEXEC);
		if (ns >= 0 && user_namespace_within(ns, own)) {
			kill((pid_t)pid, SIGKILL);
			killed++;
		}
	}
	closedir(dir);
	return killed;
}

/* Close every descriptor from 3 up but A and B, with close_range(2) where
 * the kernel has it (5.9), as one call instead of one per number. */
static void close_all_except(int a, int b)
{
	int low = a < b ? a : b, high = a < b ? b : a;

	if (low > 3)
		close_range(3, (unsigned)low - 1, 0);
	if (high > low + 1)
		close_range((unsigned)low + 1, (unsigned)high - 1, 0);
	if (close_range((unsigned)high + 1, ~0U, 0) < 0)
		for (int fd = 3; fd < 1024; fd++)
			if (fd != a && fd != b)
				close(fd);
}

static void run_watcher(int keepalive, int proc_fd) __attribute__((noreturn));

static void run_watcher(int keepalive, int proc_fd)
{
	struct stat own;
	char byte;
	struct timespec pause = { 0, 10 * 1000 * 1000 };

	/* The watcher must outlive Ctrl-C and the signals meant for the
	 * command, so it leaves the terminal's session and ignores them. */
	setsid();
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_IGN);
	if (chdir("/") < 0)
		_exit(1);
	prctl(PR_SET_NAME, "launch-watcher");
	/* It keeps a descriptor of the host's /proc: not dumpable, so the
	 * container's processes cannot reach it through /proc/PID/fd. */
	prctl(PR_SET_DUMPABLE, 0);
	close_all_except(keepalive, proc_fd);
	if (fstatat(proc_fd, "self/ns/user", &own, 0) < 0)
		_exit(1);

	/* EOF arrives when the launcher exits, however it exits. Before a
	 * clean exit, with every process of the container reaped, it writes
	 * a byte: nothing is left to kill, and scanning every process of the
	 * host would only cost the node CPU. */
	for (;;) {
		ssize_t n = read(keepalive, &byte, 1);

		if (n == 1)
			_exit(0);
		if (n == 0 || (n < 0 && errno != EINTR))
			break;
	}
	for (int waited = 0; waited < WATCHER_TIMEOUT_MS; waited += 10) {
		if (kill_namespace_members(proc_fd, &own) <= 0)
			_exit(0);
		nanosleep(&pause, NULL);
	}
	_exit(1);
}

/* The launcher's end of the watcher's pipe. */
static int watcher_fd = -1;

void process_release_watcher(void)
{
	if (watcher_fd >= 0 && write(watcher_fd, "", 1) == 1) {
		close(watcher_fd);
		watcher_fd = -1;
	}
}

int process_start_watcher(int proc_fd, struct lerror *err)
{
	int pipe_fds[2], status;
	pid_t middle;

	if (pipe2(pipe_fds, O_CLOEXEC) < 0)
		return lerror_set(err, errno, "cannot create the watcher's pipe");
	/* Fork twice so that the watcher is not the launcher's child: the
	 * launcher waits for all of its children, and the watcher must stay
	 * after the launcher is gone. */
	middle = fork();
	if (middle < 0) {
		close(pipe_fds[0]);
		close(pipe_fds[1]);
		return lerror_set(err, errno, "cannot fork the watcher");
	}
	if (middle == 0) {
		pid_t watcher = fork();

		if (watcher == 0) {
			close(pipe_fds[1]);
			run_watcher(pipe_fds[0], proc_fd);
		}
		_exit(watcher < 0 ? 1 : 0);
	}
	close(pipe_fds[0]);
	if (waitpid(middle, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		close(pipe_fds[1]);
		return lerror_set(err, 0, "cannot start the watcher process");
	}
	/* pipe_fds[1] stays open, close-on-exec, for the launcher's lifetime. */
	watcher_fd = pipe_fds[1];
	log_step("watcher started");
	return 0;
}

/* Read the pids listed in the children file FD into PIDS (at most MAX);
 * return the count, or -1 when it cannot be read. */
static ssize_t read_children(int fd, pid_t *pids, size_t max)
{
	char text[4096];
	ssize_t n = pread(fd, text, sizeof(text) - 1, 0);
	size_t count = 0;

	if (n < 0)
		return -1;
	text[n] = '\0';
	for (char *p = text, *end; count < max; p = end) {
		long pid = strtol(p, &end, 10);

		if (end == p)
			break;
		pids[count++] = (pid_t)pid;
	}
	return (ssize_t)count;
}

static bool is_service(const struct supervision *supervision, pid_t pid)
{
	for (size_t i = 0; i < supervision->service_count; i++)
		if (supervision->services[i] == pid)
			return true;
	return false;
}

/* Collect the service pids reported on the pipe so far. */
static void read_services(struct supervision *supervision)
{
	pid_t pid;

	while (supervision->report_fd >= 0 &&
	       read(supervision->report_fd, &pid, sizeof(pid)) == (ssize_t)sizeof(pid)) {
		if (supervision->service_count < sizeof(supervision->services) / sizeof(pid))
			supervision->services[supervision->service_count++] = pid;
	}
}

/* Once the command has exited: end the services when only they remain,
 * and let a request to stop (REQUEST, a signal number or 0) end the
 * background processes that the command left: SIGTERM first, SIGKILL on a
 * second request. */
static void after_command(struct supervision *supervision, int request)
{
	pid_t children[256];
	ssize_t count;
	bool only_services = true;

	if (!supervision)
		return;
	read_services(supervision);
	if (request && supervision->pid_namespace_init) {
		int sig = supervision->stop_requests++ ? SIGKILL : SIGTERM;

		log_info("ending the processes left in the container (signal %d)", sig);
		kill(-1, sig);
		return;
	}
	if (supervision->children_fd < 0)
		return;
	count = read_children(supervision->children_fd, children, sizeof(children) / sizeof(children[0]));
	for (ssize_t i = 0; i < count; i++)
		if (!is_service(supervision, children[i]))
			only_services = false;
	if (request && !only_services) {
		int sig = supervision->stop_requests++ ? SIGKILL : SIGTERM;

		log_info("ending the processes left in the container (signal %d)", sig);
		for (ssize_t i = 0; i < count; i++)
			if (!is_service(supervision, children[i]))
				kill(children[i], sig);
		return;
	}
	if (count > 0 && only_services && !supervision->services_ended) {
		/* Nothing uses the services any more. SIGKILL, because
		 * fuse-overlayfs 1.10 blocked in a read of /dev/fuse does not
		 * end on SIGTERM, and no request of it is pending. */
		supervision->services_ended = true;
		for (ssize_t i = 0; i < count; i++) {
			log_step("end service process %ld", (long)children[i]);
			kill(children[i], SIGKILL);
		}
	}
}

int process_supervise(pid_t child, struct supervision *supervision)
{
	sigset_t set;
	siginfo_t info;
	int child_status = 0;
	bool child_done = false;

	supervised_set(&set);
	for (;;) {
		int status;
		pid_t pid;

		while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
			if (pid == child) {
				child_status = status;
				child_done = true;
				log_step("command (pid %ld) ended with status %d",
					 (long)pid, process_exit_code(status));
			} else {
				log_trace("reaped pid %ld", (long)pid);
			}
		}
		if (pid < 0 && errno == ECHILD)
			return child_status;
		if (child_done)
			after_command(supervision, 0);

		if (sigwaitinfo(&set, &info) < 0)
			continue;
		if (info.si_signo == SIGCHLD)
			continue;
		if (child_done) {
			/* The command is gone: Ctrl-C, SIGTERM or SIGHUP now stop
			 * what it left running. */
			if (info.si_signo == SIGINT || info.si_signo == SIGTERM || info.si_signo == SIGHUP)
				after_command(supervision, info.si_signo);
			continue;
		}
		/* The terminal sends SIGINT, SIGQUIT, SIGWINCH and the like to
		 * the whole foreground process group, command included. */
		if (info.si_code == SI_KERNEL)
			continue;
		log_trace("forward signal %d to pid %ld", info.si_signo, (long)child);
		kill(child, info.si_signo);
	}
}

int process_exit_code(int wait_status)
{
	if (WIFEXITED(wait_status))
		return WEXITSTATUS(wait_status);
	if (WIFSIGNALED(wait_status))
		return 128 + WTERMSIG(wait_status);
	return EXIT_LAUNCH_ERROR;
}

static int exec_failed(const char *command, const char *path, int errnum, struct lerror *err)
{
	struct stat st;

	if (errnum == ENOENT && stat(path, &st) == 0) {
		lerror_set(err, 0, "cannot execute '%s': its interpreter (the '#!' line) or loader is missing in the image", command);
		lerror_hint(err, "install the interpreter in the image or run it explicitly");
		return lerror_exit_code(err, EXIT_CANNOT_EXECUTE);
	}
	if (errnum == ENOENT || errnum == ENOTDIR) {
		lerror_set(err, 0, "command '%s' not found in the image", command);
		lerror_hint(err, "check the path inside the image");
		return lerror_exit_code(err, EXIT_NOT_FOUND);
	}
	lerror_set(err, errnum, "cannot execute '%s'", command);
	if (errnum == EACCES)
		lerror_hint(err, "the file is not executable or lies on a directory you cannot search");
	else if (errnum == ENOEXEC)
		lerror_hint(err, "the file is neither an ELF binary for this machine nor a script with a '#!' line");
	return lerror_exit_code(err, EXIT_CANNOT_EXECUTE);
}

static const char *find_env(char *const envp[], const char *name)
{
	size_t length = strlen(name);

	for (; envp && *envp; envp++)
		if (strncmp(*envp, name, length) == 0 && (*envp)[length] == '=')
			return *envp + length + 1;
	return NULL;
}

int process_exec(char *const argv[], char *const envp[], struct lerror *err)
{
	const char *command = argv[0];
	const char *search;
	int denied = 0;

	if (!command || !*command) {
		lerror_set(err, 0, "the command is empty");
		return lerror_exit_code(err, EXIT_NOT_FOUND);
	}
	if (strchr(command, '/')) {
		execve(command, argv, envp);
		return exec_failed(command, command, errno, err);
	}

	search = find_env(envp, "PATH");
	if (!search)
		search = "/usr/local/bin:/usr/bin:/bin";
	for (const char *p = search;; p++) {
		const char *end = strchrnul(p, ':');
		size_t length = (size_t)(end - p);
		char candidate[4096];
		int n;

		/* An empty PATH element means the current directory. */
		n = snprintf(candidate, sizeof(candidate), "%.*s%s%s", (int)length, p,
			     length ? "/" : "", command);
		if (n > 0 && (size_t)n < sizeof(candidate)) {
			struct stat st;

			execve(candidate, argv, envp);
			if (errno == EACCES)
				denied = 1;
			else if (errno == ENOENT && stat(candidate, &st) == 0)
				return exec_failed(command, candidate, ENOENT, err); /* missing interpreter */
			else if (errno != ENOENT && errno != ENOTDIR)
				return exec_failed(command, candidate, errno, err);
		}
		if (!*end)
			break;
		p = end;
	}
	if (denied) {
		lerror_set(err, EACCES, "cannot execute '%s' found in PATH", command);
		lerror_hint(err, "the file is not executable");
		return lerror_exit_code(err, EXIT_CANNOT_EXECUTE);
	}
	lerror_set(err, 0, "command '%s' not found in the container's PATH (%s)", command, search);
	lerror_hint(err, "give the full path of the command, or set PATH with -e PATH=...");
	return lerror_exit_code(err, EXIT_NOT_FOUND);
}

int process_drop_privileges(bool keep_capabilities, struct lerror *err)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return lerror_set(err, errno, "cannot set no_new_privs");
	if (keep_capabilities)
		return 0;

	/* EINVAL marks a capability number this kernel does not have. */
	for (int cap = 0; cap < 64; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
			return lerror_set(err, errno, "cannot drop capability %d from the bounding set", cap);
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return lerror_set(err, errno, "cannot clear the ambient capabilities");
	{
		cap_t none = cap_init();
		int rc;

		if (!none)
			return lerror_set(err, errno, "cannot allocate a capability set");
		rc = cap_set_proc(none);
		cap_free(none);
		if (rc < 0)
			return lerror_set(err, errno, "cannot drop capabilities");
	}
	return 0;
}
