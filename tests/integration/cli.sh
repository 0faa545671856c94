#!/bin/bash
# Command line of launch: --help and --version, usage errors, where the
# options end, exit status of the command (including death by a signal, 126
# and 127) and the -v, -vv and -q output.

. "$(dirname "$0")/../lib/setup.sh"

# has_line TEXT LINE DESC: pass when one line of TEXT equals LINE exactly.
has_line() {
    if grep -qFx -- "$2" <<<"$1"; then
        pass "$3"
        return 0
    fi
    fail "$3"
    tap_diag_value got "$1"
    tap_diag_value 'no line' "$2"
    return 1
}

image=$(busybox_image) || bail_out "cannot build the busybox image"
usage_line="Usage: launch [OPTION]... IMAGE [--] [COMMAND [ARG]...]"

# --help and --version print to stdout and exit 0 without an image.
run_launch --help
is "$RUN_STATUS" 0 "--help exits with status 0" || diag_run
is "$(head -n 1 <<<"$RUN_STDOUT")" "$usage_line" "--help prints the usage line first"
is "$RUN_STDERR" "" "--help prints nothing on stderr"

run_launch -h
is "$RUN_STATUS" 0 "-h exits with status 0" || diag_run
is "$(head -n 1 <<<"$RUN_STDOUT")" "$usage_line" "-h prints the usage line first"

run_launch --version
is "$RUN_STATUS" 0 "--version exits with status 0" || diag_run
is "$RUN_STDOUT_EXACT" $'launch 0.1.0\n' "--version prints exactly the version"
is "$RUN_STDERR" "" "--version prints nothing on stderr"

run_launch -V
is "$RUN_STATUS" 0 "-V exits with status 0" || diag_run
is "$RUN_STDOUT_EXACT" $'launch 0.1.0\n' "-V prints exactly the version"

# Usage errors exit 125 with one error line and nothing on stdout.
run_launch --bogus "$image" -- /bin/true
is "$RUN_STATUS" 125 "unknown long option exits 125"
is "$RUN_STDERR" "launch: error: unknown option '--bogus'; see 'launch --help'" \
    "unknown long option message"
is "$RUN_STDOUT" "" "unknown long option prints nothing on stdout"

run_launch -x "$image" -- /bin/true
is "$RUN_STATUS" 125 "unknown short option exits 125"
is "$RUN_STDERR" "launch: error: unknown option '-x'; see 'launch --help'" \
    "unknown short option message"

# launch reports a value given to an option that takes none through
# getopt's optopt, which is the option's internal code. So "--root=1" comes
# out as "unknown option -" followed by the control character 0x03.
run_launch --root=1 "$image" -- /bin/true
is "$RUN_STATUS" 125 "value for --root exits 125"
like "$RUN_STDERR" "^launch: error: .*--root" "value for --root message names --root"
unlike "$RUN_STDERR" '[[:cntrl:]]' "value for --root message has no control character"

run_launch --version=1
is "$RUN_STATUS" 125 "value for --version exits 125"
like "$RUN_STDERR" "^launch: error: .*--version" "value for --version message names --version"

# --p is a prefix of both --pid and --private-tmp.
run_launch --p "$image" -- /bin/true
is "$RUN_STATUS" 125 "ambiguous option prefix exits 125"
like "$RUN_STDERR" "^launch: error: .*ambiguous" "ambiguous option prefix message says ambiguous"

run_launch -b
is "$RUN_STATUS" 125 "short option without its value exits 125"
is "$RUN_STDERR" "launch: error: missing value for option -b; see 'launch --help'" \
    "short option without its value message"

run_launch --env
is "$RUN_STATUS" 125 "long option without its value exits 125"
is "$RUN_STDERR" "launch: error: missing value for option --env; see 'launch --help'" \
    "long option without its value message"

run_launch
is "$RUN_STATUS" 125 "no arguments exits 125"
is "$RUN_STDERR" "launch: error: no image given; see 'launch --help'" "no arguments message"

run_launch -v
is "$RUN_STATUS" 125 "options without image exit 125"
is "$RUN_STDERR" "launch: error: no image given; see 'launch --help'" "options without image message"

no_command_error="launch: error: no command given for image '$image', and the image has no entrypoint; write the command after the image, for example: launch $image -- /bin/sh"
run_launch "$image"
is "$RUN_STATUS" 125 "image without command exits 125"
is "$RUN_STDERR" "$no_command_error" "image without command message"

run_launch "$image" --
is "$RUN_STATUS" 125 "image and -- without command exits 125"
is "$RUN_STDERR" "$no_command_error" "image and -- without command message"

# Options end at the image, and the -- after it is optional.
run_launch "$image" /bin/echo hello
is "$RUN_STATUS" 0 "command without -- exits 0" || diag_run
is "$RUN_STDOUT_EXACT" $'hello\n' "command without -- runs"

run_launch -- "$image" /bin/echo hello
is "$RUN_STATUS" 0 "-- before the image exits 0" || diag_run
is "$RUN_STDOUT_EXACT" $'hello\n' "-- before the image ends the options"

run_launch "$image" -- /bin/echo -v
is "$RUN_STATUS" 0 "-v after -- exits 0" || diag_run
is "$RUN_STDOUT_EXACT" $'-v\n' "-v after -- belongs to the command"
is "$RUN_STDERR" "" "-v after -- prints no verbose lines"

run_launch "$image" /bin/echo -v
is "$RUN_STATUS" 0 "-v after the command exits 0" || diag_run
is "$RUN_STDOUT_EXACT" $'-v\n' "-v after the command belongs to the command"
is "$RUN_STDERR" "" "-v after the command prints no verbose lines"

run_launch "$image" /bin/echo --version --bogus -- x
is "$RUN_STATUS" 0 "launch options after the image exit 0" || diag_run
is "$RUN_STDOUT_EXACT" $'--version --bogus -- x\n' "launch options after the image reach the command"

# The command's exit status is launch's exit status.
for code in 0 1 42 255; do
    run_launch "$image" -- /bin/sh -c "exit $code"
    is "$RUN_STATUS" "$code" "exit status $code passes through" || diag_run
done

run_launch "$image" -- /bin/false
is "$RUN_STATUS" 1 "false exits 1" || diag_run

# A command killed by signal N gives 128+N.
for signal in TERM:15 KILL:9 SEGV:11; do
    name=${signal%:*}
    number=${signal#*:}
    run_launch "$image" -- /bin/sh -c "kill -$name \$\$"
    is "$RUN_STATUS" "$((128 + number))" "death by SIG$name exits $((128 + number))" || diag_run
done

# 127: the command is not found.
run_launch "$image" -- /nonexistent
is "$RUN_STATUS" 127 "missing absolute command exits 127"
is "$RUN_STDERR" "launch: error: command '/nonexistent' not found in the image; check the path inside the image" \
    "missing absolute command message"

run_launch "$image" -- no-such-command
is "$RUN_STATUS" 127 "missing PATH command exits 127"
is "$RUN_STDERR" "launch: error: command 'no-such-command' not found in the container's PATH (/usr/local/bin:/usr/bin:/bin); give the full path of the command, or set PATH with -e PATH=..." \
    "missing PATH command message"

run_launch "$image" -- ""
is "$RUN_STATUS" 127 "empty command exits 127"
is "$RUN_STDERR" "launch: error: the command is empty" "empty command message"

# 126: the command exists but cannot be executed. /bin/notexec has mode
# 0644, and /bin/missing-interpreter starts with #!/nonexistent/interpreter.
run_launch "$image" -- /bin/notexec
is "$RUN_STATUS" 126 "non-executable file exits 126"
is "$RUN_STDERR" "launch: error: cannot execute '/bin/notexec': Permission denied; the file is not executable or lies on a directory you cannot search" \
    "non-executable file message"

run_launch "$image" -- notexec
is "$RUN_STATUS" 126 "non-executable file in PATH exits 126"
is "$RUN_STDERR" "launch: error: cannot execute 'notexec' found in PATH: Permission denied; the file is not executable" \
    "non-executable file in PATH message"

run_launch "$image" -- /bin/missing-interpreter
is "$RUN_STATUS" 126 "missing interpreter exits 126"
is "$RUN_STDERR" "launch: error: cannot execute '/bin/missing-interpreter': its interpreter (the '#!' line) or loader is missing in the image; install the interpreter in the image or run it explicitly" \
    "missing interpreter message"

# The PATH search treats ENOENT from execve as "not found", also when the
# file exists and only its interpreter is missing.
run_launch "$image" -- missing-interpreter
is "$RUN_STATUS" 126 "missing interpreter in PATH exits 126"
like "$RUN_STDERR" "^launch: error: cannot execute 'missing-interpreter': its interpreter" \
    "missing interpreter in PATH message"

# -v prints the decisions, each line prefixed with launch[PID]: the
# launcher's pid, which is the parent of the command when there is no
# --pid, or the command's own pid for the lines of the container process,
# which assembles the root and then becomes the command.
image_size=$(stat -c %s -- "$image")
run_launch -v "$image" -- /bin/sh -c 'echo $PPID $$'
is "$RUN_STATUS" 0 "-v exits 0" || diag_run
read -r launcher_pid command_pid <<<"$RUN_STDOUT"
has_line "$RUN_STDERR" "launch[$launcher_pid]: image: SquashFS file $image ($image_size bytes)" \
    "-v prints the image line"
has_line "$RUN_STDERR" "launch[$launcher_pid]: user: $TEST_USER (uid $TEST_UID, gid $TEST_GID)" \
    "-v prints the user line"
has_line "$RUN_STDERR" "launch[$launcher_pid]: uid map: $TEST_UID $TEST_UID 1" \
    "-v prints the uid map"
has_line "$RUN_STDERR" "launch[$launcher_pid]: gid map: $TEST_GID $TEST_GID 1" \
    "-v prints the gid map"
like "$RUN_STDERR" "^launch\[$command_pid\]: working directory: " \
    "-v prints the working directory"
is "$(grep -v -e "^launch\[$launcher_pid\]: " -e "^launch\[$command_pid\]: " <<<"$RUN_STDERR")" "" \
    "-v lines all start with launch[PID]"
unlike "$RUN_STDERR" "pivot_root" "-v prints no -vv steps"

run_launch -v --root "$image" -- /bin/true
is "$RUN_STATUS" 0 "-v --root exits 0" || diag_run
like "$RUN_STDERR" "^launch\[[0-9]+\]: user: $TEST_USER \(uid $TEST_UID, gid $TEST_GID\), appearing as root$" \
    "-v --root prints the user line"
like "$RUN_STDERR" "^launch\[[0-9]+\]: uid map: 0 $TEST_UID 1$" "-v --root prints the uid map"
like "$RUN_STDERR" "^launch\[[0-9]+\]: gid map: 0 $TEST_GID 1$" "-v --root prints the gid map"

# -vv adds the steps. The exec step is printed by the container process,
# which becomes the command, so it carries the command's pid.
run_launch -vv "$image" -- /bin/sh -c 'echo $PPID $$'
is "$RUN_STATUS" 0 "-vv exits 0" || diag_run
read -r launcher_pid command_pid <<<"$RUN_STDOUT"
has_line "$RUN_STDERR" "launch[$launcher_pid]: unshare user and mount namespaces" \
    "-vv prints the unshare step"
has_line "$RUN_STDERR" "launch[$command_pid]: pivot_root into the container's root" \
    "-vv prints the pivot_root step"
like "$RUN_STDERR" "^launch\[$command_pid\]: exec /bin/sh in /" \
    "-vv prints the exec step with the command's pid"
has_line "$RUN_STDERR" "launch[$launcher_pid]: image: SquashFS file $image ($image_size bytes)" \
    "-vv keeps the -v lines"

# -q drops warnings but not errors. Starting in /usr/share, a system
# directory that launch does not bind and the busybox image lacks, makes
# launch warn and start in /.
share_warning="launch: warning: working directory /usr/share is a system directory, which is not bound, and the image has no such directory; starting in /"
run as_user env -C /usr/share "$LAUNCH" "$image" -- /bin/pwd
is "$RUN_STATUS" 0 "start in /usr/share exits 0" || diag_run
is "$RUN_STDOUT" / "start in /usr/share falls back to /"
is "$RUN_STDERR" "$share_warning" "start in /usr/share prints the warning"

run as_user env -C /usr/share "$LAUNCH" -q "$image" -- /bin/pwd
is "$RUN_STATUS" 0 "-q exits 0" || diag_run
is "$RUN_STDOUT" / "-q falls back to /"
is "$RUN_STDERR" "" "-q suppresses the warning"

run_launch -q "$image" -- /nonexistent
is "$RUN_STATUS" 127 "-q with a missing command exits 127"
is "$RUN_STDERR" "launch: error: command '/nonexistent' not found in the image; check the path inside the image" \
    "-q keeps the error"

# Started from the host's /, launch binds the current directory at its own
# path, which is the container's root, so the host's root covers the image
# and the command runs on the host's files.
run as_user env -C / "$LAUNCH" "$image" -- /bin/cat /etc/image-release
is "$RUN_STATUS" 0 "start in / exits 0"
is "$RUN_STDOUT" launch-test-busybox "start in / keeps the image as root"

done_testing
