#!/bin/bash
# Integration tests of the writable layer: binds whose mount point the image
# lacks, -w and --write-size, --overlay DIR, and the environment defaults
# that images carry in /etc/environment, /ch/environment and
# /.launch/environment.

. "$(dirname "$0")/../lib/setup.sh"

# Print the mount points and file system types of the host's mount table.
host_mounts() {
    awk '{ for (i = 7; i <= NF; i++) if ($i == "-") break; print $5, $(i + 1) }' \
        /proc/self/mountinfo | sort
}

# Print the pids of the test user's live processes that belong to this test:
# the copy of launch in TEST_TMPDIR, and container processes whose
# LAUNCH_CONTAINER names an image in TEST_TMPDIR. Zombies are left out,
# because launch's watcher process exits after launch and its parent, the
# host's init, reaps it later.
leftover_processes() {
    local pid state
    for pid in $(pgrep -u "$TEST_UID"); do
        state=$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null)
        if [[ -z $state || $state == Z ]]; then
            continue
        fi
        if [[ $(readlink "/proc/$pid/exe" 2>/dev/null) == "$LAUNCH" ]] ||
            tr '\0' '\n' 2>/dev/null <"/proc/$pid/environ" |
            grep -q -F -x -e "LAUNCH_CONTAINER=$layer_image" -e "LAUNCH_CONTAINER=$links_image" \
                -e "LAUNCH_CONTAINER=$env_image" -e "LAUNCH_CONTAINER=$env_dir_image"; then
            printf '%s\n' "$pid"
        fi
    done
}

# wait_for_file FILE SECONDS: return 0 once FILE exists, 1 after SECONDS.
wait_for_file() {
    local file=$1 tenths=$(($2 * 10)) i
    for ((i = 0; i < tenths; i++)); do
        [[ -e $file ]] && return 0
        sleep 0.1
    done
    [[ -e $file ]]
}

# Print the value of NAME in the `env` output of the last run, or nothing.
env_value() {
    grep -E "^$1=" <<<"$RUN_STDOUT" | head -n 1 | cut -d = -f 2-
}

shared_image=$(busybox_image) || bail_out "cannot build the busybox image"
shared_dir_image=$(busybox_dir_image) || bail_out "cannot build the busybox directory image"

# A private copy of the image, so its checksum and LAUNCH_CONTAINER belong
# to this test alone.
layer_image=$TEST_TMPDIR/busybox.sqfs
cp -- "$shared_image" "$layer_image" && chmod 0644 -- "$layer_image" ||
    bail_out "cannot copy $shared_image"
layer_image_md5=$(md5sum <"$layer_image")

# Build an image with symbolic links that lead into the image, out of it and
# into /proc:
#   /abs -> /data                     absolute link
#   /rel -> data                      relative link
#   /deep/back -> ../data             relative link from a subdirectory
#   /up -> ../../../../../etc         relative link that climbs past the root
#   /dangling -> /data/sub            link to a directory the image lacks
#   /kernel -> /proc                  link into the kernel's /proc
links_tree=$TEST_TMPDIR/links-tree
links_image=$TEST_TMPDIR/links.sqfs
{
    cp -a -- "$shared_dir_image" "$links_tree" &&
        rm -f -- "$links_tree/data/blob" &&
        ln -s /data "$links_tree/abs" &&
        ln -s data "$links_tree/rel" &&
        mkdir "$links_tree/deep" &&
        ln -s ../data "$links_tree/deep/back" &&
        ln -s ../../../../../etc "$links_tree/up" &&
        ln -s /data/sub "$links_tree/dangling" &&
        ln -s /proc "$links_tree/kernel" &&
        mksquashfs "$links_tree" "$links_image" -all-root -no-xattrs -noappend \
            -quiet -no-progress >&2 &&
        chmod 0644 -- "$links_image"
} || bail_out "cannot build $links_image"

# Build images that carry environment files, as a SquashFS file and as a
# directory. Line 9 of /etc/environment and line 3 of /ch/environment are
# malformed.
env_dir_image=$TEST_TMPDIR/env-tree
env_image=$TEST_TMPDIR/env.sqfs
{
    cp -a -- "$shared_dir_image" "$env_dir_image" &&
        rm -f -- "$env_dir_image/data/blob" &&
        mkdir -p "$env_dir_image/ch" "$env_dir_image/.launch" &&
        cat >"$env_dir_image/etc/environment" <<'EOF' &&
ORDER=etc
ONLY_ETC=etc value
DOUBLE="double quoted"
SINGLE='single quoted'
MIXED="mixed'
INNER=a"b"c
EMPTY_QUOTES=""
export EXPORTED=yes
this line is malformed
# a comment

HOST_VAR=from image
OVERRIDE=etc
EOF
        printf 'CRLF=crlf value\r\n' >>"$env_dir_image/etc/environment" &&
        printf 'ORDER=ch\nONLY_CH=ch value\n1BAD=x\nTWICE="""\n' >"$env_dir_image/ch/environment" &&
        printf 'ORDER=launch\nONLY_LAUNCH=launch value\nOVERRIDE=image\n' >"$env_dir_image/.launch/environment" &&
        chmod 0644 "$env_dir_image/etc/environment" "$env_dir_image/ch/environment" \
            "$env_dir_image/.launch/environment" &&
        chmod 0755 "$env_dir_image/ch" "$env_dir_image/.launch" &&
        mksquashfs "$env_dir_image" "$env_image" -all-root -no-xattrs -noappend \
            -quiet -no-progress >&2 &&
        chmod 0644 -- "$env_image"
} || bail_out "cannot build the environment images"

bind_source=$(make_user_dir bind-source)
printf 'bound from the host\n' >"$bind_source/file" &&
    chown "$TEST_UID:$TEST_GID" "$bind_source/file" ||
    bail_out "cannot write $bind_source/file"

# A file name unlikely to exist on the host, for files that must not appear there.
unique=launch-layer-test-$$

mounts_before=$(host_mounts)

# --- Binds whose mount point the image lacks ---

run_launch -b "$bind_source:/new/deep/dir" "$layer_image" -- /bin/cat /new/deep/dir/file
is "$RUN_STATUS" 0 "bind on missing path exits 0" || diag_run
is "$RUN_STDOUT" "bound from the host" "bind on missing path shows the host file"
is "$RUN_STDERR" "" "bind on missing path prints nothing on stderr"

run_launch -b "$bind_source/file:/new/file" "$layer_image" -- /bin/cat /new/file
is "$RUN_STATUS" 0 "file bind on missing path exits 0" || diag_run
is "$RUN_STDOUT" "bound from the host" "file bind on missing path shows the file"

run_launch -b "$bind_source:/new/dir" "$layer_image" -- /bin/sh -c \
    'echo written > /new/dir/written-in-container'
is "$RUN_STATUS" 0 "write through bind on missing path exits 0" || diag_run
is "$(cat "$bind_source/written-in-container" 2>&1)" written \
    "write through bind on missing path reaches the host"

run_launch -b "$bind_source:/new/dir" "$layer_image" -- /bin/touch /etc/x
is "$RUN_STATUS" 1 "touch /etc/x with bind layer exits 1" || diag_run
is "$RUN_STDERR" "touch: /etc/x: Read-only file system" \
    "root stays read-only under bind layer"

run_launch -b "$bind_source:/new/dir" "$layer_image" -- /bin/mkdir /new/other
is "$RUN_STATUS" 1 "mkdir beside created mount point exits 1" || diag_run
is "$RUN_STDERR" "mkdir: can't create directory '/new/other': Read-only file system" \
    "created parent directory is read-only"

run_launch -b "$bind_source:/new/dir" "$layer_image" -- /bin/sh -c \
    'awk "\$5 == \"/\" { print \$6 }" /proc/self/mountinfo'
is "$RUN_STATUS" 0 "mountinfo of bind layer exits 0" || diag_run
like "$RUN_STDOUT" '^ro,' "root mount is read-only with bind layer"

# The busybox image has an empty /home, so the home directory always needs
# the layer.
printf 'home marker\n' >"$TEST_HOME/$unique" &&
    chown "$TEST_UID:$TEST_GID" "$TEST_HOME/$unique" ||
    bail_out "cannot write $TEST_HOME/$unique"
at_exit rm -f -- "$TEST_HOME/$unique"

run_launch "$layer_image" -- /bin/sh -c "pwd && cat \"\$HOME/$unique\""
is "$RUN_STATUS" 0 "home missing from image exits 0" || diag_run
is "$RUN_STDOUT" "$TEST_HOME"$'\n'"home marker" "home missing from image is mounted and entered"

run_launch "$layer_image" -- /bin/touch /etc/x
is "$RUN_STDERR" "touch: /etc/x: Read-only file system" "root stays read-only under home layer"

# With --no-home, the working directory (the home) must be bound on its own.
run_launch --no-home "$layer_image" -- /bin/sh -c "pwd && cat $unique"
is "$RUN_STATUS" 0 "working directory missing from image exits 0" || diag_run
is "$RUN_STDOUT" "$TEST_HOME"$'\n'"home marker" "working directory missing from image is bound and entered"

run_launch --no-home "$layer_image" -- /bin/touch /etc/x
is "$RUN_STDERR" "touch: /etc/x: Read-only file system" "root stays read-only under working directory layer"

# Without a layer, the image's root directory belongs to an unmapped id.
run_launch --no-home -c / "$layer_image" -- /bin/stat -c %u /
is "$RUN_STDOUT" 65534 "image root owned by nobody without layer" || diag_run
# With a layer, the directories it holds belong to the caller, its root
# among them: the ids of the image's owners are not mapped (launch(1)).
run_launch -b "$bind_source:/new/dir" "$layer_image" -- /bin/stat -c %u /
is "$RUN_STDOUT" "$TEST_UID" "layer's root belongs to the caller" || diag_run

# --- Destinations resolved inside the image ---

run_launch -b "$bind_source:/abs/via-absolute" "$links_image" -- /bin/sh -c \
    'cat /data/via-absolute/file && readlink /abs'
is "$RUN_STATUS" 0 "bind through absolute link exits 0" || diag_run
is "$RUN_STDOUT" $'bound from the host\n/data' "bind through absolute link lands in its target"

run_launch -b "$bind_source:/rel/via-relative" "$links_image" -- /bin/sh -c \
    'cat /data/via-relative/file && readlink /rel'
is "$RUN_STATUS" 0 "bind through relative link exits 0" || diag_run
is "$RUN_STDOUT" $'bound from the host\ndata' "bind through relative link lands in its target"

run_launch -b "$bind_source:/deep/back/nested/dir" "$links_image" -- /bin/cat /data/nested/dir/file
is "$RUN_STATUS" 0 "bind through ../ link exits 0" || diag_run
is "$RUN_STDOUT" "bound from the host" "bind through ../ link lands in the image's /data"

run_launch -b "$bind_source:/up/$unique" "$links_image" -- /bin/cat "/etc/$unique/file"
is "$RUN_STATUS" 0 "bind through climbing link exits 0" || diag_run
is "$RUN_STDOUT" "bound from the host" "climbing link stops at the image root"
[[ ! -e /etc/$unique ]]
ok $? "climbing link creates nothing in the host's /etc"

run_launch -b "$bind_source:/../../$unique" "$links_image" -- /bin/cat "/$unique/file"
is "$RUN_STATUS" 0 "destination with leading .. exits 0" || diag_run
is "$RUN_STDOUT" "bound from the host" "leading .. stops at the container root"
[[ ! -e /$unique ]]
ok $? "leading .. creates nothing in the host's root"

run_launch -b "$bind_source:/dangling/inside" "$links_image" -- /bin/readlink /dangling
is "$RUN_STDOUT" /data/sub "dangling link survives a bind below it" || diag_run
run_launch -b "$bind_source:/dangling/inside" "$links_image" -- /bin/cat /data/sub/inside/file
is "$RUN_STDOUT" "bound from the host" "bind below dangling link lands in its target" || diag_run

# --- Destinations under /proc, /sys and /dev ---

marker_dir=$(make_user_dir markers)
for destination in /proc /proc/x /sys/fs/x /dev /dev/shm/x /dev/../proc/x; do
    normalized=$destination
    if [[ $destination == /dev/../proc/x ]]; then
        normalized=/proc/x
    fi
    tree=/$(cut -d / -f 2 <<<"$normalized")
    run_launch -b "$bind_source:$destination" "$layer_image" -- /bin/touch "$marker_dir/ran"
    is "$RUN_STATUS" 125 "bind on $destination exits 125" || diag_run
    is "$RUN_STDERR" "launch: error: invalid bind '$bind_source:$destination': destination $normalized lies under $tree, which launch mounts from the kernel; choose a destination outside /proc, /sys and /dev" \
        "bind on $destination is rejected"
    is "$RUN_STDOUT" "" "bind on $destination prints nothing on stdout"
    [[ ! -e $marker_dir/ran ]]
    ok $? "bind on $destination starts no command"
    rm -f -- "$marker_dir/ran"
done

run_launch -b "$bind_source:/procfs" "$layer_image" -- /bin/cat /procfs/file
is "$RUN_STATUS" 0 "bind on /procfs is not under /proc" || diag_run

run_launch -b "$bind_source/file:/kernel/cpuinfo" "$links_image" -- /bin/touch "$marker_dir/ran"
is "$RUN_STATUS" 125 "bind through link into /proc exits 125" || diag_run
is "$RUN_STDERR" "launch: error: cannot mount bind $bind_source/file on /kernel/cpuinfo: /kernel/cpuinfo resolves to /proc/cpuinfo, under /proc, which launch mounts from the kernel; a symlink in the image leads there; choose a destination outside /proc, /sys and /dev" \
    "bind through link into /proc: message"
[[ ! -e $marker_dir/ran ]]
ok $? "bind through link into /proc starts no command"
rm -f -- "$marker_dir/ran"

# --- -w and --write-size ---

run_launch -w --root "$layer_image" -- /bin/sh -c \
    "echo in-layer > /etc/$unique && cat /etc/$unique"
is "$RUN_STATUS" 0 "-w --root write to /etc exits 0" || diag_run
is "$RUN_STDOUT" in-layer "-w --root reads back the file in /etc"
[[ ! -e /etc/$unique ]]
ok $? "-w write creates nothing in the host's /etc"

run_launch -w --root "$layer_image" -- /bin/test -e "/etc/$unique"
is "$RUN_STATUS" 1 "-w layer is discarded at exit" || diag_run

run_launch -w "$layer_image" -- /bin/touch /etc/x
is "$RUN_STATUS" 1 "-w without --root touch /etc/x exits 1" || diag_run
is "$RUN_STDERR" "touch: /etc/x: Permission denied" "-w without --root cannot write root-owned /etc"

run_launch -w "$layer_image" -- /bin/sh -c 'echo scratch > /data/scratch'
is "$RUN_STATUS" 1 "-w without --root write to /data exits 1" || diag_run
is "$RUN_STDERR" "/bin/sh: can't create /data/scratch: Permission denied" \
    "-w without --root cannot write root-owned /data"

run_launch -w --write-size 1m "$layer_image" -- /bin/sh -c 'df -k / | awk "NR == 2 { print \$2 }"'
is "$RUN_STATUS" 0 "--write-size 1m exits 0" || diag_run
is "$RUN_STDOUT" 1024 "--write-size 1m gives a 1024 KiB layer"

run_launch -w --write-size 1m --root "$layer_image" -- /bin/dd if=/dev/zero of=/big bs=1k count=2048
is "$RUN_STATUS" 1 "2 MiB write to 1 MiB layer exits 1" || diag_run
like "$RUN_STDERR" "^dd: error writing '/big': No space left on device$" \
    "2 MiB write to 1 MiB layer runs out of space"

for size in 512k 2M 1g 10%; do
    run_launch -w --write-size "$size" "$layer_image" -- /bin/true
    is "$RUN_STATUS" 0 "--write-size $size is accepted" || diag_run
done

# 0 and 0% mean "no limit" to tmpfs, so they are refused like overflows.
for size in '' 1x m 1.5m -1 10mb '1 m' 1k2 0 0% 101% 18446744073709551616 99999999999g; do
    run_launch -w --write-size "$size" "$layer_image" -- /bin/true
    is "$RUN_STATUS" 125 "--write-size '$size' exits 125" || diag_run
    is "$RUN_STDERR" "launch: error: invalid size '$size' for --write-size; give a number of bytes above zero with an optional k, m or g suffix, or a percentage of memory up to 100%, for example 512m or 10%" \
        "--write-size '$size' is rejected as invalid"
done

run_launch --write-size 1m "$layer_image" -- /bin/true
is "$RUN_STATUS" 125 "--write-size without -w exits 125" || diag_run
is "$RUN_STDERR" "launch: error: --write-size 1m needs --write; add -w to write to an in-memory layer of that size" \
    "--write-size without -w is rejected"

is "$(md5sum <"$layer_image")" "$layer_image_md5" "-w leaves the image file unchanged"

# --- --overlay DIR ---

overlay_dir=$(make_user_dir overlay)

run_launch --overlay "$overlay_dir" --root "$layer_image" -- /bin/sh -c "echo persisted > /etc/$unique"
is "$RUN_STATUS" 0 "--overlay --root write exits 0" || diag_run
is "$(cat "$overlay_dir/upper/etc/$unique" 2>&1)" persisted "--overlay keeps the file in DIR/upper"
is "$(stat -c %u "$overlay_dir/upper/etc/$unique" 2>&1)" "$TEST_UID" "--overlay file belongs to the test user"
[[ -d $overlay_dir/work ]]
ok $? "--overlay creates DIR/work"
[[ ! -e /etc/$unique ]]
ok $? "--overlay write creates nothing in the host's /etc"

run_launch --overlay "$overlay_dir" "$layer_image" -- /bin/cat "/etc/$unique"
is "$RUN_STATUS" 0 "--overlay second run exits 0" || diag_run
is "$RUN_STDOUT" persisted "--overlay file persists into the next run"

run_launch "$layer_image" -- /bin/test -e "/etc/$unique"
is "$RUN_STATUS" 1 "run without --overlay does not see the layer" || diag_run

is "$(md5sum <"$layer_image")" "$layer_image_md5" "--overlay leaves the image file unchanged"

root_overlay_dir=$TEST_TMPDIR/root-overlay
mkdir -m 0755 -- "$root_overlay_dir" || bail_out "cannot create $root_overlay_dir"
run_launch --overlay "$root_overlay_dir" "$layer_image" -- /bin/touch "$marker_dir/ran"
is "$RUN_STATUS" 125 "--overlay on root-owned DIR exits 125" || diag_run
is "$RUN_STDERR" "launch: error: overlay directory '$root_overlay_dir' does not belong to you (owner uid 0); give a directory that you own" \
    "--overlay on root-owned DIR is rejected"
[[ ! -e $marker_dir/ran ]]
ok $? "--overlay on root-owned DIR starts no command"
is "$(ls -A "$root_overlay_dir")" "" "--overlay on root-owned DIR leaves it empty"

run_launch --overlay "$TEST_TMPDIR/missing-overlay" "$layer_image" -- /bin/true
is "$RUN_STATUS" 125 "--overlay on missing DIR exits 125" || diag_run
is "$RUN_STDERR" "launch: error: cannot use overlay directory '$TEST_TMPDIR/missing-overlay': No such file or directory; create the directory first (mkdir -p $TEST_TMPDIR/missing-overlay)" \
    "--overlay on missing DIR is rejected"

run_launch -w --overlay "$overlay_dir" --write-size 1m "$layer_image" -- /bin/true
is "$RUN_STATUS" 125 "--overlay with --write-size exits 125" || diag_run
is "$RUN_STDERR" "launch: error: --write-size applies to the in-memory layer, not to --overlay $overlay_dir; drop --write-size; the overlay directory's file system sets the limit" \
    "--overlay with --write-size is rejected"

# Hold one container open on the overlay until the test creates the release
# file, then start a second one on the same DIR.
sync_dir=$(make_user_dir sync)
as_user_background "$LAUNCH" --overlay "$overlay_dir" "$layer_image" -- /bin/sh -c \
    'touch "$1"; i=0; while [ ! -e "$2" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done' \
    sh "$sync_dir/ready" "$sync_dir/release"
holder_pid=$AS_USER_PID
if wait_for_file "$sync_dir/ready" 30; then
    pass "first --overlay container starts"
    run_launch --overlay "$overlay_dir" "$layer_image" -- /bin/touch "$marker_dir/ran"
    is "$RUN_STATUS" 125 "--overlay DIR in use exits 125" || diag_run
    is "$RUN_STDERR" "launch: error: overlay directory '$overlay_dir' is in use by another running container; wait for that container to end, or give another directory" \
        "--overlay DIR in use is rejected"
    [[ ! -e $marker_dir/ran ]]
    ok $? "--overlay DIR in use starts no command"
else
    fail "first --overlay container starts" "$(cat "$TEST_TMPDIR/background.log" 2>&1)"
    skip "first container did not start" 3
fi
touch "$sync_dir/release"
holder_status=0
wait "$holder_pid" || holder_status=$?
is "$holder_status" 0 "first --overlay container exits 0"

run_launch --overlay "$overlay_dir" "$layer_image" -- /bin/cat "/etc/$unique"
is "$RUN_STATUS" 0 "--overlay DIR is free after the container ends" || diag_run
is "$RUN_STDOUT" persisted "--overlay file survives the locked run"

# --- Environment defaults from the image ---

for image in "$env_image" "$env_dir_image"; do
    case $image in
        *.sqfs) kind=squashfs ;;
        *) kind=directory ;;
    esac
    run as_user env ORDER=host HOST_VAR=host KEPT=host "$LAUNCH" "$image" -- /bin/env
    is "$RUN_STATUS" 0 "$kind image env exits 0" || diag_run
    is "$(env_value ORDER)" launch "$kind image env: /.launch/environment wins over the others"
    is "$(env_value ONLY_ETC)" "etc value" "$kind image env: /etc/environment applies"
    is "$(env_value ONLY_CH)" "ch value" "$kind image env: /ch/environment applies"
    is "$(env_value ONLY_LAUNCH)" "launch value" "$kind image env: /.launch/environment applies"
    is "$(env_value HOST_VAR)" "from image" "$kind image env wins over the host"
    is "$(env_value KEPT)" host "$kind image env keeps other host variables"
    is "$(env_value DOUBLE)" "double quoted" "$kind image env removes double quotes"
    is "$(env_value SINGLE)" "single quoted" "$kind image env removes single quotes"
    is "$(env_value MIXED)" "\"mixed'" "$kind image env keeps unmatched quotes"
    is "$(env_value INNER)" 'a"b"c' "$kind image env keeps inner quotes"
    is "$(env_value EMPTY_QUOTES)" "" "$kind image env turns \"\" into empty"
    like "$RUN_STDOUT" '^EMPTY_QUOTES=$' "$kind image env sets the empty variable"
    is "$(env_value TWICE)" '"' "$kind image env removes one pair of quotes only"
    is "$(env_value EXPORTED)" yes "$kind image env accepts export"
    is "$(env_value CRLF)" "crlf value" "$kind image env strips CR at line end"
    unlike "$RUN_STDOUT" '^1BAD=' "$kind image env skips invalid name"
    is "$RUN_STDERR" "launch: warning: ignoring line 9 of /etc/environment in the image: expected NAME=VALUE
launch: warning: ignoring line 3 of /ch/environment in the image: expected NAME=VALUE" \
        "$kind image env warns about each malformed line"
done

printf 'OVERRIDE=env-file\n' >"$TEST_TMPDIR/override.env" && chmod 0644 "$TEST_TMPDIR/override.env"
run_launch --env-file "$TEST_TMPDIR/override.env" "$env_image" -- /bin/env
is "$(env_value OVERRIDE)" env-file "--env-file wins over image env" || diag_run
run_launch -e OVERRIDE=option "$env_image" -- /bin/env
is "$(env_value OVERRIDE)" option "-e wins over image env" || diag_run
run_launch -e OVERRIDE=option --env-file "$TEST_TMPDIR/override.env" "$env_image" -- /bin/env
is "$(env_value OVERRIDE)" env-file "--env-file after -e wins" || diag_run

run_launch --clean-env "$env_image" -- /bin/env
is "$(env_value ORDER)" launch "--clean-env keeps image env" || diag_run
unlike "$RUN_STDOUT" '^SHELL=' "--clean-env drops host variables"

run as_user env ORDER=host "$LAUNCH" --no-image-env "$env_image" -- /bin/env
is "$RUN_STATUS" 0 "--no-image-env exits 0" || diag_run
is "$(env_value ORDER)" host "--no-image-env keeps the host value"
unlike "$RUN_STDOUT" '^(ONLY_ETC|ONLY_CH|ONLY_LAUNCH|DOUBLE|OVERRIDE)=' \
    "--no-image-env applies no image file"
is "$RUN_STDERR" "" "--no-image-env prints no warnings"

run_launch -e ORDER=option --no-image-env "$env_dir_image" -- /bin/env
is "$(env_value ORDER)" option "--no-image-env keeps -e" || diag_run

# --- Image entrypoints and working directory ---

# launch's own entrypoint and working directory, and enroot's /etc/rc.
entry_tree=$TEST_TMPDIR/entry-tree
entry_image=$TEST_TMPDIR/entry.sqfs
rc_tree=$TEST_TMPDIR/rc-tree
rc_image=$TEST_TMPDIR/rc.sqfs
{
    cp -a -- "$shared_dir_image" "$entry_tree" &&
        rm -f -- "$entry_tree/data/blob" &&
        mkdir -p "$entry_tree/.launch" "$entry_tree/opt/app" &&
        printf '#!/bin/sh\necho "entrypoint: $*"\n[ $# -gt 0 ] && exec "$@"\necho "no command"\n' \
            >"$entry_tree/.launch/entrypoint" &&
        printf '/opt/app\n' >"$entry_tree/.launch/workdir" &&
        chmod 0755 "$entry_tree/.launch" "$entry_tree/.launch/entrypoint" "$entry_tree/opt" "$entry_tree/opt/app" &&
        chmod 0644 "$entry_tree/.launch/workdir" &&
        mksquashfs "$entry_tree" "$entry_image" -all-root -no-xattrs -noappend -quiet -no-progress >&2 &&
        chmod 0644 -- "$entry_image" &&
        cp -a -- "$shared_dir_image" "$rc_tree" &&
        rm -f -- "$rc_tree/data/blob" &&
        printf 'echo "rc: $*"\n[ $# -gt 0 ] && exec "$@"\necho "default command"\n' >"$rc_tree/etc/rc" &&
        chmod 0644 "$rc_tree/etc/rc" &&
        mksquashfs "$rc_tree" "$rc_image" -all-root -no-xattrs -noappend -quiet -no-progress >&2 &&
        chmod 0644 -- "$rc_image"
} || bail_out "cannot build the entrypoint images"

run_launch "$entry_image" -- /bin/echo hello
is "$RUN_STATUS" 0 "entrypoint with a command exits 0" || diag_run
is "$RUN_STDOUT" $'entrypoint: /bin/echo hello\nhello' "entrypoint runs before the command"

run_launch "$entry_image"
is "$RUN_STATUS" 0 "entrypoint without a command exits 0" || diag_run
is "$RUN_STDOUT" $'entrypoint: \nno command' "entrypoint runs alone without a command"

run_launch --no-entrypoint "$entry_image" -- /bin/echo plain
is "$RUN_STDOUT" plain "--no-entrypoint runs the command itself" || diag_run
run_launch --no-entrypoint "$entry_image"
is "$RUN_STATUS" 125 "--no-entrypoint without a command exits 125"
is "$RUN_STDERR" "launch: error: no command given for image '$entry_image'; write the command after the image, for example: launch $entry_image -- /bin/sh" \
    "--no-entrypoint without a command: message"

run_launch "$rc_image" -- /bin/echo hi
is "$RUN_STDOUT" $'rc: /bin/echo hi\nhi' "enroot /etc/rc runs with the command as arguments" || diag_run
run_launch "$rc_image"
is "$RUN_STDOUT" $'rc: \ndefault command' "enroot /etc/rc runs alone without a command" || diag_run

# The image's working directory replaces "/" when the current directory
# is a system directory that the image lacks; the current directory
# otherwise wins.
run as_user env -C /usr/share "$LAUNCH" --no-entrypoint "$entry_image" -- /bin/pwd
is "$RUN_STDOUT" /opt/app "image working directory is the fallback" || diag_run
is "$RUN_STDERR" "launch: warning: working directory /usr/share is a system directory, which is not bound, and the image has no such directory; starting in /opt/app" \
    "image working directory fallback: warning"
run_launch --no-entrypoint "$entry_image" -- /bin/pwd
is "$RUN_STDOUT" "$TEST_HOME" "current directory wins over the image's" || diag_run

# --- fuse-overlayfs ---

run_launch --layer-driver bogus "$layer_image" -- /bin/true
is "$RUN_STATUS" 125 "invalid --layer-driver exits 125"
is "$RUN_STDERR" "launch: error: invalid value 'bogus' for --layer-driver; use auto, kernel or fuse-overlayfs" \
    "invalid --layer-driver message"

if ! command -v fuse-overlayfs >/dev/null; then
    skip "fuse-overlayfs is not installed" 13
else
    # A read-only layer for a missing mount point, served by fuse-overlayfs.
    run_launch --layer-driver fuse-overlayfs -b "$bind_source:/new/dir" "$layer_image" -- /bin/sh -c \
        'cat /new/dir/file; awk '\''$5 == "/" { sub(/.* - /, ""); print $1 }'\'' /proc/self/mountinfo; touch /etc/x'
    is "$RUN_STATUS" 1 "fuse-overlayfs layer: touch fails" || diag_run
    is "$RUN_STDOUT" $'bound from the host\nfuse.fuse-overlayfs' "fuse-overlayfs layer holds the mount point"
    is "$RUN_STDERR" "touch: /etc/x: Read-only file system" "fuse-overlayfs layer stays read-only"

    # -w with --root writes to /etc, with and without a PID namespace.
    for pid_option in "" --pid; do
        run_launch --layer-driver fuse-overlayfs --root -w $pid_option "$layer_image" -- /bin/sh -c \
            'echo written > /etc/new-file && cat /etc/new-file'
        is "$RUN_STATUS" 0 "fuse-overlayfs -w${pid_option:+ $pid_option} exits 0" || diag_run
        is "$RUN_STDOUT" written "fuse-overlayfs -w${pid_option:+ $pid_option} writes /etc"
    done

    # Data written through fuse-overlayfs reads back, in memory and in an
    # --overlay directory (its server once waited for itself on writes).
    fuse_overlay_dir=$(make_user_dir fuse-overlay)
    for layer_option in -w "--overlay $fuse_overlay_dir"; do
        run_launch --layer-driver fuse-overlayfs --root $layer_option "$layer_image" -- /bin/sh -c \
            'dd if=/dev/zero of=/data/written bs=1k count=1024 2>/dev/null && md5sum < /data/written'
        is "$RUN_STATUS" 0 "fuse-overlayfs $layer_option: a 1 MiB write exits 0" || diag_run
        is "${RUN_STDOUT%% *}" b6d81b360a5672d80c27430f39153e2c "fuse-overlayfs $layer_option: the data reads back"
    done

    # The server ends with the container: launch returns, and no
    # fuse-overlayfs process of this test remains.
    is "$(pgrep -u "$TEST_UID" -f "fuse-overlayfs .*lowerdir=/proc/self/fd" || true)" "" \
        "no fuse-overlayfs process remains"

    # A background child keeps the layer until it ends.
    run_launch --layer-driver fuse-overlayfs --root -w "$layer_image" -- /bin/sh -c \
        '(sleep 1; cat /etc/passwd > /dev/null && echo child read) & exit 0'
    is "$RUN_STDOUT" "child read" "fuse-overlayfs serves a background child" || diag_run
fi

# --- Nothing left behind ---

is "$(host_mounts)" "$mounts_before" "host mount table is unchanged"
is "$(leftover_processes)" "" "no process of the test remains"

done_testing
