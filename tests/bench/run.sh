#!/bin/bash
# Benchmarks of launch against the plain command on the host, unshare -Urm,
# bubblewrap, Charliecloud's ch-run and the kernel's squashfs driver, timed
# with hyperfine. README.md in this directory describes the cases, the
# options and how to read the results. `make bench` runs this script.
#
# Prints one table of medians and ratios and the verdict on each target, and
# writes both, with the machine and the command, to RESULTS.md. Exits with
# status 0 when every selected case ran, also when a target is missed, and
# with status 1 when a case failed to run (its command failed, or printed
# something other than expected), 2 when the benchmarks cannot start.

# make runs this file with $(SHELL), which need not be bash.
if [ -z "${BASH_VERSION:-}" ]; then
    exec bash "$0" "$@"
fi

set -u -o pipefail

# The settings that the caller chose, for the command line in the report.
CALLER_SETTINGS=''
for setting in BENCH_CASES BENCH_QUICK BENCH_CACHE BENCH_USER BENCH_RESULTS; do
    if [[ -n ${!setting:-} ]]; then
        CALLER_SETTINGS+="$setting=${!setting}"$'\n'
    fi
done

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/bench/images.sh
. "$BENCH_DIR/images.sh"

BENCH_CASES=${BENCH_CASES:-1 2 3 4 5 6}
BENCH_QUICK=${BENCH_QUICK:-}
BENCH_RESULTS=${BENCH_RESULTS:-$BENCH_DIR/RESULTS.md}
# Seconds before one hyperfine run of a group of commands, or one check of
# a command, is stopped.
BENCH_GROUP_TIMEOUT=${BENCH_GROUP_TIMEOUT:-1800}
BENCH_CHECK_TIMEOUT=${BENCH_CHECK_TIMEOUT:-300}

# Number of launches that case 5 starts at once.
BURST_COUNT=32
WALK_READER_COUNTS=(1 2 4)

die() {
    printf 'bench: error: %s\n' "$*" >&2
    exit 2
}

say() {
    printf '%s\n' "$*"
}

# Print NOUN, with an s unless COUNT is 1.
plural() {
    if [[ $1 -eq 1 ]]; then printf '%s' "$2"; else printf '%ss' "$2"; fi
}

for selected_case in $BENCH_CASES; do
    [[ $selected_case =~ ^[1-6]$ ]] ||
        die "BENCH_CASES must list case numbers from 1 to 6, got: $BENCH_CASES"
done

case_selected() {
    [[ " $BENCH_CASES " == *" $1 "* ]]
}

# Tools, by absolute path so that the commands do not depend on PATH.
find_tool() {
    local name=$1 package=$2 path
    path=$(command -v "$name") || die "$name not found: install the Debian package $package"
    printf '%s\n' "$path"
}
HYPERFINE=$(find_tool hyperfine hyperfine)
JQ=$(find_tool jq jq)
CH_RUN=$(find_tool ch-run charliecloud-runtime)
BWRAP=$(find_tool bwrap bubblewrap)
UNSHARE=$(find_tool unshare util-linux)
find_tool mksquashfs squashfs-tools >/dev/null
find_tool unsquashfs squashfs-tools >/dev/null
find_tool gcc gcc >/dev/null
busybox_check_binary || die "the images need a static busybox"

# The launch binary under test.
if [[ -z ${LAUNCH:-} ]]; then
    LAUNCH=$BENCH_DIR/../../bin/launch
fi
[[ -f $LAUNCH && -x $LAUNCH ]] ||
    die "launch binary not found or not executable at $LAUNCH: run make first, or set LAUNCH to the binary"
LAUNCH_SOURCE=$(realpath -- "$LAUNCH") || die "realpath $LAUNCH failed"

# The benchmarks run as an ordinary user. As root, that is BENCH_USER
# (default launchtest, created if missing like tests/lib/setup.sh does), and
# root itself only builds the images, mounts the kernel's squashfs and drops
# caches.
if [[ $(id -u) -eq 0 ]]; then
    IS_ROOT=1
    BENCH_USER=${BENCH_USER:-launchtest}
    if ! getent passwd "$BENCH_USER" >/dev/null; then
        useradd -m -s /bin/sh -c 'launch test user' "$BENCH_USER" ||
            die "useradd $BENCH_USER failed"
    fi
    [[ -c /dev/fuse ]] || die "/dev/fuse is missing: load the fuse kernel module (modprobe fuse)"
    # The mode that Debian's udev rules give /dev/fuse.
    chmod 0666 /dev/fuse || die "chmod 0666 /dev/fuse failed"
    BENCH_UID=$(id -u "$BENCH_USER")
    BENCH_GID=$(id -g "$BENCH_USER")
    BENCH_HOME=$(getent passwd "$BENCH_USER" | cut -d : -f 6)
    command -v setpriv >/dev/null || die "setpriv not found: install the Debian package util-linux"
    AS_USER=(setpriv --reuid="$BENCH_UID" --regid="$BENCH_GID" --init-groups --)
else
    IS_ROOT=
    BENCH_UID=$(id -u)
    BENCH_GID=$(id -g)
    BENCH_USER=$(id -un 2>/dev/null) || BENCH_USER=uid$BENCH_UID
    BENCH_HOME=${HOME:-/}
    AS_USER=()
fi
# Every command runs in / with this environment: / keeps launch from binding
# a working directory, and ch-run needs USER.
AS_USER+=(
    env -i -C /
    "HOME=$BENCH_HOME" "USER=$BENCH_USER" "LOGNAME=$BENCH_USER"
    "PATH=/usr/local/bin:/usr/bin:/bin"
)

KERNEL_MOUNTS=()
FAILED_CASES=()
WORK=''
LAUNCH_CACHE=''

cleanup() {
    local mount_point
    for mount_point in "${KERNEL_MOUNTS[@]}"; do
        umount "$mount_point" 2>/dev/null
    done
    if [[ -n $LAUNCH_CACHE ]]; then
        rm -rf --one-file-system -- "$LAUNCH_CACHE"
    fi
    if [[ -z $WORK ]]; then
        return
    elif [[ -n ${BENCH_KEEP:-} || ${#FAILED_CASES[@]} -ne 0 ]]; then
        printf 'bench: kept hyperfine output and logs in %s\n' "$WORK" >&2
    else
        rm -rf --one-file-system -- "$WORK"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The work directory contains a copy of launch that the bench user can execute
# wherever the build tree is, the helper scripts, and hyperfine's output.
WORK=$(mktemp -d /tmp/launch-bench.XXXXXX) || die "cannot create a directory under /tmp"
chmod 0755 "$WORK" &&
    mkdir -m 0755 "$WORK/bin" &&
    install -m 0755 -- "$LAUNCH_SOURCE" "$WORK/bin/launch" &&
    install -m 0644 -- "$BENCH_DIR/burst.sh" "$WORK/bin/burst.sh" &&
    mkdir -m 0755 "$WORK/json" "$WORK/log" &&
    chown "$BENCH_UID:$BENCH_GID" "$WORK/json" ||
    die "preparing the work directory $WORK failed"
LAUNCH_BIN=$WORK/bin/launch
BURST=$WORK/bin/burst.sh

# launch keeps decompressed blocks in a block cache that outlives each launch
# (see launch(1)). LAUNCH_CACHE_DIR points it at a new directory for this
# run, so that blocks left by earlier work do not count, and cold-cache runs
# empty it. The directory is in memory, like launch's default /dev/shm.
cache_parent=$WORK
if [[ -d /dev/shm && -w /dev/shm ]]; then
    cache_parent=/dev/shm
fi
LAUNCH_CACHE=$(mktemp -d "$cache_parent/launch-bench-cache.XXXXXX") &&
    chown "$BENCH_UID:$BENCH_GID" "$LAUNCH_CACHE" &&
    chmod 0700 "$LAUNCH_CACHE" ||
    die "creating a block cache directory in $cache_parent failed"
AS_USER+=("LAUNCH_CACHE_DIR=$LAUNCH_CACHE")

# Run options of hyperfine per kind of case.
if [[ -n $BENCH_QUICK ]]; then
    RUNS_STARTUP=(--warmup 1 --runs 10)
    RUNS_PYTHON_WARM=(--warmup 1 --runs 3)
    RUNS_PYTHON_COLD=(--runs 1)
    RUNS_READ=(--runs 1)
    RUNS_WALK=(--runs 1)
    RUNS_BURST=(--warmup 1 --runs 3)
    RUNS_CPU=(--runs 1)
else
    # hyperfine also runs each command for at least 3 s.
    RUNS_STARTUP=(--warmup 5 --min-runs 50)
    RUNS_PYTHON_WARM=(--warmup 3 --min-runs 10)
    RUNS_PYTHON_COLD=(--runs 5)
    RUNS_READ=(--warmup 1 --runs 5)
    RUNS_WALK=(--warmup 1 --runs 10)
    RUNS_BURST=(--warmup 2 --min-runs 10)
    RUNS_CPU=(--warmup 1 --runs 10)
fi

# Quote WORD for both bash and hyperfine, which splits a command into words
# like a POSIX shell (the Rust crate shell-words) when run with -N.
quote_word() {
    local word=$1
    if [[ $word =~ ^[A-Za-z0-9_./:=,+@%-]+$ ]]; then
        printf '%s' "$word"
    elif [[ $word != *"'"* ]]; then
        printf "'%s'" "$word"
    elif [[ $word != *[\"\$\`\\]* ]]; then
        printf '"%s"' "$word"
    else
        die "cannot quote a command word that has both ' and one of \" \$ \` \\: $word"
    fi
}

quote_command() {
    local word line=''
    for word in "$@"; do
        line+="${line:+ }$(quote_word "$word")"
    done
    printf '%s' "$line"
}

# ---------------------------------------------------------------------------
# Groups of rows. A group is one hyperfine run: its commands are timed in
# the same run and compared with its reference row.

GROUP_ID=''
GROUP_TITLE=''
GROUP_REFERENCE=''
# Throughput column: AMOUNT units of work per run, divided by the median.
GROUP_AMOUNT=''
GROUP_UNIT=''
ROW_LABELS=()
ROW_COMMANDS=()
ROW_EXPECTS=()
ROW_PREPARES=()
ROW_PROBES=()
ROW_PROBE_EXPECTS=()
ROW_OPTIONAL=()

# Results, keyed by "GROUP_ID/label".
declare -A MEDIAN=()
# Lines of the table: group title, label, median, range, ratio and
# throughput, separated by the ASCII unit separator, which unlike a tab
# keeps empty fields when read splits the line.
TABLE_LINES=()
FIELD_SEPARATOR=$'\x1f'
NOTES=()

note() {
    NOTES+=("$*")
    printf 'note: %s\n' "$*"
}

group_begin() {
    GROUP_ID=$1
    GROUP_TITLE=$2
    GROUP_REFERENCE=''
    GROUP_AMOUNT=''
    GROUP_UNIT=''
    ROW_LABELS=()
    ROW_COMMANDS=()
    ROW_EXPECTS=()
    ROW_PREPARES=()
    ROW_PROBES=()
    ROW_PROBE_EXPECTS=()
    ROW_OPTIONAL=()
}

# add_row [--prepare-as-root CMD] [--optional] LABEL EXPECT -- COMMAND...
# Add a row that times COMMAND. EXPECT is what COMMAND must print on
# standard output when checked before timing: "=TEXT" for exactly TEXT,
# "!TEXT" for anything non-empty but TEXT. CMD (a command line for
# hyperfine) runs as root before every run of this row. An optional row that
# fails its check is left out with a note instead of failing the case.
add_row() {
    local prepare='' optional=''
    while [[ $1 == --* ]]; do
        case $1 in
        --prepare-as-root) prepare=$2; shift 2 ;;
        --optional) optional=1; shift ;;
        *) die "add_row: unknown option $1" ;;
        esac
    done
    local label=$1 expect=$2
    [[ $3 == -- ]] || die "add_row: expected -- after the label and EXPECT"
    shift 3
    ROW_LABELS+=("$label")
    ROW_COMMANDS+=("$(quote_command "$@")")
    ROW_EXPECTS+=("$expect")
    ROW_PREPARES+=("$prepare")
    ROW_PROBES+=('')
    ROW_PROBE_EXPECTS+=('')
    ROW_OPTIONAL+=("$optional")
}

# add_probe EXPECT -- COMMAND...
# Check the last row once more with COMMAND, which runs the same tool on the
# same image but prints something that only the image can produce.
add_probe() {
    local expect=$1 last=$((${#ROW_LABELS[@]} - 1))
    [[ $2 == -- ]] || die "add_probe: expected -- after EXPECT"
    shift 2
    ROW_PROBES[last]=$(quote_command "$@")
    ROW_PROBE_EXPECTS[last]=$expect
}

# check_command LABEL COMMAND_LINE EXPECT: run the command once as the bench
# user and compare its standard output with EXPECT.
check_command() {
    local label=$1 command_line=$2 expect=$3 words status=0 output errors
    eval "words=($command_line)"
    timeout --kill-after=10 "$BENCH_CHECK_TIMEOUT" "${AS_USER[@]}" "${words[@]}" \
        </dev/null >"$WORK/check.out" 2>"$WORK/check.err" || status=$?
    output=$(cat "$WORK/check.out")
    errors=$(head -c 2000 "$WORK/check.err")
    if [[ $status -ne 0 ]]; then
        CHECK_ERROR="exit status $status"
    elif [[ $expect == =* && $output != "${expect:1}" ]]; then
        CHECK_ERROR="expected output '${expect:1}'"
    elif [[ $expect == !* && ( -z $output || $output == "${expect:1}" ) ]]; then
        CHECK_ERROR="expected non-empty output other than '${expect:1}'"
    else
        return 0
    fi
    CHECK_ERROR="$label: $command_line: $CHECK_ERROR, got output '$(head -c 500 <<<"$output")'${errors:+ and errors '$errors'}"
    return 1
}

# Check every row, then time the group with hyperfine OPTIONS and record
# the medians. Returns 1, after printing why, if a check or hyperfine failed.
group_run() {
    local i json log kept=() needs_root='' arguments=() prepares=() status=0
    say ""
    say "== $GROUP_TITLE"
    for i in "${!ROW_LABELS[@]}"; do
        if check_command "${ROW_LABELS[i]}" "${ROW_COMMANDS[i]}" "${ROW_EXPECTS[i]}" &&
            { [[ -z ${ROW_PROBES[i]} ]] ||
                check_command "${ROW_LABELS[i]}" "${ROW_PROBES[i]}" "${ROW_PROBE_EXPECTS[i]}"; }; then
            kept+=("$i")
        elif [[ -n ${ROW_OPTIONAL[i]} ]]; then
            note "$GROUP_TITLE: row left out because its check failed: $CHECK_ERROR"
        else
            printf 'bench: check failed: %s\n' "$CHECK_ERROR" >&2
            return 1
        fi
    done
    for i in "${kept[@]}"; do
        if [[ -n ${ROW_PREPARES[i]} ]]; then
            needs_root=1
        fi
    done

    json=$WORK/json/$GROUP_ID.json
    log=$WORK/log/$GROUP_ID.log
    arguments=(-N --style basic --export-json "$json" "$@")
    for i in "${kept[@]}"; do
        if [[ -n $needs_root ]]; then
            # hyperfine runs as root for the prepare commands, so each
            # command switches to the bench user itself.
            arguments+=(-n "${ROW_LABELS[i]}" "$(quote_command "${AS_USER[@]}") ${ROW_COMMANDS[i]}")
            prepares+=(--prepare "${ROW_PREPARES[i]:-true}")
        else
            arguments+=(-n "${ROW_LABELS[i]}" "${ROW_COMMANDS[i]}")
        fi
    done
    arguments+=("${prepares[@]}")
    if [[ -n $needs_root ]]; then
        timeout --kill-after=10 "$BENCH_GROUP_TIMEOUT" "$HYPERFINE" "${arguments[@]}" \
            </dev/null >"$log" 2>&1 || status=$?
    else
        timeout --kill-after=10 "$BENCH_GROUP_TIMEOUT" "${AS_USER[@]}" "$HYPERFINE" "${arguments[@]}" \
            </dev/null >"$log" 2>&1 || status=$?
    fi
    if [[ $status -ne 0 ]]; then
        printf 'bench: hyperfine failed with exit status %d; the end of %s:\n' "$status" "$log" >&2
        tail -n 20 "$log" >&2
        return 1
    fi
    group_record "$json"
}

# Format SECONDS as milliseconds below 1 s, else as seconds.
format_time() {
    awk -v t="$1" 'BEGIN { if (t < 1) printf "%.2f ms", t * 1000; else printf "%.3f s", t }'
}

# Record the medians of the hyperfine JSON file and add the group's lines to
# the table.
group_record() {
    local json=$1 label median minimum maximum reference_median='' ratio throughput first=1 title
    if [[ -n $GROUP_REFERENCE ]]; then
        reference_median=$("$JQ" -r --arg name "$GROUP_REFERENCE" \
            '.results[] | select(.command == $name) | .median' "$json")
    fi
    while IFS=$'\t' read -r label median minimum maximum; do
        MEDIAN[$GROUP_ID/$label]=$median
        if [[ -z $reference_median ]]; then
            ratio=''
        elif [[ $label == "$GROUP_REFERENCE" ]]; then
            ratio='1 (reference)'
        else
            ratio=$(awk -v a="$median" -v b="$reference_median" 'BEGIN { printf "%.2f", a / b }')
        fi
        throughput=''
        if [[ -n $GROUP_AMOUNT ]]; then
            throughput=$(awk -v n="$GROUP_AMOUNT" -v t="$median" -v unit="$GROUP_UNIT" \
                'BEGIN { printf "%.0f %s", n / t, unit }')
        fi
        title=''
        if [[ -n $first ]]; then
            title=$GROUP_TITLE
            first=''
        fi
        TABLE_LINES+=("$(printf "%s$FIELD_SEPARATOR" "$title" "$label" "$(format_time "$median")" \
            "$(format_time "$minimum") – $(format_time "$maximum")" "$ratio" "$throughput")")
        printf '  %-36s median %12s%s%s\n' "$label" "$(format_time "$median")" \
            "${ratio:+   ratio $ratio}" "${throughput:+   $throughput}"
    done < <("$JQ" -r '.results[] | [.command, .median, .min, .max] | @tsv' "$json")
}

# Print the median of GROUP/LABEL, or nothing when it was not measured.
median_of() {
    printf '%s' "${MEDIAN[$1/$2]:-}"
}

# ---------------------------------------------------------------------------
# The commands of each tool.

bwrap_command() {
    local root=$1
    shift
    BWRAP_WORDS=("$BWRAP" --ro-bind "$root" / --dev-bind /dev /dev --bind /proc /proc
        --ro-bind /sys /sys --bind /tmp /tmp "$@")
}

# --fuse-threads 1 selects launch's single-threaded image server; older
# builds lack the option.
FUSE_THREADS_OPTION=''
if "$LAUNCH_BIN" --help 2>&1 | grep -q -- '--fuse-threads'; then
    FUSE_THREADS_OPTION=1
fi
# --no-cache turns the block cache off, so that every launch decompresses
# what it reads.
NO_CACHE_OPTION=''
if "$LAUNCH_BIN" --help 2>&1 | grep -q -- '--no-cache'; then
    NO_CACHE_OPTION=1
fi

# Kernel squashfs mounts, made by root and read by the bench user.
KERNEL_REASON=''
KERNEL_MOUNT_DIR=$BENCH_CACHE/mnt

# Unmount what an interrupted run left under KERNEL_MOUNT_DIR.
kernel_unmount_stale() {
    local mount_point
    [[ -d $KERNEL_MOUNT_DIR ]] || return 0
    while IFS= read -r mount_point; do
        umount "$mount_point" || note "cannot unmount $mount_point, left by an earlier run"
    done < <(awk -v dir="$KERNEL_MOUNT_DIR/" 'index($5, dir) == 1 { print $5 }' /proc/self/mountinfo)
}

# kernel_mount NAME SQFS: mount SQFS read-only through a loop device and set
# KERNEL_MNT to the mount point. Returns 1 and sets KERNEL_REASON when the
# kernel's squashfs cannot be used here.
kernel_mount() {
    local name=$1 sqfs=$2 errors
    KERNEL_MNT=$KERNEL_MOUNT_DIR/$name
    if [[ -n $KERNEL_REASON ]]; then
        return 1
    fi
    if [[ -z $IS_ROOT ]]; then
        KERNEL_REASON="mounting the kernel's squashfs needs root"
        return 1
    fi
    if mountpoint -q "$KERNEL_MNT"; then
        return 0
    fi
    mkdir -p "$KERNEL_MNT" && chmod 0755 "$KERNEL_MNT" || die "creating the mount point $KERNEL_MNT failed"
    if ! errors=$(mount -t squashfs -o loop,ro "$sqfs" "$KERNEL_MNT" 2>&1); then
        KERNEL_REASON="mount -t squashfs -o loop,ro failed: $errors"
        note "kernel squashfs rows left out: $KERNEL_REASON"
        return 1
    fi
    KERNEL_MOUNTS+=("$KERNEL_MNT")
}

# The hyperfine prepare command that mounts the image again before each run,
# so that the kernel's caches of its files and directories start empty, as
# they do in a new FUSE mount. The image file itself stays in the page
# cache, for the kernel as for the FUSE servers.
kernel_remount_command() {
    printf 'sh -c "umount %s && mount -t squashfs -o loop,ro %s %s"' "$KERNEL_MNT" "$1" "$KERNEL_MNT"
}

# Dropping all caches needs root and a kernel that allows it.
COLD_REASON=''
if [[ -z $IS_ROOT ]]; then
    COLD_REASON="dropping the page cache needs root"
elif ! errors=$(sync && { echo 3 >/proc/sys/vm/drop_caches; } 2>&1); then
    COLD_REASON="writing /proc/sys/vm/drop_caches failed: $errors"
fi
DROP_CACHES="sh -c \"find $LAUNCH_CACHE -mindepth 1 -delete && sync && echo 3 > /proc/sys/vm/drop_caches\""

case_failed() {
    FAILED_CASES+=("$1")
    printf 'bench: case %s failed to run\n' "$1" >&2
}

# ---------------------------------------------------------------------------
# Case 1: start-up of true from a small static image.

startup_group() {
    local id=$1 title=$2 image=$3 probe_expect=$4
    shift 4
    local probe=("$@") sqfs dir
    bench_image "$image" || return 1
    sqfs=$BENCH_IMAGE_SQFS
    dir=$BENCH_IMAGE_DIR
    group_begin "$id" "$title"
    GROUP_REFERENCE="unshare -Urm /bin/true"
    add_row "host" "=" -- "$dir/bin/true"
    add_row "unshare -Urm /bin/true" "=" -- "$UNSHARE" -Urm /bin/true
    bwrap_command "$dir" /bin/true
    add_row "bwrap, directory" "=" -- "${BWRAP_WORDS[@]}"
    bwrap_command "$dir" "${probe[@]}"
    add_probe "$probe_expect" -- "${BWRAP_WORDS[@]}"
    add_row "ch-run, SquashFS" "=" -- "$CH_RUN" "$sqfs" -- /bin/true
    add_probe "$probe_expect" -- "$CH_RUN" "$sqfs" -- "${probe[@]}"
    add_row "ch-run, directory" "=" -- "$CH_RUN" "$dir" -- /bin/true
    add_probe "$probe_expect" -- "$CH_RUN" "$dir" -- "${probe[@]}"
    add_row "launch, SquashFS" "=" -- "$LAUNCH_BIN" "$sqfs" -- /bin/true
    add_probe "$probe_expect" -- "$LAUNCH_BIN" "$sqfs" -- "${probe[@]}"
    if [[ -n $NO_CACHE_OPTION ]]; then
        add_row "launch --no-cache, SquashFS" "=" -- "$LAUNCH_BIN" --no-cache "$sqfs" -- /bin/true
        add_probe "$probe_expect" -- "$LAUNCH_BIN" --no-cache "$sqfs" -- "${probe[@]}"
    fi
    add_row "launch, directory" "=" -- "$LAUNCH_BIN" "$dir" -- /bin/true
    add_probe "$probe_expect" -- "$LAUNCH_BIN" "$dir" -- "${probe[@]}"
    group_run "${RUNS_STARTUP[@]}"
}

run_case_1() {
    bench_image tiny || return 1
    startup_group 1-tiny "1. start-up, static true without libc ($(du -k "$BENCH_IMAGE_SQFS" | cut -f 1) KiB image)" \
        tiny "=launch-bench tiny image" /bin/hello || return 1
    bench_image busybox || return 1
    startup_group 1-busybox "1. start-up, busybox true ($(du -k "$BENCH_IMAGE_SQFS" | cut -f 1) KiB image)" \
        busybox "=launch-bench busybox" /bin/cat /etc/image-release
}

# ---------------------------------------------------------------------------
# Case 2: Python start-up and imports from the Debian image.

# Python code that prints the device and inode of /, which show where a
# command ran: on the host or in another root.
ROOT_PROBE_CODE="import os; s = os.stat('/'); print(s.st_dev, s.st_ino)"

# python_row LABEL WORDS...: add a row that runs python3 -c "$code" after
# WORDS (a tool and its image), with the caller's prepare_option and expect,
# and a probe that checks that / is not the host's.
python_row() {
    local label=$1
    shift
    add_row "${prepare_option[@]}" "$label" "$expect" -- "$@" /usr/bin/python3 -c "$code"
    add_probe "!$host_root" -- "$@" /usr/bin/python3 -c "$ROOT_PROBE_CODE"
}

run_case_2() {
    local sqfs dir status=0 modules module_count import_code host_root kernel=''
    local -a prepare_option=()
    bench_debian_image || status=$?
    if [[ $status -eq 2 ]]; then
        note "case 2 left out: the Debian image is missing and only root can build it"
        return 0
    elif [[ $status -ne 0 ]]; then
        return 1
    fi
    sqfs=$BENCH_IMAGE_SQFS
    dir=$BENCH_IMAGE_DIR
    if kernel_mount debian "$sqfs"; then
        kernel=$KERNEL_MNT
    fi

    modules=$(grep -v '^#' "$BENCH_DIR/stdlib-modules.txt" | tr '\n' ' ')
    module_count=$(wc -w <<<"$modules")
    import_code="import importlib; names = '$modules'.split(); [importlib.import_module(name) for name in names]; print('imported', len(names), 'modules')"
    host_root=$(stat -c '%d %i' /)

    local temperature kind title code expect
    for temperature in warm cold; do
        if [[ $temperature == cold && -n $COLD_REASON ]]; then
            continue
        fi
        for kind in pass imports; do
            if [[ $kind == pass ]]; then
                code=pass
                expect="="
                title="2. python3 -c pass, $temperature cache"
            else
                code=$import_code
                expect="=imported $module_count modules"
                title="2. import of $module_count stdlib modules, $temperature cache"
            fi
            prepare_option=()
            if [[ $temperature == cold ]]; then
                prepare_option=(--prepare-as-root "$DROP_CACHES")
            fi
            group_begin "2-$kind-$temperature" "$title"
            GROUP_REFERENCE="ch-run, directory"
            if [[ -x /usr/bin/python3 ]]; then
                add_row "${prepare_option[@]}" --optional "host" "$expect" -- /usr/bin/python3 -c "$code"
                add_probe "=$host_root" -- /usr/bin/python3 -c "$ROOT_PROBE_CODE"
            else
                note "$title: host row left out: /usr/bin/python3 is missing"
            fi
            bwrap_command "$dir"
            python_row "bwrap, directory" "${BWRAP_WORDS[@]}"
            if [[ -n $kernel ]]; then
                bwrap_command "$kernel"
                python_row "bwrap, kernel squashfs" "${BWRAP_WORDS[@]}"
            fi
            python_row "ch-run, SquashFS" "$CH_RUN" "$sqfs" --
            python_row "ch-run, directory" "$CH_RUN" "$dir" --
            python_row "launch, SquashFS" "$LAUNCH_BIN" "$sqfs" --
            # Cold runs empty the block cache anyway.
            if [[ -n $NO_CACHE_OPTION && $temperature == warm ]]; then
                python_row "launch --no-cache, SquashFS" "$LAUNCH_BIN" --no-cache "$sqfs" --
            fi
            python_row "launch, directory" "$LAUNCH_BIN" "$dir" --
            if [[ $temperature == cold ]]; then
                group_run "${RUNS_PYTHON_COLD[@]}" || return 1
            else
                group_run "${RUNS_PYTHON_WARM[@]}" || return 1
            fi
        done
    done
}

# ---------------------------------------------------------------------------
# Case 3: sequential read of a 1 GiB file.

# The image server lines of launch -v after reading the 1 GiB file, keyed
# by the options of that run ("" or "--no-cache").
declare -A FUSE_CPU_LINES=()

# Read the 1 GiB file once more with launch -v OPTIONS and keep the line
# that launch prints about its image server at exit.
record_fuse_cpu() {
    local sqfs=$1 stderr_file=$WORK/verbose-read.err
    shift
    if ! timeout --kill-after=10 "$BENCH_CHECK_TIMEOUT" "${AS_USER[@]}" \
        "$LAUNCH_BIN" -v "$@" "$sqfs" -- /bin/walk 1 /data </dev/null >/dev/null 2>"$stderr_file"; then
        printf 'bench: launch -v %s failed to read the 1 GiB file:\n' "$*" >&2
        tail -n 20 "$stderr_file" >&2
        return 1
    fi
    FUSE_CPU_LINES[${*:-default}]=$(grep -E '^launch\[[0-9]+\]: image server: ' "$stderr_file" | tail -n 1)
}

run_case_3() {
    local sqfs dir expect
    bench_image big || return 1
    sqfs=$BENCH_IMAGE_SQFS
    dir=$BENCH_IMAGE_DIR
    expect="=files 1 bytes $BENCH_BIG_SIZE"
    group_begin 3-read "3. sequential read of a 1 GiB file"
    GROUP_AMOUNT=1024
    GROUP_UNIT=MiB/s
    GROUP_REFERENCE="ch-run, SquashFS"
    add_row "host, directory" "$expect" -- "$dir/bin/walk" 1 "$dir/data"
    if kernel_mount big "$sqfs"; then
        GROUP_REFERENCE="kernel squashfs"
        add_row --prepare-as-root "$(kernel_remount_command "$sqfs")" "kernel squashfs" "$expect" -- \
            "$KERNEL_MNT/bin/walk" 1 "$KERNEL_MNT/data"
    fi
    add_row "ch-run, SquashFS" "$expect" -- "$CH_RUN" "$sqfs" -- /bin/walk 1 /data
    add_row "launch, SquashFS" "$expect" -- "$LAUNCH_BIN" "$sqfs" -- /bin/walk 1 /data
    if [[ -n $NO_CACHE_OPTION ]]; then
        add_row "launch --no-cache" "$expect" -- "$LAUNCH_BIN" --no-cache "$sqfs" -- /bin/walk 1 /data
    fi
    if [[ -n $FUSE_THREADS_OPTION ]]; then
        add_row "launch --fuse-threads 1" "$expect" -- \
            "$LAUNCH_BIN" --fuse-threads 1 "$sqfs" -- /bin/walk 1 /data
    fi
    group_run "${RUNS_READ[@]}" || return 1

    record_fuse_cpu "$sqfs" || return 1
    if [[ -n $NO_CACHE_OPTION ]]; then
        record_fuse_cpu "$sqfs" --no-cache || return 1
    fi
}

# Print "CPU per GiB read" for the run of launch -v with OPTIONS.
fuse_cpu_summary() {
    local options=$1 line title
    local pattern='^launch\[[0-9]+\]: image server: ([0-9]+) threads served ([0-9]+) requests, read ([0-9]+) bytes, used ([0-9.]+) s of CPU$'
    line=${FUSE_CPU_LINES[$options]:-}
    title="CPU per GiB read by the image server (launch -v${options:+ $options})"
    if [[ $options == default ]]; then
        title="CPU per GiB read by the image server (launch -v, block cache filled by the runs before)"
    fi
    if [[ -z $line ]]; then
        printf '%s: not reported by this build' "$title"
    elif [[ $line =~ $pattern ]]; then
        awk -v title="$title" -v threads="${BASH_REMATCH[1]}" -v requests="${BASH_REMATCH[2]}" \
            -v bytes="${BASH_REMATCH[3]}" -v cpu="${BASH_REMATCH[4]}" 'BEGIN {
                if (bytes == 0) {
                    printf "%s: not measurable, the server reported 0 bytes read", title
                    exit
                }
                printf "%s: %.3f s (%s s for %.2f GiB in %d requests, %d threads)",
                    title, cpu / (bytes / 1073741824), cpu, bytes / 1073741824, requests, threads
            }'
    else
        printf '%s: the line of launch -v has an unexpected form: %s' "$title" "$line"
    fi
}

# ---------------------------------------------------------------------------
# Case 4: metadata walk with 1, 2 and 4 readers.

WALK_FILE_COUNT=$((BENCH_WALK_DIRS * BENCH_WALK_FILES_PER_DIR))

run_case_4() {
    local sqfs dir expect readers kernel=''
    bench_image walk || return 1
    sqfs=$BENCH_IMAGE_SQFS
    dir=$BENCH_IMAGE_DIR
    expect="=$(cat "$dir.expected")" || return 1
    if kernel_mount walk "$sqfs"; then
        kernel=$KERNEL_MNT
    fi
    for readers in "${WALK_READER_COUNTS[@]}"; do
        group_begin "4-walk-$readers" "4. walk of $WALK_FILE_COUNT files, $readers $(plural "$readers" reader)"
        GROUP_AMOUNT=$WALK_FILE_COUNT
        GROUP_UNIT=files/s
        GROUP_REFERENCE="ch-run, SquashFS"
        add_row "host, directory" "$expect" -- "$dir/bin/walk" "$readers" "$dir/files"
        if [[ -n $kernel ]]; then
            add_row --prepare-as-root "$(kernel_remount_command "$sqfs")" "kernel squashfs" "$expect" -- \
                "$kernel/bin/walk" "$readers" "$kernel/files"
        fi
        add_row "ch-run, SquashFS" "$expect" -- "$CH_RUN" "$sqfs" -- /bin/walk "$readers" /files
        add_row "launch, SquashFS" "$expect" -- "$LAUNCH_BIN" "$sqfs" -- /bin/walk "$readers" /files
        if [[ -n $FUSE_THREADS_OPTION ]]; then
            add_row "launch --fuse-threads 1" "$expect" -- \
                "$LAUNCH_BIN" --fuse-threads 1 "$sqfs" -- /bin/walk "$readers" /files
        fi
        group_run "${RUNS_WALK[@]}" || return 1
    done
}

# ---------------------------------------------------------------------------
# Case 5: 32 launches started at once.

run_case_5() {
    local sqfs dir entry expect
    bench_image tiny || return 1
    sqfs=$BENCH_IMAGE_SQFS
    dir=$BENCH_IMAGE_DIR
    # The probe of each row starts the 32 copies with /bin/hello, and each
    # must print its line.
    expect="=$(for ((i = 0; i < BURST_COUNT; i++)); do printf 'launch-bench tiny image\n'; done)"
    group_begin 5-burst "5. $BURST_COUNT start-ups of static true at once"
    GROUP_AMOUNT=$BURST_COUNT
    GROUP_UNIT=starts/s
    GROUP_REFERENCE="unshare -Urm /bin/true"
    add_row "unshare -Urm /bin/true" "=" -- sh "$BURST" "$BURST_COUNT" "$UNSHARE" -Urm /bin/true
    bwrap_command "$dir" /bin/true
    add_row "bwrap, directory" "=" -- sh "$BURST" "$BURST_COUNT" "${BWRAP_WORDS[@]}"
    bwrap_command "$dir" /bin/hello
    add_probe "$expect" -- sh "$BURST" "$BURST_COUNT" "${BWRAP_WORDS[@]}"
    # Each entry is IMAGE:KIND.
    for entry in "$sqfs:SquashFS" "$dir:directory"; do
        add_row "ch-run, ${entry##*:}" "=" -- sh "$BURST" "$BURST_COUNT" "$CH_RUN" "${entry%:*}" -- /bin/true
        add_probe "$expect" -- sh "$BURST" "$BURST_COUNT" "$CH_RUN" "${entry%:*}" -- /bin/hello
        add_row "launch, ${entry##*:}" "=" -- sh "$BURST" "$BURST_COUNT" "$LAUNCH_BIN" "${entry%:*}" -- /bin/true
        add_probe "$expect" -- sh "$BURST" "$BURST_COUNT" "$LAUNCH_BIN" "${entry%:*}" -- /bin/hello
    done
    group_run "${RUNS_BURST[@]}"
}

# ---------------------------------------------------------------------------
# Case 6: CPU-bound kernel inside against native.

run_case_6() {
    local sqfs dir expect
    bench_image busybox || return 1
    sqfs=$BENCH_IMAGE_SQFS
    dir=$BENCH_IMAGE_DIR
    # The checksum depends only on the iteration count.
    expect="=$("$dir/bin/cpu")" || return 1
    group_begin 6-cpu "6. CPU-bound kernel (cpu.c)"
    GROUP_REFERENCE="host"
    add_row "host" "$expect" -- "$dir/bin/cpu"
    add_row "ch-run, SquashFS" "$expect" -- "$CH_RUN" "$sqfs" -- /bin/cpu
    add_row "launch, SquashFS" "$expect" -- "$LAUNCH_BIN" "$sqfs" -- /bin/cpu
    group_run "${RUNS_CPU[@]}"
}

# ---------------------------------------------------------------------------
# Targets.

VERDICTS=()

# verdict NAME VALUE OPERATOR LIMIT DETAIL: compare VALUE with LIMIT (<= or
# >=) and record "met" or "MISSED", or "not measured" when VALUE is empty.
verdict() {
    local name=$1 value=$2 operator=$3 limit=$4 detail=$5 result
    if [[ -z $value ]]; then
        VERDICTS+=("not measured: $name ($detail)")
        return
    fi
    result=$(awk -v v="$value" -v l="$limit" -v op="$operator" \
        'BEGIN { ok = (op == "<=") ? (v <= l) : (v >= l); print ok ? "met" : "MISSED" }')
    VERDICTS+=("$result: $name: $(printf '%.3f' "$value")x, target $operator ${limit}x ($detail)")
}

# Print A / B when both are set.
ratio() {
    if [[ -n $1 && -n $2 ]]; then
        awk -v a="$1" -v b="$2" 'BEGIN { printf "%.6f", a / b }'
    fi
}

# Print "LABEL: MEDIAN" of a row of GROUP.
describe() {
    local group=$1 label=$2 median
    median=$(median_of "$group" "$label")
    if [[ -n $median ]]; then
        printf '%s: %s' "$label" "$(format_time "$median")"
    else
        printf '%s: not measured' "$label"
    fi
}

check_targets() {
    local launch reference group readers kind temperature one two label
    if case_selected 1; then
        # The targets are set for the tiny image. The busybox image, whose
        # 2 MB binary must be read, is checked against the same limits.
        for group in 1-tiny 1-busybox; do
            kind=${group#1-}
            launch=$(median_of "$group" "launch, SquashFS")
            reference=$(median_of "$group" "unshare -Urm /bin/true")
            verdict "start-up ($kind true) against unshare -Urm /bin/true" "$(ratio "$launch" "$reference")" "<=" 2 \
                "$(describe "$group" "launch, SquashFS"); $(describe "$group" "unshare -Urm /bin/true")"
            reference=$(median_of "$group" "ch-run, SquashFS")
            verdict "start-up ($kind true) against ch-run on the same SquashFS" "$(ratio "$launch" "$reference")" "<=" 0.2 \
                "$(describe "$group" "launch, SquashFS"); $(describe "$group" "ch-run, SquashFS")"
        done
    fi
    if case_selected 2; then
        for temperature in warm cold; do
            for kind in pass imports; do
                group=2-$kind-$temperature
                launch=$(median_of "$group" "launch, SquashFS")
                reference=$(median_of "$group" "ch-run, directory")
                if [[ $temperature == cold && -n $COLD_REASON ]]; then
                    VERDICTS+=("not measured: Python $kind, cold cache: $COLD_REASON")
                    continue
                fi
                verdict "Python $kind, $temperature cache, against ch-run on the directory" \
                    "$(ratio "$launch" "$reference")" "<=" 1.2 \
                    "$(describe "$group" "launch, SquashFS"); $(describe "$group" "ch-run, directory")"
            done
        done
    fi
    if case_selected 3; then
        # The kernel's squashfs is mounted again before each run, so it
        # decompresses the whole file every time: launch does the same
        # only without its block cache.
        label="launch, SquashFS"
        if [[ -n $(median_of 3-read "launch --no-cache") ]]; then
            label="launch --no-cache"
        fi
        launch=$(median_of 3-read "$label")
        reference=$(median_of 3-read "kernel squashfs")
        if [[ -z $reference ]]; then
            VERDICTS+=("not measured: 1 GiB read against the kernel's squashfs: ${KERNEL_REASON:-no kernel row}")
        else
            # Throughput ratio: the inverse of the ratio of times.
            verdict "1 GiB read throughput against the kernel's squashfs" "$(ratio "$reference" "$launch")" ">=" 0.8 \
                "$(describe 3-read "$label"); $(describe 3-read "kernel squashfs")"
        fi
    fi
    if case_selected 4; then
        one=$(median_of 4-walk-1 "launch, SquashFS")
        two=$(median_of 4-walk-2 "launch, SquashFS")
        verdict "walk throughput of launch, 2 readers against 1" "$(ratio "$one" "$two")" ">=" 1.6 \
            "1 reader: $(describe 4-walk-1 "launch, SquashFS"); 2 readers: $(describe 4-walk-2 "launch, SquashFS")"
        for readers in "${WALK_READER_COUNTS[@]}"; do
            launch=$(median_of "4-walk-$readers" "launch, SquashFS")
            reference=$(median_of "4-walk-$readers" "ch-run, SquashFS")
            verdict "walk throughput with $readers $(plural "$readers" reader) against ch-run on the same SquashFS" \
                "$(ratio "$reference" "$launch")" ">=" 1 \
                "$(describe "4-walk-$readers" "launch, SquashFS"); $(describe "4-walk-$readers" "ch-run, SquashFS")"
        done
    fi
    if case_selected 6; then
        launch=$(median_of 6-cpu "launch, SquashFS")
        reference=$(median_of 6-cpu "host")
        verdict "CPU kernel speed inside launch against native (native time / launch time)" \
            "$(ratio "$reference" "$launch")" ">=" 0.99 \
            "$(describe 6-cpu "launch, SquashFS"); $(describe 6-cpu "host")"
    fi
}

# Scaling of the walk: throughput of 2 readers over 1, per tool.
walk_scaling_summary() {
    local label one two
    for label in "host, directory" "kernel squashfs" "ch-run, SquashFS" "launch, SquashFS" "launch --fuse-threads 1"; do
        one=$(median_of 4-walk-1 "$label")
        two=$(median_of 4-walk-2 "$label")
        if [[ -n $one && -n $two ]]; then
            printf 'Walk throughput of %s, 2 readers against 1: %.2fx\n' "$label" "$(ratio "$one" "$two")"
        fi
    done
}

# ---------------------------------------------------------------------------
# Report.

machine_summary() {
    local memory os_release
    memory=$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
    os_release=$(. /etc/os-release 2>/dev/null && printf '%s' "${PRETTY_NAME:-unknown}")
    printf -- '- CPU: %s, %s cores online\n' "$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -n 1)" "$(nproc)"
    printf -- '- Hypervisor: %s\n' "$(lscpu 2>/dev/null | sed -n 's/^Hypervisor vendor: *//p' | head -n 1 | grep . || echo none)"
    printf -- '- Memory: %s\n' "$memory"
    printf -- '- Load average (1, 5 and 15 min): %s before the run, %s after it\n' "$LOAD_BEFORE" "$LOAD_AFTER"
    printf -- '- Kernel: %s\n' "$(uname -r)"
    printf -- '- System: %s (Debian %s)\n' "$os_release" "$(cat /etc/debian_version 2>/dev/null || echo unknown)"
    printf -- '- launch: %s; source tree at commit %s when the report was written\n' "$("$LAUNCH_BIN" --version 2>&1 | head -n 1)" \
        "$(git -C "$BENCH_DIR" describe --always --dirty 2>/dev/null || echo unknown)"
    printf -- '- ch-run: %s\n' "$(env USER="$BENCH_USER" "$CH_RUN" --version 2>&1 | head -n 1)"
    printf -- '- bwrap: %s\n' "$("$BWRAP" --version 2>&1 | head -n 1)"
    printf -- '- hyperfine: %s\n' "$("$HYPERFINE" --version 2>&1 | head -n 1)"
    printf -- '- Debian packages: %s\n' "$(dpkg-query -W -f '${Package} ${Version}, ' \
        libsquashfuse0 squashfuse libfuse3-3 fuse3 charliecloud-runtime bubblewrap hyperfine \
        busybox-static squashfs-tools 2>/dev/null | sed 's/, $//')"
}

method_summary() {
    printf -- '- Every command ran as the user %s, in /, with only HOME, USER, LOGNAME and PATH set. ' "$BENCH_USER"
    if [[ -n $IS_ROOT ]]; then
        printf 'hyperfine ran as that user too, except in groups that need root before each run (cold cache, kernel squashfs): there hyperfine ran as root, and each timed command includes the start of `setpriv` and `env` that switch to the user.\n'
    else
        printf 'hyperfine ran as that user.\n'
    fi
    printf -- '- launch and ch-run ran with their default options; bwrap with `--ro-bind DIR /` and the host'"'"'s /dev, /proc, /sys and /tmp.\n'
    printf -- '- The images are gzip SquashFS files made by mksquashfs, and the directories they were made from (tests/bench/images.sh). The image file is in the page cache, except in cold-cache groups.\n'
    printf -- '- Kernel squashfs: root mounted the same image with `mount -t squashfs -o loop,ro`, and the user read it. In cases 3 and 4, root mounted it again before every run, so that its caches of inodes, directories and file pages start empty, as in the new FUSE mount of every launch and ch-run.\n'
    printf -- '- Cold cache: root ran `sync; echo 3 > /proc/sys/vm/drop_caches` before every run, and emptied the block cache of launch.\n'
    printf -- '- launch keeps decompressed blocks in a block cache shared by its launches (see launch(1)). This run gave it a new directory with LAUNCH_CACHE_DIR, so the cache held only what earlier runs of this benchmark put there.'
    if [[ -n $NO_CACHE_OPTION ]]; then
        printf ' Rows marked `--no-cache` ran without it. The target of case 3 compares `launch --no-cache` with the kernel'"'"'s squashfs, because both then decompress the whole file in every run.'
    fi
    printf '\n'
    printf -- '- Cases 3 and 4 time `walk` (tests/bench/walk.c), which stats, opens and reads files in 64 KiB reads; its readers share the tree, each walking every Nth top-level directory.\n'
}

print_table() {
    local line title label median range ratio throughput
    printf '| Case | Command | Median | Min – max | Time ratio to reference | Throughput |\n'
    printf '|---|---|--:|--:|--:|--:|\n'
    for line in "${TABLE_LINES[@]}"; do
        IFS=$FIELD_SEPARATOR read -r title label median range ratio throughput <<<"$line"
        printf '| %s | %s | %s | %s | %s | %s |\n' "$title" "$label" "$median" "$range" "$ratio" "$throughput"
    done
}

# The command that reproduces this run.
run_command() {
    local setting assignments=''
    while IFS= read -r setting; do
        if [[ -n $setting ]]; then
            assignments+="${setting%%=*}=$(quote_word "${setting#*=}") "
        fi
    done <<<"$CALLER_SETTINGS"
    # make bench sets BENCH_COMMAND to its own command line.
    if [[ -n ${BENCH_COMMAND:-} ]]; then
        printf '%s%s' "$assignments" "$BENCH_COMMAND"
    else
        printf '%sLAUNCH=%s bash tests/bench/run.sh' "$assignments" "$(quote_word "$LAUNCH_SOURCE")"
    fi
}

write_report() {
    local line
    printf '# Benchmark results\n\n'
    printf 'Written by `tests/bench/run.sh` (see README.md in this directory) on %s, as %s, with:\n\n' \
        "$(date -u '+%Y-%m-%d %H:%M UTC')" "$(id -un)"
    printf '```sh\n%s\n```\n\n' "$(run_command)"
    if [[ -n $BENCH_QUICK ]]; then
        printf 'Quick mode: few runs per command, so the numbers are rough.\n\n'
    fi

    printf '## Machine\n\n'
    machine_summary

    printf '\n## Method\n\n'
    method_summary

    printf '\n## Results\n\n'
    printf 'Times are medians of hyperfine runs. The time ratio divides a row'"'"'s median by that of the reference row of its group, so below 1 is faster.\n\n'
    print_table

    printf '\n## Targets\n\n'
    for line in "${VERDICTS[@]}"; do
        printf -- '- %s\n' "$line"
    done

    if case_selected 3 || case_selected 4; then
        printf '\n## Derived numbers\n\n'
    fi
    if case_selected 3; then
        printf -- '- %s\n' "$(fuse_cpu_summary default)"
        if [[ -n $NO_CACHE_OPTION ]]; then
            printf -- '- %s\n' "$(fuse_cpu_summary --no-cache)"
        fi
    fi
    if case_selected 4; then
        walk_scaling_summary | sed 's/^/- /'
    fi

    if [[ ${#NOTES[@]} -ne 0 ]]; then
        printf '\n## Notes\n\n'
        for line in "${NOTES[@]}"; do
            printf -- '- %s\n' "$line"
        done
    fi
}

# ---------------------------------------------------------------------------
# Main.

say "bench: launch $LAUNCH_SOURCE, commands run as $BENCH_USER (uid $BENCH_UID), cases: $BENCH_CASES${BENCH_QUICK:+, quick mode}"
LOAD_BEFORE=$(cut -d ' ' -f 1-3 /proc/loadavg)
if awk -v load="${LOAD_BEFORE%% *}" 'BEGIN { exit !(load > 0.5) }'; then
    printf 'bench: warning: the load average is %s: other work on the machine distorts the numbers\n' "$LOAD_BEFORE" >&2
fi
bench_prepare_cache || die "cannot prepare the image cache in $BENCH_CACHE"
if [[ -n $IS_ROOT ]]; then
    kernel_unmount_stale
fi
if [[ -z $FUSE_THREADS_OPTION ]]; then
    note "launch --help does not mention --fuse-threads: the rows of the single-threaded image server are left out"
fi
if [[ -z $NO_CACHE_OPTION ]]; then
    note "launch --help does not mention --no-cache: the rows without the block cache are left out"
fi
if [[ -n $COLD_REASON ]] && case_selected 2; then
    note "cold-cache groups of case 2 left out: $COLD_REASON"
fi

for selected_case in $BENCH_CASES; do
    "run_case_$selected_case" || case_failed "$selected_case"
done

LOAD_AFTER=$(cut -d ' ' -f 1-3 /proc/loadavg)
check_targets
report=$(write_report)
say ""
say "$report"
say ""
if [[ ${#FAILED_CASES[@]} -ne 0 ]]; then
    printf '%s\n' "$report" >"$WORK/RESULTS.md"
    printf 'bench: cases %s failed to run; %s is unchanged, this run'"'"'s report is in %s\n' \
        "${FAILED_CASES[*]}" "$BENCH_RESULTS" "$WORK/RESULTS.md" >&2
    exit 1
fi
printf '%s\n' "$report" >"$BENCH_RESULTS" || die "cannot write $BENCH_RESULTS"
say "bench: wrote $BENCH_RESULTS"
