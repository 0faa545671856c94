#!/bin/bash
# Identity and privileges inside the container. The checks cover uid, gid
# and names, the generated /etc/passwd and /etc/group, and the owners of
# files written to the host. They also cover capabilities, no_new_privs,
# setuid binaries, the root mount's flags, host files outside the mounts and
# a uid without a passwd entry.

. "$(dirname "$0")/../lib/setup.sh"

image=$(busybox_image) || bail_out "cannot build the busybox image"
dir_image=$(busybox_dir_image) || bail_out "cannot build the busybox directory image"

# The passwd entry and group name that launch copies from the host.
IFS=: read -r _ _ _ _ _ host_home host_shell < <(getent passwd "$TEST_UID")
host_shell=${host_shell:-/bin/sh}
group_name=$(getent group "$TEST_GID" | cut -d : -f 1)
group_name=${group_name:-gid$TEST_GID}
nobody_entry="nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin"
expected_passwd="root:x:0:0:root:/root:/bin/sh
$TEST_USER:x:$TEST_UID:$TEST_GID:$TEST_USER:$host_home:$host_shell
$nobody_entry"
expected_group="root:x:0:
$group_name:x:$TEST_GID:
nogroup:x:65534:"

# The ids and names inside are the test user's.
run_launch "$image" -- /bin/sh -c 'id -u; id -g; id -un; id -gn; id -G'
is "$RUN_STATUS" 0 "id exits 0" || diag_run
mapfile -t ids <<<"$RUN_STDOUT"
is "${ids[0]}" "$TEST_UID" "id -u is the test user's uid"
is "${ids[1]}" "$TEST_GID" "id -g is the test user's gid"
is "${ids[2]}" "$TEST_USER" "id -un is the test user's name"
is "${ids[3]}" "$group_name" "id -gn is the test user's group"
is "${ids[4]}" "$TEST_GID" "id -G lists only the primary group"

run_launch --root "$image" -- /bin/sh -c 'id -u; id -g; id -un; id -gn'
is "$RUN_STATUS" 0 "id with --root exits 0" || diag_run
is "$RUN_STDOUT" $'0\n0\nroot\nroot' "--root gives uid 0 and name root"

# /etc/passwd and /etc/group are generated: the image's own imageuser
# entry is gone.
run_launch "$image" -- /bin/cat /etc/passwd
is "$RUN_STATUS" 0 "cat /etc/passwd exits 0" || diag_run
is "$RUN_STDOUT_EXACT" "$expected_passwd"$'\n' "/etc/passwd lists root, the user and nobody"
unlike "$RUN_STDOUT" "$IMAGE_USER_NAME" "/etc/passwd drops the image's user"

run_launch "$image" -- /bin/cat /etc/group
is "$RUN_STATUS" 0 "cat /etc/group exits 0" || diag_run
is "$RUN_STDOUT_EXACT" "$expected_group"$'\n' "/etc/group lists root, the group and nogroup"
unlike "$RUN_STDOUT" "$IMAGE_USER_NAME" "/etc/group drops the image's group"

run_launch "$image" -- /bin/sh -c 'echo "$HOME"; pwd'
is "$RUN_STDOUT" "$host_home"$'\n'"$host_home" "HOME and working directory are the passwd home"

run_launch --root "$image" -- /bin/cat /etc/passwd /etc/group
is "$RUN_STATUS" 0 "cat /etc/passwd with --root exits 0" || diag_run
is "$RUN_STDOUT" "root:x:0:0:root:/root:/bin/sh
$nobody_entry
root:x:0:
nogroup:x:65534:" "--root /etc/passwd and /etc/group list root and nobody"

# glibc's name lookups (getent, id) see the generated files in Debian,
# whose own passwd lists daemon.
debian_status=0
debian=$(debian_image) || debian_status=$?
if [[ $debian_status -eq 2 ]]; then
    skip "the Debian image is unavailable" 6
else
    if [[ $debian_status -ne 0 ]]; then
        bail_out "building the Debian image failed"
    fi
    run_launch "$debian" -- /bin/sh -c "id -un; id -gn; getent passwd $TEST_USER; getent group $TEST_GID; getent passwd daemon; echo \"getent status \$?\""
    is "$RUN_STATUS" 0 "Debian name lookups exit 0" || diag_run
    mapfile -t lines <<<"$RUN_STDOUT"
    is "${lines[0]}" "$TEST_USER" "Debian id -un is the test user's name"
    is "${lines[1]}" "$group_name" "Debian id -gn is the test user's group"
    is "${lines[2]}" "$(sed -n 2p <<<"$expected_passwd")" "Debian getent passwd finds the user"
    is "${lines[3]}" "$group_name:x:$TEST_GID:" "Debian getent group finds the group"
    is "${lines[4]}" "getent status 2" "Debian getent does not find the image's daemon user"
fi

# Files created through a bind or in the host's /tmp belong to the test
# user on the host, also with --root.
shared=$(make_user_dir shared)
run_launch -b "$shared:/mnt" "$image" -- /bin/touch /mnt/from-bind
is "$RUN_STATUS" 0 "touch in a bind exits 0" || diag_run
is "$(stat -c %u:%g -- "$shared/from-bind" 2>&1)" "$TEST_UID:$TEST_GID" "file created in a bind belongs to the test user"

run_launch "$image" -- /bin/touch "$shared/from-tmp"
is "$RUN_STATUS" 0 "touch in the host's /tmp exits 0" || diag_run
is "$(stat -c %u:%g -- "$shared/from-tmp" 2>&1)" "$TEST_UID:$TEST_GID" "file created in the host's /tmp belongs to the test user"

run_launch --root -b "$shared:/mnt" "$image" -- /bin/sh -c 'touch /mnt/from-root && stat -c %u:%g /mnt/from-root'
is "$RUN_STATUS" 0 "touch in a bind with --root exits 0" || diag_run
is "$RUN_STDOUT" "0:0" "file created with --root belongs to root inside"
is "$(stat -c %u:%g -- "$shared/from-root" 2>&1)" "$TEST_UID:$TEST_GID" "file created with --root belongs to the test user on the host"

# Files of the image, owned by root, appear owned by the overflow id 65534,
# because only the test user's ids are mapped. With --root, root is mapped.
run_launch "$image" -- /bin/stat -c %u:%g /bin/busybox
is "$RUN_STDOUT" "65534:65534" "image files appear owned by nobody"
run_launch --root "$image" -- /bin/stat -c %u:%g /bin/busybox
is "$RUN_STDOUT" "0:0" "image files appear owned by root with --root"

# The command has no capability and runs with no_new_privs.
zero_caps=0000000000000000
run_launch "$image" -- /bin/grep -E '^(Cap[A-Za-z]+|NoNewPrivs):' /proc/self/status
is "$RUN_STATUS" 0 "grep of the status exits 0" || diag_run
for field in CapInh CapPrm CapEff CapBnd CapAmb; do
    is "$(grep "^$field:" <<<"$RUN_STDOUT" | cut -f 2)" "$zero_caps" "$field is empty"
done
is "$(grep '^NoNewPrivs:' <<<"$RUN_STDOUT" | cut -f 2)" 1 "NoNewPrivs is set"

run_launch --root "$image" -- /bin/grep -E '^(CapBnd|CapEff|NoNewPrivs):' /proc/self/status
is "$RUN_STATUS" 0 "grep of the status with --root exits 0" || diag_run
isnt "$(grep '^CapBnd:' <<<"$RUN_STDOUT" | cut -f 2)" "$zero_caps" "--root keeps a bounding set"
isnt "$(grep '^CapEff:' <<<"$RUN_STDOUT" | cut -f 2)" "$zero_caps" "--root keeps effective capabilities"
is "$(grep '^NoNewPrivs:' <<<"$RUN_STDOUT" | cut -f 2)" 1 "--root sets NoNewPrivs"

# Those capabilities grant nothing on the host: a root-owned host file
# bound in can be neither written nor chmod-ed.
root_file=$TEST_TMPDIR/root-owned.txt
printf 'owned by root\n' >"$root_file" && chown 0:0 -- "$root_file" && chmod 0644 -- "$root_file"
run_launch --root -b "$root_file:/data/hello.txt" "$image" -- /bin/sh -c 'echo changed >>/data/hello.txt'
is "$RUN_STATUS" 1 "--root write to a root-owned file exits 1"
is "$RUN_STDERR" "/bin/sh: can't create /data/hello.txt: Permission denied" "--root write to a root-owned file is denied"
run_launch --root -b "$root_file:/data/hello.txt" "$image" -- /bin/chmod 0666 /data/hello.txt
is "$RUN_STATUS" 1 "--root chmod of a root-owned file exits 1"
is "$RUN_STDERR" "chmod: /data/hello.txt: Operation not permitted" "--root chmod of a root-owned file is denied"
is "$(cat -- "$root_file")" "owned by root" "root-owned host file is unchanged"
is "$(stat -c %a -- "$root_file")" 644 "root-owned host file keeps its mode"

# The image's /usr/bin/busybox is setuid root, and its /etc/busybox.conf
# lets the id applet keep root. nosuid and no_new_privs make it worthless.
run_launch --root "$image" -- /bin/stat -c %u:%a /usr/bin/busybox
is "$RUN_STDOUT" "0:4755" "image busybox is setuid root"
run_launch "$image" -- /usr/bin/busybox id -u
is "$RUN_STATUS" 0 "setuid busybox id exits 0" || diag_run
is "$RUN_STDOUT" "$TEST_UID" "setuid busybox gives no root"

# The container's root mount is read-only, nosuid and nodev. Field 5 of
# mountinfo is the mount point, field 6 its options.
for case in "$image|SquashFS" "$dir_image|directory"; do
    root_image=${case%|*}
    kind=${case##*|}
    run_launch "$root_image" -- /bin/awk '$5 == "/" { print $6 }' /proc/self/mountinfo
    is "$RUN_STATUS" 0 "$kind root mountinfo exits 0" || diag_run
    for flag in ro nosuid nodev; do
        like ",$RUN_STDOUT," ",$flag," "$kind root is mounted $flag"
    done
done

# A host file outside the mounts is not visible, although the test user can
# read it on the host. The busybox image lacks /var, and the Debian image
# has /var/tmp.
host_file=$(mktemp /var/tmp/launch-identity.XXXXXX) || bail_out "mktemp in /var/tmp failed"
at_exit rm -f -- "$host_file"
printf 'host only\n' >"$host_file" && chmod 0644 -- "$host_file"
run as_user cat -- "$host_file"
is "$RUN_STDOUT" "host only" "host file is readable by the test user"
run_launch "$image" -- /bin/cat "$host_file"
is "$RUN_STATUS" 1 "host file outside the mounts exits 1"
is "$RUN_STDERR" "cat: can't open '$host_file': No such file or directory" "host file outside the mounts is not visible"
if [[ $debian_status -eq 0 ]]; then
    run_launch "$debian" -- /bin/sh -c 'test -d /var/tmp && echo dir; cat "$1"' sh "$host_file"
    is "$RUN_STDOUT" dir "Debian image has /var/tmp"
    is "$RUN_STDERR" "cat: $host_file: No such file or directory" "host file is not visible in Debian's /var/tmp"
else
    skip "the Debian image is unavailable" 2
fi

# A uid without a passwd entry: launch names it uid<N> (or $USER when set),
# its group gid<N>, and takes the home directory from $HOME. Running as
# another uid needs root.
if [[ $(id -u) -ne 0 ]]; then
    skip "running as a uid without a passwd entry needs root" 15
else
    unnamed_uid=54321
    while getent passwd "$unnamed_uid" >/dev/null || getent group "$unnamed_uid" >/dev/null; do
        unnamed_uid=$((unnamed_uid + 1))
    done
    unnamed_home=$TEST_TMPDIR/unnamed-home
    mkdir -m 0755 -- "$unnamed_home" && chown "$unnamed_uid:$unnamed_uid" -- "$unnamed_home"

    # run_unnamed ENV_ARGS... -- LAUNCH_ARGS...: run launch as unnamed_uid
    # in unnamed_home, with only PATH and ENV_ARGS in the environment.
    run_unnamed() {
        local env_args=()
        while [[ $# -gt 0 && $1 != -- ]]; do
            env_args+=("$1")
            shift
        done
        shift
        run timeout --kill-after=10 "${LAUNCH_TEST_TIMEOUT:-120}" \
            setpriv --reuid="$unnamed_uid" --regid="$unnamed_uid" --clear-groups -- \
            env -i -C "$unnamed_home" PATH=/usr/local/bin:/usr/bin:/bin "${env_args[@]}" \
            "$LAUNCH" "$@" </dev/null
    }

    run_unnamed HOME="$unnamed_home" -- "$image" -- /bin/sh -c 'id -u; id -un; id -gn; echo "$USER $LOGNAME $HOME"; pwd'
    is "$RUN_STATUS" 0 "unnamed uid exits 0" || diag_run
    mapfile -t lines <<<"$RUN_STDOUT"
    is "${lines[0]}" "$unnamed_uid" "unnamed uid keeps its uid"
    is "${lines[1]}" "uid$unnamed_uid" "unnamed uid is named uid<N>"
    is "${lines[2]}" "gid$unnamed_uid" "unnamed gid is named gid<N>"
    is "${lines[3]}" "uid$unnamed_uid uid$unnamed_uid $unnamed_home" "unnamed uid USER, LOGNAME and HOME"
    is "${lines[4]}" "$unnamed_home" "unnamed uid starts in its home"

    run_unnamed HOME="$unnamed_home" -- "$image" -- /bin/cat /etc/passwd /etc/group
    is "$RUN_STATUS" 0 "unnamed uid cat /etc/passwd exits 0" || diag_run
    is "$RUN_STDOUT" "root:x:0:0:root:/root:/bin/sh
uid$unnamed_uid:x:$unnamed_uid:$unnamed_uid:uid$unnamed_uid:$unnamed_home:/bin/sh
$nobody_entry
root:x:0:
gid$unnamed_uid:x:$unnamed_uid:
nogroup:x:65534:" "unnamed uid /etc/passwd and /etc/group"

    run_unnamed HOME="$unnamed_home" USER=ghost -- "$image" -- /bin/sh -c 'id -un; grep ghost /etc/passwd'
    is "$RUN_STATUS" 0 "unnamed uid with USER exits 0" || diag_run
    is "$RUN_STDOUT" "ghost
ghost:x:$unnamed_uid:$unnamed_uid:ghost:$unnamed_home:/bin/sh" "unnamed uid with USER takes that name"

    # USER with a character that passwd(5) forbids falls back to uid<N>.
    run_unnamed HOME="$unnamed_home" USER=bad:name -- "$image" -- /bin/id -un
    is "$RUN_STDOUT" "uid$unnamed_uid" "unnamed uid with an invalid USER is named uid<N>"

    # Without HOME, the home directory falls back to /, and launch binds the
    # host's / at / inside, over the image.
    run_unnamed -- "$image" -- /bin/cat /etc/image-release
    is "$RUN_STATUS" 0 "unnamed uid without HOME exits 0"
    is "$RUN_STDOUT" launch-test-busybox "unnamed uid without HOME keeps the image as root"

    run_unnamed -- --no-home "$image" -- /bin/sh -c 'cat /etc/image-release; echo "$HOME"'
    is "$RUN_STATUS" 0 "unnamed uid without HOME and with --no-home exits 0" || diag_run
    is "$RUN_STDOUT" $'launch-test-busybox\n/' "unnamed uid without HOME and with --no-home runs in the image"
fi

done_testing
