#!/bin/bash
# Golden tests of the site policy parser: run `launch --show-config` on each
# case directory under tests/policy and compare its standard output,
# standard error and exit status byte for byte with the files of the case.
# No container is started, so any user can run it.
#
# A case directory CASE contains:
#   launch.conf, launch.conf.d/*.conf   the policy, copied to a temporary
#                  directory with mode 0644 (directories 0755) and passed
#                  as LAUNCH_CONFIG_DIR
#   status         the expected exit status (0, or 125 for a launch error)
#   expected       with status 0, the expected standard output; with any
#                  other status, the expected standard error, and standard
#                  output must be empty
#   expected-stderr  with status 0, the expected standard error (default:
#                  empty)
#   modes          optional lines "PATH MODE" applied with chmod after the
#                  copy, because git keeps no modes other than 0644 and 0755
#   no-directory   optional: LAUNCH_CONFIG_DIR names a missing directory
#   todo           optional: a known bug; its first line becomes the reason
#                  of a TAP "# TODO" directive on the case's checks
# Before the comparison, the path of the temporary copy of the case in the
# output becomes @CONFIG_DIR@, and the uid of the user running the test in
# the ownership warning becomes @UID@, so the expected files do not depend
# on either.
#
# Usage: run-golden.sh [--update] [CASE...]
# --update rewrites expected and status from the current output; review
# the diff by hand before committing it.

export LC_ALL=C

script_dir=$(cd "$(dirname "$0")" && pwd)
top_srcdir=${abs_top_srcdir:-$script_dir/../..}
top_builddir=${abs_top_builddir:-$script_dir/../..}
launch=${LAUNCH:-$top_builddir/bin/launch}
cases_dir=$top_srcdir/tests/policy

update=''
if [[ ${1:-} == --update ]]; then
    update=1
    shift
fi

if [[ ! -x $launch ]]; then
    printf 'Bail out! launch binary not found at %s: run make first\n' "$launch"
    exit 255
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/launch-policy-golden.XXXXXX") || {
    printf 'Bail out! mktemp failed\n'
    exit 255
}
trap 'rm -rf -- "$work"' EXIT

if [[ $# -gt 0 ]]; then
    cases=("$@")
else
    cases=()
    for dir in "$cases_dir"/*/; do
        cases+=("$(basename "$dir")")
    done
fi

test_count=0
failure_count=0
todo_reason=''

# result STATUS DESCRIPTION: print one TAP line, with the case's TODO
# directive when it has one.
result() {
    local status=$1 description=$2 directive=''
    test_count=$((test_count + 1))
    if [[ -n $todo_reason ]]; then
        directive=" # TODO $todo_reason"
    fi
    if [[ $status -eq 0 ]]; then
        printf 'ok %d - %s%s\n' "$test_count" "$description" "$directive"
        return 0
    fi
    printf 'not ok %d - %s%s\n' "$test_count" "$description" "$directive"
    if [[ -z $todo_reason ]]; then
        failure_count=$((failure_count + 1))
    fi
    return 1
}

# compare_file GOT EXPECTED DESCRIPTION: pass when the files are equal, else
# fail and print their unified diff as diagnostics.
compare_file() {
    if cmp -s -- "$1" "$2"; then
        result 0 "$3"
        return
    fi
    result 1 "$3"
    diff -u --label expected --label got -- "$2" "$1" | sed 's/^/# /'
}

# Copy the policy files of case $1 to $2 with fixed modes.
copy_case() {
    local from=$1 to=$2 path mode
    mkdir -p -- "$to" || return 1
    if [[ -e $from/launch.conf ]]; then
        cp -- "$from/launch.conf" "$to/launch.conf" || return 1
    fi
    if [[ -d $from/launch.conf.d ]]; then
        cp -R -- "$from/launch.conf.d" "$to/launch.conf.d" || return 1
    fi
    find "$to" -type d -exec chmod 0755 {} + || return 1
    find "$to" -type f -exec chmod 0644 {} + || return 1
    if [[ -f $from/modes ]]; then
        while read -r path mode; do
            [[ -n $path ]] || continue
            chmod -- "$mode" "$to/$path" || return 1
        done <"$from/modes"
    fi
}

# Replace the temporary path and the uid in file $1 with the placeholders.
to_placeholders() {
    local file=$1 dir=$2
    sed -i -e "s|${dir//./\\.}|@CONFIG_DIR@|g" \
        -e "s|owner uid $(id -u), |owner uid @UID@, |g" -- "$file"
}

for name in "${cases[@]}"; do
    source_dir=$cases_dir/$name
    config_dir=$work/$name
    todo_reason=''
    if [[ -f $source_dir/todo ]]; then
        todo_reason=$(head -n 1 -- "$source_dir/todo")
    fi
    if ! copy_case "$source_dir" "$config_dir"; then
        result 1 "$name: copy the case"
        continue
    fi
    if [[ -f $source_dir/no-directory ]]; then
        config_dir=$work/$name/missing
    fi

    status=0
    env -i PATH=/usr/bin:/bin LAUNCH_CONFIG_DIR="$config_dir" \
        "$launch" --show-config >"$work/stdout" 2>"$work/stderr" || status=$?
    to_placeholders "$work/stdout" "$work/$name"
    to_placeholders "$work/stderr" "$work/$name"

    if [[ -n $update ]]; then
        printf '%s\n' "$status" >"$source_dir/status"
        if [[ $status -eq 0 ]]; then
            cp -- "$work/stdout" "$source_dir/expected"
            if [[ -s $work/stderr ]]; then
                cp -- "$work/stderr" "$source_dir/expected-stderr"
            else
                rm -f -- "$source_dir/expected-stderr"
            fi
        else
            cp -- "$work/stderr" "$source_dir/expected"
            rm -f -- "$source_dir/expected-stderr"
        fi
        result 0 "$name: updated (status $status)"
        continue
    fi

    if [[ ! -f $source_dir/status || ! -f $source_dir/expected ]]; then
        result 1 "$name: the case has a status and an expected file"
        continue
    fi
    expected_status=$(<"$source_dir/status")
    if [[ $status == "$expected_status" ]]; then
        result 0 "$name: exit status $expected_status"
    else
        result 1 "$name: exit status $expected_status"
        printf '# got exit status %s\n' "$status"
    fi

    if [[ -f $source_dir/expected-stderr ]]; then
        expected_stderr=$source_dir/expected-stderr
    else
        expected_stderr=/dev/null
    fi
    if [[ $expected_status -eq 0 ]]; then
        compare_file "$work/stdout" "$source_dir/expected" "$name: standard output"
        compare_file "$work/stderr" "$expected_stderr" "$name: standard error"
    else
        compare_file "$work/stdout" /dev/null "$name: standard output is empty"
        compare_file "$work/stderr" "$source_dir/expected" "$name: standard error"
    fi
done

printf '1..%d\n' "$test_count"
if [[ $failure_count -gt 0 ]]; then
    printf '# Failed %d of %d tests.\n' "$failure_count" "$test_count"
    exit 1
fi
exit 0
