# shellcheck shell=bash
# Common setup for the integration tests. Source it at the top of a bash
# test script, before the plan:
#
#     . "$(dirname "$0")/../lib/setup.sh"
#
# It loads tap.sh and images.sh, then sets:
#   LAUNCH          a copy of the launch binary in TEST_TMPDIR, which the test
#                   user can execute even when the build tree is under /root
#   LAUNCH_SOURCE   the binary that was copied
#   TEST_TMPDIR     a per-test directory under /tmp (mode 0755), removed on exit
#   TEST_CACHE_DIR  the block cache of as_user's launches (LAUNCH_CACHE_DIR)
#   TEST_USER, TEST_UID, TEST_GID, TEST_HOME   the user that as_user runs as:
#                   "launchtest" (created if missing) when the test runs as
#                   root, else the current user
# and defines as_user, as_user_stdin, as_user_background, run_launch,
# make_user_dir, test_processes, wait_for_no_test_processes and at_exit (see
# each function).
#
# When the test user cannot use /dev/fuse or user namespaces, the whole file
# is skipped with "1..0 # SKIP reason". When run as root, setup changes the
# host: it adds the user "launchtest" and sets /dev/fuse to mode 0666, the
# mode that Debian's udev rules give it.
#
# Environment:
#   LAUNCH                  launch binary to test (default: the build tree's
#                           bin/launch, found through abs_top_builddir or
#                           top_builddir, which AM_TESTS_ENVIRONMENT exports)
#   LAUNCH_TEST_TIMEOUT     seconds before as_user stops a command (default 120)
#   LAUNCH_TEST_KEEP_TMPDIR if set, keep TEST_TMPDIR for inspection

if [ -z "${BASH_VERSION:-}" ]; then
    echo "Bail out! tests/lib/setup.sh needs bash; run the test with bash"
    exit 255
fi

LAUNCH_TEST_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/lib/tap.sh
. "$LAUNCH_TEST_LIB/tap.sh"
# shellcheck source=tests/lib/images.sh
. "$LAUNCH_TEST_LIB/images.sh"

# Exit handlers, run in reverse order of registration.
TEST_EXIT_HANDLERS=()

# at_exit CMD [ARGS...]: run CMD with ARGS when the test script exits, for
# example `at_exit kill "$pid"`. Each word is quoted, so paths with spaces
# are safe.
at_exit() {
    TEST_EXIT_HANDLERS+=("$(printf '%q ' "$@")")
}

# Run the exit handlers. A script that did not reach done_testing, skip_all
# or bail_out exits with status 255.
setup_run_exit_handlers() {
    local i finished=0
    tap_check_finished || finished=$?
    for ((i = ${#TEST_EXIT_HANDLERS[@]} - 1; i >= 0; i--)); do
        eval "${TEST_EXIT_HANDLERS[i]}" || true
    done
    if [[ $finished -ne 0 ]]; then
        exit 255
    fi
}
trap setup_run_exit_handlers EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

TEST_TMPDIR=$(mktemp -d /tmp/launch-test.XXXXXX) ||
    bail_out "cannot create a temporary directory under /tmp"
chmod 0755 "$TEST_TMPDIR" || bail_out "chmod 0755 $TEST_TMPDIR failed"
setup_report_kept_tmpdir() {
    printf 'kept %s\n' "$TEST_TMPDIR" >&2
}
if [[ -n ${LAUNCH_TEST_KEEP_TMPDIR:-} ]]; then
    at_exit setup_report_kept_tmpdir
else
    at_exit rm -rf --one-file-system -- "$TEST_TMPDIR"
fi
export TEST_TMPDIR
# The directory that `run` in tap.sh keeps its output files in.
TAP_RUN_DIR=$TEST_TMPDIR/run
mkdir -m 0700 "$TAP_RUN_DIR" || bail_out "cannot create $TAP_RUN_DIR"

# Set LAUNCH_SOURCE to the absolute path of the launch binary under test.
setup_find_launch() {
    local path
    if [[ -n ${LAUNCH:-} ]]; then
        path=$LAUNCH
    elif [[ -n ${abs_top_builddir:-} ]]; then
        path=$abs_top_builddir/bin/launch
    elif [[ -n ${top_builddir:-} ]]; then
        path=$top_builddir/bin/launch
    else
        path=$LAUNCH_TEST_LIB/../../bin/launch
    fi
    if [[ ! -f $path || ! -x $path ]]; then
        bail_out "launch binary not found or not executable at $path: run make first, or set LAUNCH to the binary"
    fi
    LAUNCH_SOURCE=$(realpath -- "$path") || bail_out "realpath $path failed"
}

setup_find_launch
if [[ $(head -c 4 -- "$LAUNCH_SOURCE" | od -An -tx1 | tr -d ' \n') != 7f454c46 ]]; then
    # A libtool wrapper script, for example, stops working once copied.
    diag "NOTE: $LAUNCH_SOURCE is not an ELF file; the copy may not run"
fi
if ! mkdir -- "$TEST_TMPDIR/bin" || ! chmod 0755 -- "$TEST_TMPDIR/bin" ||
    ! install -m 0755 -- "$LAUNCH_SOURCE" "$TEST_TMPDIR/bin/launch"; then
    bail_out "cannot copy $LAUNCH_SOURCE to $TEST_TMPDIR/bin"
fi
LAUNCH=$TEST_TMPDIR/bin/launch
export LAUNCH LAUNCH_SOURCE

# Create the test user, retrying because a parallel test may hold the lock
# on /etc/passwd at the same moment.
setup_create_user() {
    local name=$1 attempt
    for attempt in 1 2 3 4 5 6 7 8 9 10; do
        if getent passwd "$name" >/dev/null; then
            return 0
        fi
        if useradd -m -s /bin/sh -c 'launch test user' "$name" >&2; then
            return 0
        fi
        sleep "0.$attempt"
    done
    getent passwd "$name" >/dev/null ||
        bail_out "useradd $name failed 10 times"
}

if [[ $(id -u) -eq 0 ]]; then
    TEST_USER=launchtest
    setup_create_user "$TEST_USER"
    if [[ ! -c /dev/fuse ]]; then
        skip_all "/dev/fuse is missing: load the fuse kernel module (modprobe fuse)"
    fi
    chmod 0666 /dev/fuse || bail_out "chmod 0666 /dev/fuse failed"
    TEST_UID=$(id -u "$TEST_USER")
    TEST_GID=$(id -g "$TEST_USER")
    TEST_HOME=$(getent passwd "$TEST_USER" | cut -d : -f 6)
else
    TEST_UID=$(id -u)
    TEST_GID=$(id -g)
    # A container may run tests under a uid without a passwd entry.
    TEST_USER=$(id -un 2>/dev/null) || TEST_USER=uid$TEST_UID
    TEST_HOME=$(getent passwd "$TEST_UID" | cut -d : -f 6)
    TEST_HOME=${TEST_HOME:-${HOME:-/}}
fi
# The working directory of as_user commands: the home directory, or / when
# the home directory does not exist.
TEST_CWD=$TEST_HOME
if [[ -z $TEST_CWD || ! -d $TEST_CWD ]]; then
    TEST_CWD=/
fi
export TEST_USER TEST_UID TEST_GID TEST_HOME

# The command prefix that runs a command as the test user, stopped after
# LAUNCH_TEST_TIMEOUT seconds. timeout(1) makes itself the leader of a new
# process group, so a whole group of test processes can be signalled.
AS_USER_PREFIX=(timeout --kill-after=10 "${LAUNCH_TEST_TIMEOUT:-120}")
if [[ $(id -u) -ne 0 ]]; then
    :
elif command -v setpriv >/dev/null; then
    # setpriv keeps the capability bounding set as a login would, so setuid
    # helpers such as newuidmap still work for the test user.
    AS_USER_PREFIX+=(setpriv --reuid="$TEST_UID" --regid="$TEST_GID" --init-groups --)
else
    AS_USER_PREFIX+=(runuser -u "$TEST_USER" --)
fi
# Each test file gets a block cache of its own, removed with TEST_TMPDIR,
# so that tests leave nothing in /dev/shm and see no blocks of another.
TEST_CACHE_DIR=$TEST_TMPDIR/launch-cache
mkdir -m 0700 "$TEST_CACHE_DIR" && chown "$TEST_UID:$TEST_GID" "$TEST_CACHE_DIR" ||
    bail_out "cannot create $TEST_CACHE_DIR for $TEST_USER"
AS_USER_PREFIX+=(
    env -i -C "$TEST_CWD"
    "HOME=$TEST_HOME" "USER=$TEST_USER" "LOGNAME=$TEST_USER"
    "SHELL=/bin/sh" "PATH=/usr/local/bin:/usr/bin:/bin"
    "LAUNCH_CACHE_DIR=$TEST_CACHE_DIR"
)

# as_user CMD [ARGS...]: run CMD as the test user with standard input from
# /dev/null, in TEST_CWD, and with only HOME, USER, LOGNAME, SHELL,
# PATH=/usr/local/bin:/usr/bin:/bin and LAUNCH_CACHE_DIR in the environment.
# Add variables with
# `as_user env NAME=VALUE CMD`. The command gets a TERM signal after
# LAUNCH_TEST_TIMEOUT seconds (default 120, exit status 124) and a KILL
# signal 10 s later if it is still running (exit status 137).
as_user() {
    as_user_stdin "$@" </dev/null
}

# as_user_stdin CMD [ARGS...]: as as_user, but with the caller's standard
# input, for example `printf 'data' | as_user_stdin "$LAUNCH" "$image" -- cat`.
# Standard input must not be a terminal: timeout(1) runs the command in a
# background process group, which the kernel stops when it reads the terminal.
as_user_stdin() {
    if [[ $# -eq 0 ]]; then
        bail_out "as_user: no command given"
    fi
    "${AS_USER_PREFIX[@]}" "$@"
}

# Stop the process group that as_user_background started: TERM, then KILL
# after 5 s.
setup_stop_process_group() {
    local pid=$1 i
    kill -TERM -- "-$pid" 2>/dev/null || return 0
    for ((i = 0; i < 50; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL -- "-$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    return 0
}

# as_user_background CMD [ARGS...]: start CMD as the test user in the
# background, with standard input from /dev/null and standard output and
# error appended to $TEST_TMPDIR/background.log. Sets AS_USER_PID to the pid
# of timeout(1), which leads the process group of CMD. `kill -TERM "$AS_USER_PID"`
# passes the signal on to CMD, and `wait "$AS_USER_PID"` returns its exit
# status. The group is stopped when the test exits.
as_user_background() {
    if [[ $# -eq 0 ]]; then
        bail_out "as_user_background: no command given"
    fi
    "${AS_USER_PREFIX[@]}" "$@" </dev/null >>"$TEST_TMPDIR/background.log" 2>&1 &
    AS_USER_PID=$!
    at_exit setup_stop_process_group "$AS_USER_PID"
}

# run_launch ARGS...: run launch as the test user through `run`, so the
# results are in RUN_STATUS, RUN_STDOUT and RUN_STDERR.
run_launch() {
    run as_user "$LAUNCH" "$@"
}

# Print the processes of the test user whose command line contains
# TEST_TMPDIR: this file's copy of launch, its watcher and any command given
# a path in TEST_TMPDIR. Other test files run as the same user in parallel,
# so a bare `pgrep -u launchtest` would see their processes too.
test_processes() {
    pgrep -a -u "$TEST_UID" -f -- "$TEST_TMPDIR"
}

# Wait up to 3 s for the processes of test_processes to exit, because the
# watcher notices the end of launch only after launch has exited.
wait_for_no_test_processes() {
    local i
    for ((i = 0; i < 30; i++)); do
        if [[ -z $(test_processes) ]]; then
            return 0
        fi
        sleep 0.1
    done
}

# make_user_dir NAME: create $TEST_TMPDIR/NAME owned by the test user with
# mode 0755 and print its path, for bind-mount sources or working
# directories that the test user writes to.
make_user_dir() {
    local dir=$TEST_TMPDIR/$1
    if ! mkdir -p -- "$dir" || ! chmod 0755 -- "$dir" ||
        ! chown "$TEST_UID:$TEST_GID" -- "$dir"; then
        bail_out "cannot create $dir for $TEST_USER"
    fi
    printf '%s\n' "$dir"
}

# Check that the test user can run launch at all. Each failure skips the
# file, because it is a property of the machine, not of launch.
if ! as_user test -r /dev/fuse -a -w /dev/fuse; then
    skip_all "/dev/fuse is not readable and writable by $TEST_USER (ls -l /dev/fuse: $(ls -l /dev/fuse 2>&1))"
fi
if ! setup_userns_error=$(as_user unshare --user --map-root-user true 2>&1); then
    skip_all "user namespaces are unavailable to $TEST_USER: unshare --user failed: $setup_userns_error"
fi
if ! as_user test -x "$LAUNCH"; then
    bail_out "$TEST_USER cannot execute $LAUNCH"
fi
