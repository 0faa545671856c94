#!/bin/bash
# Mounts of the container. Covers /proc, /sys, /dev, /dev/shm and the
# host's /tmp (or --private-tmp), the home directory (or --no-home), the
# working directory and --cd, and -b binds with their errors. Also checks
# that bind destinations stay inside the image, that /etc/hosts and
# /etc/resolv.conf are the host's, and that nothing stays mounted on the host.

. "$(dirname "$0")/../lib/setup.sh"

# Print the host's mount table as "MOUNT_POINT FSTYPE SOURCE" lines, sorted,
# so that two snapshots compare without the changing mount ids.
mount_table() {
    awk '{
        for (i = 7; $i != "-"; i++) {}
        print $5, $(i + 1), $(i + 2)
    }' /proc/self/mountinfo | sort
}

# fstype_of PATH: print the file system type of the mount that contains
# PATH, read from mountinfo text on stdin, as `findmnt -T` does: the mount
# with the longest matching mount point, the last one of equal points.
fstype_of() {
    awk -v path="$1" '{
        for (i = 7; $i != "-"; i++) {}
        point = $5
        if (point == path || point == "/" || index(path, point "/") == 1) {
            if (length(point) >= best) {
                best = length(point)
                type = $(i + 1)
            }
        }
    } END { print type }'
}

# run_in DIR LAUNCH_ARGS...: run launch as the test user from the host
# directory DIR, through `run`.
run_in() {
    local dir=$1
    shift
    run as_user env -C "$dir" "$LAUNCH" "$@"
}

# The warning that launch prints when it cannot bind the working directory
# DIR and starts in START instead.

image=$(busybox_image) || bail_out "cannot build the busybox image"
mounts_before=$(mount_table)

# A directory owned by the test user outside its home and /tmp, which the
# busybox image has no path for (it has no /var).
outside=$(mktemp -d /var/tmp/launch-test.XXXXXX) || bail_out "cannot create a directory under /var/tmp"
at_exit rm -rf --one-file-system -- "$outside"
chown "$TEST_UID:$TEST_GID" "$outside" && chmod 0755 "$outside" || bail_out "cannot prepare $outside"
printf 'outside the home\n' >"$outside/marker"

# A directory owned by the test user in its home.
home_dir=$(mktemp -d "$TEST_HOME/launch-test.XXXXXX") || bail_out "cannot create a directory in $TEST_HOME"
at_exit rm -rf --one-file-system -- "$home_dir"
mkdir "$home_dir/sub" && chown -R "$TEST_UID:$TEST_GID" "$home_dir" || bail_out "cannot prepare $home_dir"

# A directory owned by the test user under the shared /tmp.
shared=$(make_user_dir shared)

# A custom image: the busybox tree plus
#   $outside                      an empty directory, so the host directory
#                                 of the same path can be bound there
#   etc/escape-target/in-image    a real directory with a file
#   mnt/escape -> /../../../etc/escape-target
#   mnt/escape-relative -> ../../../../etc/escape-target
#   mnt/escape-file -> /../../../etc/escape-target/in-image
#   mnt/up -> ../../..                    resolves to the image's root
# The symbolic links climb above the root, which inside the image must stay
# at the image's root.
custom_tree=$TEST_TMPDIR/custom-tree
custom_image=$TEST_TMPDIR/custom.sqfs
busybox_populate_tree "$custom_tree" ||
    bail_out "cannot populate $custom_tree"
mkdir -p "$custom_tree$outside" "$custom_tree/etc/escape-target" &&
    printf 'in the image\n' >"$custom_tree/etc/escape-target/in-image" &&
    ln -s /../../../etc/escape-target "$custom_tree/mnt/escape" &&
    ln -s ../../../../etc/escape-target "$custom_tree/mnt/escape-relative" &&
    ln -s /../../../etc/escape-target/in-image "$custom_tree/mnt/escape-file" &&
    ln -s ../../.. "$custom_tree/mnt/up" ||
    bail_out "cannot add the custom files to $custom_tree"
mksquashfs "$custom_tree" "$custom_image" -all-root -no-xattrs -noappend -quiet -no-progress >&2 &&
    chmod 0644 "$custom_image" || bail_out "mksquashfs of $custom_tree failed"
rm -rf -- "$custom_tree"

# Default mounts: the image is the root, and /proc, /sys, /dev with /dev/pts
# and /dev/shm, and /tmp are the host's.
run_launch "$image" -- cat /proc/self/mountinfo
is "$RUN_STATUS" 0 "mountinfo: cat exits with status 0" || diag_run
container_mounts=$RUN_STDOUT
host_mounts=$(cat /proc/self/mountinfo)
# The busybox image lacks the home directory, but its /home is empty, so a
# read-only tmpfs on /home holds the mount point and the root stays the
# image itself.
is "$(fstype_of / <<<"$container_mounts")" fuse.launch "the root is the image when the missing mount point is in an empty directory"
is "$(fstype_of /home <<<"$container_mounts")" tmpfs "a tmpfs on the empty /home holds the home directory"
run_launch "$image" -- touch /home/new-file
is "$RUN_STATUS" 1 "the tmpfs on /home is read-only: touch fails"
is "$RUN_STDERR" "touch: /home/new-file: Read-only file system" "the tmpfs on /home refuses writes"
# /data has files, so a mount point below it needs a layer over the image.
layer_source=$(make_user_dir layer-source)
run_launch -b "$layer_source:/data/new" "$image" -- cat /proc/self/mountinfo
is "$RUN_STATUS" 0 "a bind into a non-empty directory of the image exits with status 0" || diag_run
is "$(fstype_of / <<<"$RUN_STDOUT")" overlay "the root is a layer over the image when a mount point is missing from a non-empty directory"
run_launch -b "$layer_source:/data/new" "$image" -- cat /data/hello.txt
is "$RUN_STDOUT" "hello from the image" "the layer keeps the files of the non-empty directory visible" || diag_run
is "$(fstype_of /proc <<<"$container_mounts")" proc "/proc is a proc file system"
run_in / --no-home "$image" -- cat /proc/self/mountinfo
is "$(fstype_of / <<<"$RUN_STDOUT")" fuse.launch "the root is the image itself when every mount point exists" || diag_run
is "$(fstype_of /sys <<<"$container_mounts")" sysfs "/sys is a sysfs"
for path in /dev /dev/pts /dev/shm /tmp; do
    is "$(fstype_of "$path" <<<"$container_mounts")" "$(fstype_of "$path" <<<"$host_mounts")" \
        "$path has the file system type of the host's"
done

run_launch "$image" -- sh -c 'test -c /dev/null && echo x > /dev/null'
is "$RUN_STATUS" 0 "/dev/null is a writable character device" || diag_run

run_launch "$image" -- cat /proc/self/comm
is "$RUN_STDOUT" cat "/proc/self describes the reading process" || diag_run

if [[ -d /dev/shm ]]; then
    shm_file=$(mktemp /dev/shm/launch-test.XXXXXX)
    at_exit rm -f -- "$shm_file"
    printf 'shared memory\n' >"$shm_file"
    chmod 0644 "$shm_file"
    run_launch "$image" -- cat "$shm_file"
    is "$RUN_STDOUT" "shared memory" "/dev/shm is the host's: a host file there is visible" || diag_run
else
    skip "the host has no /dev/shm"
fi

# /tmp is the host's /tmp, in both directions.
printf 'from the host\n' >"$shared/host-file"
run_launch "$image" -- cat "$shared/host-file"
is "$RUN_STATUS" 0 "/tmp: cat of a host file exits with status 0" || diag_run
is "$RUN_STDOUT" "from the host" "/tmp: a file created on the host is visible inside"

run_launch "$image" -- sh -c 'echo from the container > "$1/inside-file"' sh "$shared"
is "$RUN_STATUS" 0 "/tmp: writing a file inside exits with status 0" || diag_run
is "$(cat "$shared/inside-file" 2>/dev/null)" "from the container" "/tmp: a file written inside appears on the host"

# --private-tmp: an empty tmpfs that the host does not share.
private_name=launch-private-test.$$.$RANDOM
at_exit rm -f -- "/tmp/$private_name"
run_launch --private-tmp "$image" -- ls -A /tmp
is "$RUN_STATUS" 0 "--private-tmp: ls /tmp exits with status 0" || diag_run
is "$RUN_STDOUT" "" "--private-tmp: /tmp is empty"

run_launch --private-tmp "$image" -- cat /proc/self/mountinfo
is "$(fstype_of /tmp <<<"$RUN_STDOUT")" tmpfs "--private-tmp: /tmp is a tmpfs"

run_launch --private-tmp "$image" -- test -e "$shared/host-file"
is "$RUN_STATUS" 1 "--private-tmp: a host file in /tmp is not visible"

run_launch --private-tmp "$image" -- sh -c 'echo private > "/tmp/$1" && cat "/tmp/$1"' sh "$private_name"
is "$RUN_STDOUT" private "--private-tmp: /tmp is writable" || diag_run
[[ ! -e /tmp/$private_name ]]
ok $? "--private-tmp: a file written in /tmp does not appear on the host"

# From a directory under the host's /tmp, binding it would undo the private
# /tmp, so launch warns and starts in the home directory.
run_in "$shared" --private-tmp "$image" -- pwd
is "$RUN_STATUS" 0 "--private-tmp from a /tmp directory: exit status 0" || diag_run
is "$RUN_STDOUT" "$TEST_HOME" "--private-tmp from a /tmp directory: starts in the home directory"
is "$RUN_STDERR" "launch: warning: working directory $shared is under /tmp, which --private-tmp replaces; starting in $TEST_HOME (use --cd DIR to choose)" \
    "--private-tmp from a /tmp directory: warning"

# From /tmp itself, the private /tmp must stay private: the command starts
# in the private /tmp, the host's files do not show and writes stay inside.
run_in /tmp --private-tmp "$image" -- pwd
is "$RUN_STDOUT" /tmp "--private-tmp from /tmp: starts in /tmp" || diag_run
is "$RUN_STDERR" "" "--private-tmp from /tmp: no warning"
run_in /tmp --private-tmp "$image" -- test -e "$shared/host-file"
is "$RUN_STATUS" 1 "--private-tmp from /tmp: a host file in /tmp is not visible"
private_name_2=$private_name.from-tmp
at_exit rm -f -- "/tmp/$private_name_2"
run_in /tmp --private-tmp "$image" -- sh -c 'echo private > "/tmp/$1"' sh "$private_name_2"
is "$RUN_STATUS" 0 "--private-tmp from /tmp: writing a file exits with status 0" || diag_run
[[ ! -e /tmp/$private_name_2 ]]
ok $? "--private-tmp from /tmp: a file written in /tmp does not appear on the host"

# The home directory is mounted at its own path and is writable.
run_launch "$image" -- pwd
is "$RUN_STATUS" 0 "home: pwd exits with status 0" || diag_run
is "$RUN_STDOUT" "$TEST_HOME" "home: the command starts in the home directory, its path unchanged"
is "$RUN_STDERR" "" "home: no warning"

run_launch "$image" -- sh -c 'echo written inside > "$1/written"' sh "$home_dir"
is "$RUN_STATUS" 0 "home: writing a file exits with status 0" || diag_run
is "$(cat "$home_dir/written" 2>/dev/null)" "written inside" "home: a file written inside appears on the host"
is "$(stat -c %u "$home_dir/written" 2>/dev/null)" "$TEST_UID" "home: the file belongs to the user on the host"

# --no-home: the image's /home stays as it is, without the user's directory.
run_in / --no-home "$image" -- ls -A /home
is "$RUN_STATUS" 0 "--no-home: ls /home exits with status 0" || diag_run
is "$RUN_STDOUT" "" "--no-home: /home is the image's empty directory"

# Run from the home directory, --no-home still binds it as the working
# directory, at its own path in a layer over the image.
run_launch --no-home "$image" -- pwd
is "$RUN_STDOUT" "$TEST_HOME" "--no-home from the home directory: starts there" || diag_run
is "$RUN_STDERR" "" "--no-home from the home directory: no warning"

# Working directory under the home directory: the same path inside.
run_in "$home_dir/sub" "$image" -- pwd
is "$RUN_STATUS" 0 "working directory in home: exit status 0" || diag_run
is "$RUN_STDOUT" "$home_dir/sub" "working directory in home: the same path inside"
is "$RUN_STDERR" "" "working directory in home: no warning"

# Working directory visible through a bind: its path under the destination.
mkdir -p "$shared/bound/sub" && chown -R "$TEST_UID:$TEST_GID" "$shared/bound"
run_in "$shared/bound/sub" --private-tmp -b "$shared/bound:/mnt" "$image" -- pwd
is "$RUN_STDOUT" /mnt/sub "working directory in a bind: its path under the bind's destination" || diag_run
is "$RUN_STDERR" "" "working directory in a bind: no warning"

# Working directory outside the home and /tmp: bound at its own path, in a
# layer over the image when the image lacks that path.
run_in "$outside" "$image" -- pwd
is "$RUN_STATUS" 0 "working directory missing in the image: exit status 0" || diag_run
is "$RUN_STDOUT" "$outside" "working directory missing in the image: bound at its path"
is "$RUN_STDERR" "" "working directory missing in the image: no warning"

run_in "$outside" --no-home "$image" -- pwd
is "$RUN_STDOUT" "$outside" "working directory missing in the image, --no-home: bound at its path" || diag_run
is "$RUN_STDERR" "" "working directory missing in the image, --no-home: no warning"

run_in "$outside" "$custom_image" -- cat marker
is "$RUN_STATUS" 0 "working directory present in the image: cat exits with status 0" || diag_run
is "$RUN_STDOUT" "outside the home" "working directory present in the image: the host directory is bound there"
is "$RUN_STDERR" "" "working directory present in the image: no warning"
run_in "$outside" "$custom_image" -- pwd
is "$RUN_STDOUT" "$outside" "working directory present in the image: the same path inside"
run_in "$outside" "$custom_image" -- sh -c 'echo bound > written'
is "$(cat "$outside/written" 2>/dev/null)" bound "working directory present in the image: bound read-write"

# System directories of the host (/ and those under /etc, /usr and the
# like) are never bound as the working directory: the command starts in the
# image's directory of that path, or in / when the image lacks it.
run_in / "$image" -- sh -c 'pwd; cat /etc/image-release'
is "$RUN_STDOUT" $'/\nlaunch-test-busybox' "working directory /: starts in the image's root" || diag_run
is "$RUN_STDERR" "" "working directory /: no warning"

run_in /etc "$image" -- sh -c 'pwd; cat image-release'
is "$RUN_STDOUT" $'/etc\nlaunch-test-busybox' "working directory /etc: starts in the image's /etc" || diag_run
is "$RUN_STDERR" "" "working directory /etc: no warning"

run_in /usr/share "$image" -- pwd
is "$RUN_STDOUT" / "working directory /usr/share, missing in the image: starts in /" || diag_run
is "$RUN_STDERR" "launch: warning: working directory /usr/share is a system directory, which is not bound, and the image has no such directory; starting in /" \
    "working directory /usr/share, missing in the image: warning"

# -c DIR starts in DIR inside the container, without binding the current
# directory.
run_in "$outside" -c /data "$image" -- pwd
is "$RUN_STATUS" 0 "-c /data: exit status 0" || diag_run
is "$RUN_STDOUT" /data "-c /data: starts in /data"
is "$RUN_STDERR" "" "-c /data: no warning about the current directory"

run_launch --cd /data/../etc "$image" -- pwd
is "$RUN_STDOUT" /etc "--cd normalizes the path" || diag_run

run_launch -c /missing "$image" -- pwd
is "$RUN_STATUS" 125 "-c with a missing directory exits 125"
is "$RUN_STDERR" "launch: error: cannot use working directory '/missing' given with --cd: No such file or directory; give a directory that exists inside the container" \
    "-c with a missing directory: message"
is "$RUN_STDOUT" "" "-c with a missing directory: the command does not run"

run_launch -c /data/hello.txt "$image" -- pwd
is "$RUN_STATUS" 125 "-c with a file exits 125"
is "$RUN_STDERR" "launch: error: cannot use working directory '/data/hello.txt' given with --cd: Not a directory; give a directory that exists inside the container" \
    "-c with a file: message"

run_launch -c data "$image" -- pwd
is "$RUN_STATUS" 125 "-c with a relative path exits 125"
is "$RUN_STDERR" "launch: error: invalid working directory 'data' given with --cd: it must be an absolute path inside the container; write it starting with '/'" \
    "-c with a relative path: message"

# Binds. The source directory contains a marker file.
source_dir=$(make_user_dir bind-source)
printf 'bound marker\n' >"$source_dir/marker"

run_launch -b "$source_dir:/mnt" "$image" -- cat /mnt/marker
is "$RUN_STATUS" 0 "-b SRC:DST: cat exits with status 0" || diag_run
is "$RUN_STDOUT" "bound marker" "-b SRC:DST: the source is visible at DST"

run_launch -b "$source_dir:/mnt" "$image" -- sh -c 'echo written > /mnt/written-rw'
is "$RUN_STATUS" 0 "-b SRC:DST: writing exits with status 0" || diag_run
is "$(cat "$source_dir/written-rw" 2>/dev/null)" written "-b SRC:DST is read-write by default"

run_launch -b "$source_dir:/mnt:rw" "$image" -- sh -c 'echo written > /mnt/written-explicit'
is "$(cat "$source_dir/written-explicit" 2>/dev/null)" written "-b SRC:DST:rw is read-write" || diag_run

run_launch -b "$source_dir:/mnt:ro" "$image" -- cat /mnt/marker
is "$RUN_STDOUT" "bound marker" "-b SRC:DST:ro: the source is readable" || diag_run
run_launch -b "$source_dir:/mnt:ro" "$image" -- sh -c 'echo written > /mnt/written-ro'
is "$RUN_STATUS" 1 "-b SRC:DST:ro: writing fails with status 1"
like "$RUN_STDERR" "Read-only file system" "-b SRC:DST:ro: writing fails with 'Read-only file system'"
[[ ! -e $source_dir/written-ro ]]
ok $? "-b SRC:DST:ro: no file appears on the host"

# -b SRC binds at the same path, which must exist in the image.
run_launch -b "$outside" "$custom_image" -- cat "$outside/marker"
is "$RUN_STATUS" 0 "-b SRC: cat exits with status 0" || diag_run
is "$RUN_STDOUT" "outside the home" "-b SRC: the source is visible at its own path"

# A relative SRC is taken from the current directory.
run_in "$shared" -b "../bind-source:/mnt" "$image" -- cat /mnt/marker
is "$RUN_STDOUT" "bound marker" "-b with a relative source: resolved from the current directory" || diag_run

# A file onto a file.
printf 'host file content\n' >"$shared/file"
run_launch -b "$shared/file:/data/hello.txt" "$image" -- cat /data/hello.txt
is "$RUN_STATUS" 0 "-b file onto file: cat exits with status 0" || diag_run
is "$RUN_STDOUT" "host file content" "-b file onto file: the image file shows the host file"

# Errors: each exits 125 before the command runs.
run_launch -b "$source_dir:/data/hello.txt" "$image" -- echo ran
is "$RUN_STATUS" 125 "-b directory onto file exits 125"
like "$RUN_STDERR" "^launch: error: cannot mount bind $source_dir on /data/hello\\.txt: the source is a directory but the destination is not; bind a directory onto a directory and a file onto a file\$" \
    "-b directory onto file: message"
is "$RUN_STDOUT" "" "-b directory onto file: the command does not run"

run_launch -b "$shared/file:/data" "$image" -- echo ran
is "$RUN_STATUS" 125 "-b file onto directory exits 125"
like "$RUN_STDERR" "^launch: error: cannot mount bind $shared/file on /data: the source is a file but the destination is a directory; bind a directory onto a directory and a file onto a file\$" \
    "-b file onto directory: message"

run_launch -b "$source_dir:/nonexistent" "$image" -- cat /nonexistent/marker
is "$RUN_STATUS" 0 "-b with a destination missing from the image exits 0" || diag_run
is "$RUN_STDOUT" "bound marker" "-b with a destination missing from the image: mounted in a layer"

run_launch -b "$shared/missing:/mnt" "$image" -- echo ran
is "$RUN_STATUS" 125 "-b with a missing source exits 125"
is "$RUN_STDERR" "launch: error: bind source '$shared/missing' not found on the host; check the path given to -b" \
    "-b with a missing source: message"

unreadable=$TEST_TMPDIR/unreadable
mkdir -m 0700 "$unreadable"
run_launch -b "$unreadable:/mnt" "$image" -- echo ran
is "$RUN_STATUS" 125 "-b with an unreadable source exits 125"
is "$RUN_STDERR" "launch: error: bind source '$unreadable' is not readable by you: Permission denied; bind only paths that you can read" \
    "-b with an unreadable source: message"

# Paths with special characters: '\:' is a literal colon, and spaces,
# commas and '#' need no escape.
colon_dir=$(make_user_dir 'with:colon')
printf 'colon marker\n' >"$colon_dir/marker"
run_launch -b "$TEST_TMPDIR/with\\:colon:/mnt" "$image" -- cat /mnt/marker
is "$RUN_STATUS" 0 "-b with an escaped colon: exit status 0" || diag_run
is "$RUN_STDOUT" "colon marker" "-b with an escaped colon: the source is bound"

run_launch -b "$colon_dir:/mnt" "$image" -- cat /mnt/marker
is "$RUN_STATUS" 125 "-b with an unescaped colon exits 125"
is "$RUN_STDERR" "launch: error: invalid bind '$colon_dir:/mnt': unknown option '/mnt'; the only options are 'ro' and 'rw'" \
    "-b with an unescaped colon: message"

special_dir=$(make_user_dir 'with space, comma #hash')
printf 'special marker\n' >"$special_dir/marker"
run_launch -b "$special_dir:/mnt" "$image" -- cat /mnt/marker
is "$RUN_STATUS" 0 "-b with space, comma and '#': exit status 0" || diag_run
is "$RUN_STDOUT" "special marker" "-b with space, comma and '#': the source is bound"

run_launch -b "$special_dir" "$image" -- cat "$special_dir/marker"
is "$RUN_STDOUT" "special marker" "-b with space, comma and '#' at its own path" || diag_run

# Bind destinations are resolved inside the image: symbolic links that
# climb above the root stop at the image's root and land in the image.
for link in escape escape-relative; do
    run_launch -b "$source_dir:/mnt/$link" "$custom_image" -- sh -c '
        cat /etc/escape-target/marker
        test -e /etc/escape-target/in-image && echo in-image visible
        grep -c " /etc/escape-target " /proc/self/mountinfo'
    is "$RUN_STATUS" 0 "bind on /mnt/$link: exit status 0" || diag_run
    is "$RUN_STDOUT" $'bound marker\n1' "bind on /mnt/$link: mounted on the image's /etc/escape-target"
done
[[ ! -e /etc/escape-target ]]
ok $? "bind on a link that climbs above the root: nothing on the host's /etc"

run_launch -b "$shared/file:/mnt/escape-file" "$custom_image" -- cat /etc/escape-target/in-image
is "$RUN_STATUS" 0 "file bind on /mnt/escape-file: exit status 0" || diag_run
is "$RUN_STDOUT" "host file content" "file bind on /mnt/escape-file: mounted on the image's file"

# A destination that a symlink resolves to the root is refused: the bind
# would cover the whole image.
run_launch -b "$source_dir:/mnt/up" "$custom_image" -- echo ran
is "$RUN_STATUS" 125 "bind on a symlink to the root exits 125"
is "$RUN_STDERR" "launch: error: cannot mount bind $source_dir on /mnt/up: /mnt/up resolves to the container's root; a symlink in the image leads there; choose a destination below it" \
    "bind on a symlink to the root: message"
is "$RUN_STDOUT" "" "bind on a symlink to the root: the command does not run"

# With --root the command holds capabilities, but the mounts are locked:
# a read-only bind stays read-only and /proc cannot be unmounted.
run_launch --root -b "$source_dir:/mnt:ro" "$image" -- sh -c \
    'mount -o remount,bind,rw /mnt 2>/dev/null; echo "remount $?"; touch /mnt/x 2>/dev/null; echo "touch $?"'
is "$RUN_STDOUT" $'remount 1\ntouch 1' "--root cannot make a read-only bind writable" || diag_run
[[ ! -e $source_dir/x ]]
ok $? "--root: nothing was written through the read-only bind"
run_launch --root --pid "$image" -- sh -c 'umount /proc 2>/dev/null; echo "umount $?"'
is "$RUN_STDOUT" "umount 1" "--root --pid cannot unmount the new /proc" || diag_run

# No process the command can inspect holds a descriptor of a host
# directory, which would lead out of the container through /proc/PID/fd.
for image_kind in squashfs directory; do
    if [[ $image_kind == directory ]]; then
        kind_image=$(busybox_dir_image) || bail_out "cannot build the directory image"
    else
        kind_image=$image
    fi
    run_launch --root "$kind_image" -- sh -c \
        'for f in /proc/$PPID/fd/*; do [ -d "$f" ] && echo "directory $f"; done; echo done'
    is "$RUN_STDOUT" done "--root, $image_kind image: the launcher holds no directory descriptor" || diag_run
done

# Host files outside the mounts are not visible.
run_launch "$image" -- test -e "$outside/marker"
is "$RUN_STATUS" 1 "a host file outside the mounts is not visible"
if [[ -e /etc/os-release ]]; then
    run_launch "$image" -- test -e /etc/os-release
    is "$RUN_STATUS" 1 "the host's /etc/os-release is not visible"
else
    skip "the host has no /etc/os-release"
fi

# /etc/hosts and /etc/resolv.conf are the host's.
for file in /etc/hosts /etc/resolv.conf; do
    if [[ -f $file ]]; then
        run_launch "$image" -- md5sum "$file"
        is "$RUN_STDOUT" "$(md5sum "$file")" "$file inside equals the host's" || diag_run
    else
        skip "the host has no $file"
    fi
done

# Every container of this file is gone, and none left a mount on the host.
is "$(mount_table)" "$mounts_before" "the host's mount table is unchanged"
is "$(mount_table | grep -c ' fuse\.launch ')" 0 "the host has no fuse.launch mount"

done_testing
