#!/bin/bash
# Processes of the container. Checks that signals sent to launch reach the
# command once, Ctrl-C in a terminal, and that kill -9 of launch leaves no
# process or mount. Also covers background children, --pid (PID 1, ps,
# reaping), arguments, standard input and output, exit status in pipelines
# and joining a running container with nsenter.

. "$(dirname "$0")/../lib/setup.sh"

# Seconds that the polling helpers wait for a file or a condition.
POLL_TIMEOUT=20

# wait_for_file FILE: poll until FILE exists, for at most POLL_TIMEOUT
# seconds. Returns 1 on timeout.
wait_for_file() {
    local i
    for ((i = 0; i < POLL_TIMEOUT * 10; i++)); do
        [[ -e $1 ]] && return 0
        sleep 0.1
    done
    return 1
}

# wait_for_content FILE: poll until FILE exists and is not empty, for at
# most POLL_TIMEOUT seconds. Returns 1 on timeout.
wait_for_content() {
    local i
    for ((i = 0; i < POLL_TIMEOUT * 10; i++)); do
        [[ -s $1 ]] && return 0
        sleep 0.1
    done
    return 1
}

# launcher_pid TIMEOUT_PID: print the pid of the launch process that
# as_user_background started. timeout(1) forks once and the child execs
# setpriv, env and launch in turn, so launch is its only child.
launcher_pid() {
    local pid
    pid=$(pgrep -P "$1") || return 1
    [[ $(cat "/proc/$pid/comm" 2>/dev/null) == launch ]] || return 1
    printf '%s\n' "$pid"
}

# start_container DIR LAUNCH_ARGS...: start launch with LAUNCH_ARGS as the
# test user in the background and wait until the command creates DIR/ready.
# Sets TIMEOUT_PID (see as_user_background) and LAUNCHER_PID. Returns 1,
# with the reason on stdout as TAP diagnostics, when the command does not
# start within POLL_TIMEOUT seconds.
start_container() {
    local dir=$1
    shift
    as_user_background "$LAUNCH" "$@"
    TIMEOUT_PID=$AS_USER_PID
    LAUNCHER_PID=''
    if ! wait_for_file "$dir/ready"; then
        diag "no $dir/ready after $POLL_TIMEOUT s; output of launch:" \
            "$(cat "$TEST_TMPDIR/background.log")"
        return 1
    fi
    if ! LAUNCHER_PID=$(launcher_pid "$TIMEOUT_PID"); then
        diag "no launch process under timeout(1), pid $TIMEOUT_PID"
        return 1
    fi
}

# Print the pids of the live (not zombie) processes whose mount namespace
# is NAMESPACE, a link text such as "mnt:[4026532175]". A zombie has no
# namespaces any more, so readlink fails for it.
namespace_members() {
    local namespace=$1 entry
    for entry in /proc/[0-9]*; do
        if [[ $(readlink "$entry/ns/mnt" 2>/dev/null) == "$namespace" ]]; then
            printf '%s\n' "${entry#/proc/}"
        fi
    done
}

# Print the pids of the live processes among PIDS... (state other than Z).
live_pids() {
    local pid state
    for pid in "$@"; do
        state=$(ps -o stat= -p "$pid" 2>/dev/null) || continue
        if [[ $state != Z* ]]; then
            printf '%s\n' "$pid"
        fi
    done
}

# Print the live processes of the process group PGID as "PID COMMAND".
live_group_members() {
    ps -e -o pid=,pgid=,stat=,comm= |
        awk -v group="$1" '$2 == group && $3 !~ /^Z/ { print $1, $4 }'
}

# Print the host's mount table as "MOUNT_POINT FSTYPE SOURCE" lines, sorted,
# so that two snapshots compare without the changing mount ids.
mount_table() {
    awk '{
        for (i = 7; $i != "-"; i++) {}
        print $5, $(i + 1), $(i + 2)
    }' /proc/self/mountinfo | sort
}

# Quote each argument for a POSIX shell, joined by spaces.
shell_quote() {
    local word quoted=()
    for word in "$@"; do
        quoted+=("'${word//\'/\'\\\'\'}'")
    done
    printf '%s\n' "${quoted[*]}"
}

image=$(busybox_image) || bail_out "cannot build the busybox image"
mounts_before=$(mount_table)

# The script that the signal tests run inside the container with busybox sh:
# it traps SIGNAL, appends the signal's name to DIR/received for each one it
# gets, creates DIR/ready and runs until DIR/stop exists.
trap_script=$TEST_TMPDIR/trap-signal.sh
cat >"$trap_script" <<'EOF'
dir=$1
signal=$2
trap "echo $signal >> \"\$dir/received\"" "$signal"
: > "$dir/ready"
while [ ! -e "$dir/stop" ]; do
    sleep 0.05
done
exit 0
EOF
chmod 0644 "$trap_script"

# Signals sent with kill to launch reach the command exactly once. The
# script runs on after the first delivery, so a second one would be
# appended to DIR/received.
for pid_option in "" --pid; do
    for signal in INT TERM HUP QUIT USR1 USR2 CONT WINCH; do
        label="SIG$signal to launch${pid_option:+ with $pid_option}"
        dir=$(make_user_dir "signal-$signal$pid_option")
        if ! start_container "$dir" $pid_option "$image" -- sh "$trap_script" "$dir" "$signal"; then
            fail "$label: the command starts"
            touch "$dir/stop"
            skip "the command did not start" 2
            continue
        fi
        pass "$label: the command starts"

        kill -s "$signal" "$LAUNCHER_PID"
        wait_for_content "$dir/received"
        touch "$dir/stop"
        status=0
        wait "$TIMEOUT_PID" || status=$?

        is "$(cat "$dir/received" 2>/dev/null)" "$signal" \
            "$label: the command traps it exactly once"
        is "$status" 0 "$label: launch exits with the command's status 0"
    done
done

# Without a trap, SIGTERM ends the command and launch reports 128+15.
dir=$(make_user_dir term-untrapped)
if start_container "$dir" "$image" -- sh -c ': > "$1/ready"; exec sleep 1000' sh "$dir"; then
    kill -TERM "$LAUNCHER_PID"
    status=0
    wait "$TIMEOUT_PID" || status=$?
    is "$status" 143 "SIGTERM to launch ends an untrapped sleep: exit 143"
else
    fail "SIGTERM to launch ends an untrapped sleep: exit 143"
fi

# Ctrl-C and Ctrl-\ in a terminal. script(1) runs launch on a new
# pseudo-terminal as the test user and copies its standard input there, so
# the byte 0x03 makes the terminal send SIGINT to the foreground process
# group: to launch, and to the command directly. launch must not forward it
# a second time.

# terminal_run DIR KEY LAUNCH_ARGS...: run launch with LAUNCH_ARGS through
# script(1) and type the byte KEY (in printf %b notation) once DIR/ready
# exists. When the command is trap_script, DIR/stop is then created once
# DIR/received is not empty, or after POLL_TIMEOUT seconds. Sets
# TERMINAL_STATUS to the exit status of launch. The terminal's output goes
# to DIR/terminal.log.
terminal_run() {
    local dir=$1 key=$2 command
    shift 2
    command="exec $(shell_quote "$LAUNCH" "$@")"
    TERMINAL_STATUS=0
    {
        if wait_for_file "$dir/ready"; then
            printf '%b' "$key"
            if [[ " $* " == *" $trap_script "* ]]; then
                wait_for_content "$dir/received"
            fi
        fi
        : >"$dir/stop"
    } | as_user_stdin script -q -e -c "$command" /dev/null >"$dir/terminal.log" 2>&1 ||
        TERMINAL_STATUS=$?
}

for pid_option in "" --pid; do
    label="Ctrl-C in a terminal${pid_option:+ with $pid_option}"

    dir=$(make_user_dir "ctrl-c-sleep$pid_option")
    terminal_run "$dir" '\003' $pid_option "$image" -- sh -c ': > "$1/ready"; exec sleep 100' sh "$dir"
    is "$TERMINAL_STATUS" 130 "$label: sleep ends, launch exits 130" ||
        diag "terminal output:" "$(cat "$dir/terminal.log")"

    dir=$(make_user_dir "ctrl-c-trap$pid_option")
    terminal_run "$dir" '\003' $pid_option "$image" -- sh "$trap_script" "$dir" INT
    is "$(cat "$dir/received" 2>/dev/null)" INT "$label: the command gets exactly one SIGINT" ||
        diag "terminal output:" "$(cat "$dir/terminal.log")"
    is "$TERMINAL_STATUS" 0 "$label: the trapping command then exits 0"
done

dir=$(make_user_dir ctrl-backslash)
terminal_run "$dir" '\034' "$image" -- sh "$trap_script" "$dir" QUIT
is "$(cat "$dir/received" 2>/dev/null)" QUIT "Ctrl-\\ in a terminal: the command gets exactly one SIGQUIT" ||
    diag "terminal output:" "$(cat "$dir/terminal.log")"

# kill -9 of launch while the command and two background children run: the
# watcher kills every process of the container, and no mount remains. The
# container's processes are found through its mount namespace, which
# launch, the watcher, the PID namespace's init and the command share, and
# through the process group of timeout(1), which the command and its
# children inherit. Other test files may run processes as the same user at
# the same time, so the test does not look at all processes of the user.
# Killed processes stay zombies until the host's init reaps them, so only
# live processes count.
for pid_option in "" --pid; do
    label="kill -9 of launch${pid_option:+ with $pid_option}"
    dir=$(make_user_dir "kill-9$pid_option")
    if ! start_container "$dir" $pid_option "$image" -- \
        sh -c 'sleep 1000 & sleep 1000 & : > "$1/ready"; wait' sh "$dir"; then
        fail "$label: the container starts"
        skip "the container did not start" 5
        continue
    fi
    pass "$label: the container starts"
    namespace=$(readlink "/proc/$LAUNCHER_PID/ns/mnt")
    mapfile -t members < <(namespace_members "$namespace")
    sleepers=$(for pid in "${members[@]}"; do cat "/proc/$pid/comm" 2>/dev/null; done | grep -cx sleep)
    is "$sleepers" 2 "$label: both background sleeps run before the kill"

    kill -KILL "$LAUNCHER_PID"
    # The braces take bash's "Killed" job message off the test's stderr.
    { wait "$TIMEOUT_PID"; } 2>/dev/null
    for ((i = 0; i < POLL_TIMEOUT * 10; i++)); do
        if [[ -z $(namespace_members "$namespace") && -z $(live_pids "${members[@]}") &&
            -z $(live_group_members "$TIMEOUT_PID") ]]; then
            break
        fi
        sleep 0.1
    done
    is "$(namespace_members "$namespace")" "" "$label: no process remains in the container's mount namespace"
    is "$(live_pids "${members[@]}")" "" "$label: every process seen in the container has exited"
    is "$(live_group_members "$TIMEOUT_PID")" "" "$label: no process of the command's process group remains"
    is "$(mount_table | grep -c ' fuse\.launch ')" 0 "$label: the host has no fuse.launch mount"
done

# The same for a process that entered user and mount namespaces of its own
# inside the container (busybox unshare -U -m): the watcher finds it by its
# user namespace, a descendant of the container's, and the command's
# parent-death signal does not reach it.
label="kill -9 of launch, nested namespace"
dir=$(make_user_dir kill-9-nested)
if ! start_container "$dir" "$image" -- sh -c '
        unshare -U -m sh -c "echo \$\$ > \"\$1/inner-pid\"; exec sleep 1000" sh "$1" &
        i=0
        while [ ! -s "$1/inner-pid" ] && [ $i -lt 200 ]; do
            sleep 0.1
            i=$((i + 1))
        done
        : > "$1/ready"
        wait' sh "$dir"; then
    fail "$label: the container starts"
    skip "the container did not start" 1
elif [[ ! -s $dir/inner-pid ]]; then
    pass "$label: the container starts"
    skip "unshare -U -m failed inside the container" 1
else
    pass "$label: the container starts"
    inner_pid=$(cat "$dir/inner-pid")
    kill -KILL "$LAUNCHER_PID"
    { wait "$TIMEOUT_PID"; } 2>/dev/null
    for ((i = 0; i < POLL_TIMEOUT * 10; i++)); do
        [[ -z $(live_pids "$inner_pid") ]] && break
        sleep 0.1
    done
    is "$(live_pids "$inner_pid")" "" "$label: the process in it is killed"
    # Stop the survivor, a process that this test started.
    if [[ -n $(live_pids "$inner_pid") ]]; then
        kill -KILL "$inner_pid"
    fi
fi

# Once the command has exited, SIGINT to launch (Ctrl-C) ends the
# background processes it left, which ignore SIGINT as the children of a
# non-interactive shell do. launch then exits with the command's status.
for pid_option in "" --pid; do
    label="SIGINT after the command${pid_option:+ with $pid_option}"
    dir=$(make_user_dir "after-command$pid_option")
    if ! start_container "$dir" $pid_option "$image" -- sh -c '
            (
                trap "" INT
                trap "echo term > \"\$1/term\"; exit 0" TERM
                while :; do sleep 1; done
            ) &
            echo $! > "$1/child"
            : > "$1/ready"
            exit 4' sh "$dir"; then
        fail "$label: the container starts"
        skip "the container did not start" "$([[ -z $pid_option ]] && echo 3 || echo 2)"
        continue
    fi
    pass "$label: the container starts"
    kill -INT "$LAUNCHER_PID"
    status=0
    wait "$TIMEOUT_PID" 2>/dev/null || status=$?
    is "$status" 4 "$label: launch exits with the command's status"
    # The child got SIGTERM, not only the SIGKILL that ends a PID
    # namespace with its init.
    is "$(cat "$dir/term" 2>/dev/null)" term "$label: the background child got SIGTERM"
    if [[ -z $pid_option ]]; then
        is "$(live_pids "$(cat "$dir/child")")" "" "$label: the background child is ended"
    fi
done

# launch waits for background children that outlive the command and keeps
# serving the image to them: the child reads all of /data/blob a second
# after the command exited.
for pid_option in "" --pid; do
    label="background child${pid_option:+ with $pid_option}"
    dir=$(make_user_dir "background$pid_option")
    run_launch $pid_option "$image" -- sh -c '
        (
            sleep 1
            md5sum /data/blob > "$1/md5.tmp" 2> "$1/md5.err"
            echo $? > "$1/md5.status"
            mv "$1/md5.tmp" "$1/md5"
        ) &
        exit 3' sh "$dir"
    is "$RUN_STATUS" 3 "$label: launch exits with the command's status 3" || diag_run
    # No polling: the file must exist as soon as launch has returned.
    is "$(cat "$dir/md5" 2>/dev/null)" "$BUSYBOX_BLOB_MD5  /data/blob" \
        "$label: finished before launch exited, with the right MD5"
    is "$(cat "$dir/md5.status" 2>/dev/null)" 0 "$label: md5sum exits with status 0"
    is "$(cat "$dir/md5.err" 2>/dev/null)" "" "$label: md5sum prints no error"
done

# --pid: the command runs as PID 2 under launch's init, which is PID 1.
run_launch --pid "$image" -- sh -c 'echo $$'
is "$RUN_STATUS" 0 "--pid: echo \$\$ exits with status 0" || diag_run
is "$RUN_STDOUT_EXACT" $'2\n' "--pid: the command is PID 2"

run_launch --pid "$image" -- ps -o pid,ppid,comm
is "$RUN_STATUS" 0 "--pid: ps exits with status 0" || diag_run
is "$(awk 'NR > 1 { print $1, $2, $3 }' <<<"$RUN_STDOUT")" $'1 0 launch-init\n2 1 ps' \
    "--pid: ps lists only launch-init and ps itself"

# Without --pid the container shares the host's PID namespace.
run_launch "$image" -- cat /proc/1/comm
is "$RUN_STDOUT" "$(cat /proc/1/comm)" "without --pid: PID 1 is the host's init" || diag_run

# --pid reaps orphans: the child of an exited shell is reparented to init,
# and once it exits it must not stay a zombie.
dir=$(make_user_dir zombie)
run_launch --pid "$image" -- sh -c '
    dir=$1
    sh -c "(while [ ! -e \"\$1/go\" ]; do sleep 0.05; done) & echo \$! > \"\$1/orphan\"" sh "$dir"
    orphan=$(cat "$dir/orphan")
    cut -d " " -f 4 "/proc/$orphan/stat" > "$dir/orphan-parent"
    : > "$dir/go"
    i=0
    while [ -e "/proc/$orphan" ] && [ $i -lt 200 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    if [ -e "/proc/$orphan" ]; then
        cut -d " " -f 3 "/proc/$orphan/stat" > "$dir/orphan-state"
    fi
    ps -o pid,stat,comm > "$dir/ps"
    exit 0' sh "$dir"
is "$RUN_STATUS" 0 "--pid orphan: the command exits with status 0" || diag_run
is "$(cat "$dir/orphan-parent" 2>/dev/null)" 1 "--pid orphan: reparented to init (PID 1)"
is "$(cat "$dir/orphan-state" 2>/dev/null)" "" "--pid orphan: reaped within 20 s of exiting"
unlike "$(awk 'NR > 1 { print $2 }' "$dir/ps" 2>/dev/null)" '^Z' "--pid orphan: ps shows no zombie" ||
    diag "$(cat "$dir/ps")"

# Arguments arrive byte for byte: 2000 arguments of 200 bytes (about 400 KB).
mapfile -d '' -t big_args < <(
    perl -e 'for my $i (0 .. 1999) {
        my $text = sprintf("%04d-", $i);
        $text .= chr(33 + ($i + $_) % 94) for 1 .. 195;
        print $text, "\0";
    }'
)
expected=$(printf '%s\0' "${big_args[@]}" | md5sum | cut -d ' ' -f 1)
# The output contains NUL bytes, which `run` would drop from RUN_STDOUT with
# a warning, so it goes to a file.
status=0
as_user "$LAUNCH" "$image" -- printf '%s\0' "${big_args[@]}" >"$TEST_TMPDIR/args.out" || status=$?
is "$status" 0 "2000 arguments: printf exits with status 0"
is "$(md5sum <"$TEST_TMPDIR/args.out" | cut -d ' ' -f 1)" "$expected" "2000 arguments of 200 bytes arrive intact"
run_launch "$image" -- sh -c 'echo $#' sh "${big_args[@]}"
is "$RUN_STDOUT" 2000 "2000 arguments: the command counts 2000"

# Every byte from 1 to 255 in one argument, and arguments that a shell
# would split, expand or drop.
all_bytes=$(perl -e 'print map { chr } 1 .. 255')
odd_args=("$all_bytes" ' ' $'\n' $'a\tb' '"' "'" '*' '' '-x' '--' '$HOME' '\' ' lead and trail ')
expected=$(printf '%s\0' "${odd_args[@]}" | md5sum | cut -d ' ' -f 1)
status=0
as_user "$LAUNCH" "$image" -- printf '%s\0' "${odd_args[@]}" >"$TEST_TMPDIR/args.out" || status=$?
is "$status" 0 "binary arguments: printf exits with status 0"
is "$(md5sum <"$TEST_TMPDIR/args.out" | cut -d ' ' -f 1)" "$expected" "bytes 1 to 255, blanks, quotes and '*' arrive intact"
run_launch "$image" -- sh -c 'echo $#' sh "${odd_args[@]}"
is "$RUN_STDOUT" "${#odd_args[@]}" "binary arguments: the command counts ${#odd_args[@]}, the empty one included"

# Standard input: 10 MiB of random bytes through launch into md5sum.
head -c 10485760 /dev/urandom >"$TEST_TMPDIR/random"
expected=$(md5sum <"$TEST_TMPDIR/random" | cut -d ' ' -f 1)
run as_user_stdin "$LAUNCH" "$image" -- md5sum <"$TEST_TMPDIR/random"
is "$RUN_STATUS" 0 "10 MiB on stdin: md5sum exits with status 0" || diag_run
is "$RUN_STDOUT" "$expected  -" "10 MiB on stdin arrive intact"

# Standard output and error stay separate.
run_launch "$image" -- sh -c 'echo to-stdout; echo to-stderr >&2; exit 4'
is "$RUN_STATUS" 4 "stdout and stderr: launch exits with the command's status 4"
is "$RUN_STDOUT_EXACT" $'to-stdout\n' "stdout contains only the command's stdout"
is "$(cat "$RUN_STDERR_FILE")" "to-stderr" "stderr contains only the command's stderr"

# Exit status of pipelines, inside the container and around launch.
run_launch "$image" -- sh -c 'false | true'
is "$RUN_STATUS" 0 "pipeline 'false | true' inside: exit 0"
run_launch "$image" -- sh -c 'true | exit 5'
is "$RUN_STATUS" 5 "pipeline 'true | exit 5' inside: exit 5"

printf 'a\nb\nc\n' | as_user_stdin "$LAUNCH" "$image" -- sh -c 'wc -l; exit 6' | cat >"$TEST_TMPDIR/pipe.out"
statuses="${PIPESTATUS[*]}"
is "$statuses" "0 6 0" "launch in a host pipeline reports the command's status 6"
is "$(cat "$TEST_TMPDIR/pipe.out")" 3 "launch in a host pipeline passes stdin and stdout"

# A reader that closes the pipe early kills the command with SIGPIPE:
# launch blocks SIGPIPE for itself but must not pass that on.
as_user "$LAUNCH" "$image" -- yes | head -n 2 >"$TEST_TMPDIR/pipe.out"
statuses="${PIPESTATUS[*]}"
is "$statuses" "141 0" "yes | head: the command dies of SIGPIPE, launch exits 141"
is "$(cat "$TEST_TMPDIR/pipe.out")" $'y\ny' "yes | head: head prints two lines"

# Joining: another process of the user enters the container's user and mount
# namespaces through launch's pid and sees the image.
dir=$(make_user_dir join)
if start_container "$dir" "$image" -- sh -c ': > "$1/ready"; exec sleep 1000' sh "$dir"; then
    pass "join: the container starts"
    run as_user nsenter --preserve-credentials -U -m -t "$LAUNCHER_PID" cat /etc/image-release
    is "$RUN_STATUS" 0 "join: nsenter cat exits with status 0" || diag_run
    is "$RUN_STDOUT" launch-test-busybox "join: nsenter reads /etc/image-release of the image"
    run as_user nsenter --preserve-credentials -U -m -t "$LAUNCHER_PID" id -u
    is "$RUN_STDOUT" "$TEST_UID" "join: the joined process keeps the user's uid" || diag_run

    kill -TERM "$LAUNCHER_PID"
    status=0
    wait "$TIMEOUT_PID" || status=$?
    is "$status" 143 "join: SIGTERM to launch then ends the container, exit 143"
else
    fail "join: the container starts"
    skip "the container did not start" 4
fi

# Every container of this file is gone, and none left a mount on the host.
is "$(mount_table)" "$mounts_before" "the host's mount table is unchanged"

done_testing
