# shellcheck shell=bash
# Minimal TAP (Test Anything Protocol, version 12) producer for bash tests.
#
# Source this file, then either print a plan first with `plan N` or finish
# with `done_testing`. Each check prints one "ok N - DESC" or "not ok N - DESC"
# line and returns 0 on success and 1 on failure. Diagnostics go to stdout as
# "# ..." lines, which TAP consumers show next to the failed test.
#
# Do not use `set -e` in a test script: a failed check returns 1, which would
# end the script before the remaining checks run.

if [[ -n ${TAP_SH_LOADED:-} ]]; then
    return 0
fi
TAP_SH_LOADED=1

TAP_TEST_COUNT=0
TAP_FAILURE_COUNT=0
TAP_PLANNED_COUNT=''
TAP_DONE=''

# Print the TAP plan "1..N". Call it once, before the first check, or use
# done_testing at the end instead.
plan() {
    if [[ $# -ne 1 || ! $1 =~ ^[0-9]+$ ]]; then
        bail_out "plan: expected one non-negative integer, got: $*"
    fi
    if [[ -n $TAP_PLANNED_COUNT ]]; then
        bail_out "plan: the plan was already printed"
    fi
    TAP_PLANNED_COUNT=$1
    printf '1..%s\n' "$1"
}

# Skip the whole test file: print "1..0 # SKIP REASON" and exit 0.
# Call it before any check has run.
skip_all() {
    if [[ $TAP_TEST_COUNT -ne 0 || -n $TAP_PLANNED_COUNT ]]; then
        bail_out "skip_all called after the plan or a check: $*"
    fi
    TAP_PLANNED_COUNT=0
    TAP_DONE=1
    printf '1..0 # SKIP %s\n' "$*"
    exit 0
}

# Print each argument as a TAP diagnostic. Every line of a multi-line
# argument gets its own "# " prefix.
diag() {
    local message line
    for message in "$@"; do
        while IFS= read -r line || [[ -n $line ]]; do
            printf '# %s\n' "$line"
        done <<<"$message"
    done
}

# Print a diagnostic that describes a value, quoted so that leading and
# trailing white space and empty values are visible. Values with control
# characters other than newline are also shown in bash $'...' notation.
tap_diag_value() {
    local label=$1 value=$2
    diag "$(printf "%12s: '%s'" "$label" "$value")"
    if [[ ${value//$'\n'/} =~ [[:cntrl:]] ]]; then
        diag "$(printf '%12s  %q' '' "$value")"
    fi
}

# Print one test line. STATUS 0 means ok, anything else not ok.
tap_result() {
    local status=$1 description=$2
    TAP_TEST_COUNT=$((TAP_TEST_COUNT + 1))
    # A "#" in the description would start a TAP directive such as SKIP.
    description=${description//#/\\#}
    if [[ $status -eq 0 ]]; then
        printf 'ok %d - %s\n' "$TAP_TEST_COUNT" "$description"
        return 0
    fi
    TAP_FAILURE_COUNT=$((TAP_FAILURE_COUNT + 1))
    printf 'not ok %d - %s\n' "$TAP_TEST_COUNT" "$description"
    diag "  Failed test '$2'"
    if [[ ${#FUNCNAME[@]} -gt 2 ]]; then
        diag "  at ${BASH_SOURCE[2]:-?} line ${BASH_LINENO[1]:-?}"
    fi
    return 1
}

# ok STATUS DESC: pass when STATUS is 0. Typical use:
#     [[ -x $file ]]; ok $? "file is executable"
ok() {
    if [[ $# -ne 2 || ! $1 =~ ^[0-9]+$ ]]; then
        bail_out "ok: expected an exit status and a description, got: $*"
    fi
    tap_result "$1" "$2"
}

# Record a passing check.
pass() {
    tap_result 0 "$1"
}

# Record a failing check, with optional diagnostic lines.
fail() {
    local description=$1
    shift
    tap_result 1 "$description"
    if [[ $# -gt 0 ]]; then
        diag "$@"
    fi
    return 1
}

# is GOT EXPECTED DESC: pass when the two strings are byte for byte equal.
is() {
    if [[ $# -ne 3 ]]; then
        bail_out "is: expected GOT EXPECTED DESC (3 arguments), got $#: $*"
    fi
    if [[ $1 == "$2" ]]; then
        tap_result 0 "$3"
        return 0
    fi
    tap_result 1 "$3"
    tap_diag_value got "$1"
    tap_diag_value expected "$2"
    return 1
}

# isnt GOT UNEXPECTED DESC: pass when the two strings differ.
isnt() {
    if [[ $# -ne 3 ]]; then
        bail_out "isnt: expected GOT UNEXPECTED DESC (3 arguments), got $#: $*"
    fi
    if [[ $1 != "$2" ]]; then
        tap_result 0 "$3"
        return 0
    fi
    tap_result 1 "$3"
    tap_diag_value got "$1"
    diag "    expected: anything else"
    return 1
}

# like GOT REGEX DESC: pass when at least one line of GOT matches the
# extended regular expression REGEX (grep -E). Anchor with ^ and $ to match
# a whole line.
like() {
    if [[ $# -ne 3 ]]; then
        bail_out "like: expected GOT REGEX DESC (3 arguments), got $#: $*"
    fi
    local status=0
    grep -Eq -e "$2" <<<"$1" || status=$?
    if [[ $status -gt 1 ]]; then
        bail_out "like: grep -E rejected the regular expression: $2"
    fi
    if [[ $status -eq 0 ]]; then
        tap_result 0 "$3"
        return 0
    fi
    tap_result 1 "$3"
    tap_diag_value got "$1"
    tap_diag_value 'should match' "$2"
    return 1
}

# unlike GOT REGEX DESC: pass when no line of GOT matches REGEX (grep -E).
unlike() {
    if [[ $# -ne 3 ]]; then
        bail_out "unlike: expected GOT REGEX DESC (3 arguments), got $#: $*"
    fi
    local status=0
    grep -Eq -e "$2" <<<"$1" || status=$?
    if [[ $status -gt 1 ]]; then
        bail_out "unlike: grep -E rejected the regular expression: $2"
    fi
    if [[ $status -eq 1 ]]; then
        tap_result 0 "$3"
        return 0
    fi
    tap_result 1 "$3"
    tap_diag_value got "$1"
    tap_diag_value "must not match" "$2"
    return 1
}

# skip REASON [COUNT]: record COUNT (default 1) skipped checks.
skip() {
    local reason=$1 count=${2:-1} i
    if [[ ! $count =~ ^[0-9]+$ ]]; then
        bail_out "skip: COUNT must be a non-negative integer, got: $count"
    fi
    for ((i = 0; i < count; i++)); do
        TAP_TEST_COUNT=$((TAP_TEST_COUNT + 1))
        printf 'ok %d # skip %s\n' "$TAP_TEST_COUNT" "$reason"
    done
}

# Stop the whole test run: print "Bail out! REASON" and exit 255.
bail_out() {
    TAP_DONE=1
    printf 'Bail out! %s\n' "$*"
    exit 255
}

# run CMD [ARGS...]: run a command and store its results for later checks.
#   RUN_STATUS       exit status
#   RUN_STDOUT       standard output, trailing newlines removed as by $(...)
#   RUN_STDERR       standard error, trailing newlines removed
#   RUN_STDOUT_EXACT standard output with trailing newlines kept
#   RUN_STDOUT_FILE, RUN_STDERR_FILE  files holding the exact bytes, which
#                    stay valid until the next `run`
# Standard input is inherited. NUL bytes do not survive in the variables, so
# compare binary output through the files.
run() {
    if [[ -z ${TAP_RUN_DIR:-} || ! -d $TAP_RUN_DIR ]]; then
        TAP_RUN_DIR=$(mktemp -d "${TMPDIR:-/tmp}/tap-run.XXXXXX") ||
            bail_out "run: mktemp failed"
        # setup.sh removes this directory in its exit handler. Test scripts
        # that source only tap.sh must remove it themselves.
    fi
    RUN_STDOUT_FILE=$TAP_RUN_DIR/stdout
    RUN_STDERR_FILE=$TAP_RUN_DIR/stderr
    RUN_STATUS=0
    "$@" >"$RUN_STDOUT_FILE" 2>"$RUN_STDERR_FILE" || RUN_STATUS=$?
    RUN_STDOUT=$(cat "$RUN_STDOUT_FILE")
    RUN_STDERR=$(cat "$RUN_STDERR_FILE")
    RUN_STDOUT_EXACT=$(
        cat "$RUN_STDOUT_FILE"
        printf .
    )
    RUN_STDOUT_EXACT=${RUN_STDOUT_EXACT%.}
    return 0
}

# Print the exit status, standard output and standard error of the last
# `run` as diagnostics, for use after a failed check on its results.
diag_run() {
    diag "exit status: ${RUN_STATUS:-unset}"
    if [[ -n ${RUN_STDOUT:-} ]]; then
        diag "stdout:" "$RUN_STDOUT"
    fi
    if [[ -n ${RUN_STDERR:-} ]]; then
        diag "stderr:" "$RUN_STDERR"
    fi
}

# done_testing [N]: print the plan if none was printed, check the count of
# checks against the plan (or against N), and exit. The exit status is 0 when
# every check passed, the number of failures (at most 254) otherwise, and 255
# when the count does not match the plan.
done_testing() {
    local expected=${1:-$TAP_PLANNED_COUNT}
    TAP_DONE=1
    if [[ -z $TAP_PLANNED_COUNT ]]; then
        printf '1..%d\n' "$TAP_TEST_COUNT"
    fi
    if [[ -n $expected && $expected -ne $TAP_TEST_COUNT ]]; then
        diag "Planned $expected tests but ran $TAP_TEST_COUNT."
        exit 255
    fi
    if [[ $TAP_FAILURE_COUNT -gt 0 ]]; then
        diag "Failed $TAP_FAILURE_COUNT of $TAP_TEST_COUNT tests."
        exit $((TAP_FAILURE_COUNT > 254 ? 254 : TAP_FAILURE_COUNT))
    fi
    exit 0
}

# Report a script that ends without done_testing, so that an early `exit`
# or a crash does not look like a complete run, and return 1 for it.
# Called from the exit handler in setup.sh.
tap_check_finished() {
    if [[ -n $TAP_DONE ]]; then
        return 0
    fi
    diag "The test script exited after $TAP_TEST_COUNT tests without calling done_testing."
    if [[ -z $TAP_PLANNED_COUNT ]]; then
        # Without a plan, TAP consumers cannot tell that tests are missing,
        # so print a plan that the results cannot satisfy.
        printf '1..%d\n' "$((TAP_TEST_COUNT + 1))"
    fi
    return 1
}
