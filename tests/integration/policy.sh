#!/bin/bash
# Integration tests of the site policy, run as the ordinary test user: each
# rule that launch applies on a run, with its exact error line and exit
# status 125, or its effect inside the container. The policy is read from
# LAUNCH_CONFIG_DIR, which the standalone launcher honors for tests; the
# parser itself is covered by tests/policy/run-golden.sh.

. "$(dirname "$0")/../lib/setup.sh"

shared_image=$(busybox_image) || bail_out "cannot build the busybox image"
dir_image=$(busybox_dir_image) || bail_out "cannot build the busybox directory image"

# A copy of the image inside a directory that a policy can allow, and the
# shared image, which lies outside it.
allowed_images=$TEST_TMPDIR/allowed-images
mkdir -m 0755 -- "$allowed_images" || bail_out "cannot create $allowed_images"
image=$allowed_images/busybox.sqfs
install -m 0644 -- "$shared_image" "$image" || bail_out "cannot copy $shared_image"

policy_root=$TEST_TMPDIR/policy
mkdir -m 0755 -- "$policy_root" || bail_out "cannot create $policy_root"

# write_policy NAME TEXT: write TEXT to $policy_root/NAME/launch.conf with
# mode 0644, owned by the user running the test (root, or the test user
# itself), and print the directory for LAUNCH_CONFIG_DIR.
write_policy() {
    local dir=$policy_root/$1
    mkdir -p -m 0755 -- "$dir" || bail_out "cannot create $dir"
    printf '%s' "$2" >"$dir/launch.conf" || bail_out "cannot write $dir/launch.conf"
    chmod 0644 -- "$dir/launch.conf" || bail_out "chmod $dir/launch.conf failed"
    printf '%s\n' "$dir"
}

# launch_with DIR ARGS...: run launch as the test user with the policy of
# DIR; the results are in RUN_STATUS, RUN_STDOUT and RUN_STDERR.
launch_with() {
    local dir=$1
    shift
    run as_user env LAUNCH_CONFIG_DIR="$dir" "$LAUNCH" "$@"
}

# violation WHAT KEY DIR LINE: print the error line for a run that breaks
# KEY, set on LINE of DIR/launch.conf.
violation() {
    printf 'launch: error: %s, by the site policy (%s in %s/launch.conf line %s); ask your administrator, or see launch --show-config' \
        "$1" "$2" "$3" "$4"
}

# Print the value of NAME in the `env` output of the last run, or nothing.
env_value() {
    grep -E "^$1=" <<<"$RUN_STDOUT" | head -n 1 | cut -d = -f 2-
}

# --- [images] allowed_dirs ---
policy=$(write_policy images-allowed "[images]
allowed_dirs = $allowed_images
")
launch_with "$policy" "$shared_image" -- /bin/echo ran
is "$RUN_STATUS" 125 "image outside allowed_dirs exits 125" || diag_run
is "$RUN_STDERR" "$(violation "image '$shared_image' is outside the allowed image directories ($allowed_images)" \
    allowed_dirs "$policy" 2)" "image outside allowed_dirs: error line"
is "$RUN_STDOUT" "" "image outside allowed_dirs: the command does not run"

launch_with "$policy" "$image" -- /bin/echo ran
is "$RUN_STATUS" 0 "image inside allowed_dirs runs" || diag_run
is "$RUN_STDOUT" ran "image inside allowed_dirs: the command's output"

# --- [images] allow_directory_images ---
policy=$(write_policy directory-images "[images]
allow_directory_images = no
")
launch_with "$policy" "$dir_image" -- /bin/echo ran
is "$RUN_STATUS" 125 "directory image not allowed exits 125" || diag_run
is "$RUN_STDERR" "$(violation "image '$dir_image' is a directory, and directory images are not allowed" \
    allow_directory_images "$policy" 2)" "directory image not allowed: error line"

launch_with "$policy" "$image" -- /bin/echo ran
is "$RUN_STATUS" 0 "SquashFS image runs when directory images are not allowed" || diag_run

# --- [binds] allowed_sources and forbidden_destinations ---
share=$(make_user_dir share)
outside=$(make_user_dir outside)
policy=$(write_policy bind-rules "[binds]
allowed_sources = $share
forbidden_destinations = /opt /etc/site
")
launch_with "$policy" -b "$outside:/mnt" "$image" -- /bin/true
is "$RUN_STATUS" 125 "bind source outside allowed_sources exits 125" || diag_run
is "$RUN_STDERR" "$(violation "bind source '$outside' is outside the allowed sources ($share)" \
    allowed_sources "$policy" 2)" "bind source outside allowed_sources: error line"

launch_with "$policy" -b "$share:/opt/data" "$image" -- /bin/true
is "$RUN_STATUS" 125 "bind below a forbidden destination exits 125" || diag_run
is "$RUN_STDERR" "$(violation "bind destination '/opt/data' lies on or below /opt, where binds are forbidden" \
    forbidden_destinations "$policy" 3)" "bind below a forbidden destination: error line"

launch_with "$policy" -b "$share:/etc/site" "$image" -- /bin/true
is "$RUN_STATUS" 125 "bind on a forbidden destination exits 125" || diag_run
is "$RUN_STDERR" "$(violation "bind destination '/etc/site' lies on or below /etc/site, where binds are forbidden" \
    forbidden_destinations "$policy" 3)" "bind on a forbidden destination: error line"

printf 'shared file\n' >"$share/file.txt" && chmod 0644 -- "$share/file.txt" ||
    bail_out "cannot write $share/file.txt"
launch_with "$policy" -b "$share:/mnt" "$image" -- /bin/cat /mnt/file.txt
is "$RUN_STATUS" 0 "bind from an allowed source to /mnt runs" || diag_run
is "$RUN_STDOUT" "shared file" "bind from an allowed source: the file is visible"

# A symlink of the image that leads to a forbidden destination is refused
# too, once it is resolved inside the image.
link_tree=$TEST_TMPDIR/link-tree
link_image=$TEST_TMPDIR/link.sqfs
{
    busybox_populate_tree "$link_tree" &&
        mkdir -p "$link_tree/opt" &&
        ln -s /opt "$link_tree/optlink" &&
        mksquashfs "$link_tree" "$link_image" -all-root -no-xattrs -noappend -quiet -no-progress >&2 &&
        chmod 0644 -- "$link_image"
} || bail_out "cannot build $link_image"
for destination in /optlink /optlink/data; do
    launch_with "$policy" -b "$share:$destination" "$link_image" -- /bin/echo ran
    is "$RUN_STATUS" 125 "bind through a link to a forbidden destination $destination exits 125" || diag_run
    is "$RUN_STDERR" "launch: error: bind destination '$destination' resolves to ${destination/optlink/opt}, on or below /opt, where binds are forbidden, by the site policy (forbidden_destinations in $policy/launch.conf line 3); a symlink in the image leads there; ask your administrator, or see launch --show-config" \
        "bind through a link to a forbidden destination $destination: error line"
    is "$RUN_STDOUT" "" "bind through a link to $destination: the command does not run"
done

# The current directory is not bound from outside allowed_sources either:
# launch warns and starts in the home directory.
cwd_outside=$(mktemp -d /var/tmp/launch-policy-cwd.XXXXXX) || bail_out "cannot create a directory in /var/tmp"
at_exit rm -rf -- "$cwd_outside"
chown "$TEST_UID:$TEST_GID" "$cwd_outside" && chmod 0755 "$cwd_outside" || bail_out "cannot prepare $cwd_outside"
run as_user env -C "$cwd_outside" LAUNCH_CONFIG_DIR="$policy" "$LAUNCH" "$image" -- /bin/pwd
is "$RUN_STATUS" 0 "current directory outside allowed_sources: exit status 0" || diag_run
is "$RUN_STDOUT" "$TEST_HOME" "current directory outside allowed_sources: starts in the home directory"
is "$RUN_STDERR" "launch: warning: working directory $cwd_outside is not bound: the site policy allows binds only from other directories (allowed_sources in $policy/launch.conf line 2); starting in $TEST_HOME" \
    "current directory outside allowed_sources: warning"

# --- [binds] default ---
site=$TEST_TMPDIR/site
tools=$TEST_TMPDIR/tools
mkdir -m 0755 -- "$site" "$tools" || bail_out "cannot create $site and $tools"
printf 'site file\n' >"$site/info" && printf 'tool file\n' >"$tools/info" &&
    chmod 0644 -- "$site/info" "$tools/info" || bail_out "cannot write the default bind sources"
missing=$TEST_TMPDIR/missing
policy=$(write_policy default-binds "[binds]
default = $site:/site:ro ?$missing:/missing $tools
")
launch_with "$policy" "$image" -- /bin/cat /site/info "$tools/info"
is "$RUN_STATUS" 0 "default binds with a missing optional one run" || diag_run
is "$RUN_STDOUT" $'site file\ntool file' "default binds: both sources are visible"
is "$RUN_STDERR" "" "default binds: no message without -v"

launch_with "$policy" "$image" -- /bin/sh -c 'echo changed > /site/info'
isnt "$RUN_STATUS" 0 "default bind with :ro cannot be written"
is "$RUN_STDERR" "/bin/sh: can't create /site/info: Read-only file system" \
    "default bind with :ro: the write fails with EROFS"

launch_with "$policy" "$image" -- /bin/sh -c 'test -e /missing; echo $?'
is "$RUN_STDOUT" 1 "optional default bind with a missing source is skipped"

launch_with "$policy" -v "$image" -- /bin/true
like "$RUN_STDERR" "^launch\[[0-9]+\]: default bind \?$missing:/missing skipped: its source is missing$" \
    "optional default bind: -v reports the skip"

policy=$(write_policy default-bind-required "[binds]
default = $site:/site $missing:/missing
")
launch_with "$policy" "$image" -- /bin/echo ran
is "$RUN_STATUS" 125 "required default bind with a missing source exits 125" || diag_run
is "$RUN_STDERR" "launch: error: the source of default bind $missing:/missing is missing: No such file or directory, by the site policy (default in $policy/launch.conf line 2); ask your administrator to fix the site policy, or mark the bind optional with '?'" \
    "required default bind missing: error line"
is "$RUN_STDOUT" "" "required default bind missing: the command does not run"

# --- [environment] and [environment.set] ---
policy=$(write_policy environment "[environment]
block_host = SECRET_* DISPLAY
unset = DROP_* BOTH

[environment.set]
SITE = from-policy
BOTH = set-then-unset
")
run as_user env LAUNCH_CONFIG_DIR="$policy" SECRET_TOKEN=host DISPLAY=:0 KEEP=host \
    "$LAUNCH" -e SITE=from-user -e SECRET_CLI=cli -e DROP_ME=cli "$image" -- /bin/env
is "$RUN_STATUS" 0 "environment policy: env runs" || diag_run
unlike "$RUN_STDOUT" '^SECRET_TOKEN=' "block_host removes a host variable matching SECRET_*"
unlike "$RUN_STDOUT" '^DISPLAY=' "block_host removes the host variable DISPLAY"
is "$(env_value KEEP)" host "block_host keeps other host variables"
is "$(env_value SECRET_CLI)" cli "block_host does not remove a variable set with -e"
is "$(env_value SITE)" from-policy "[environment.set] wins over -e"
unlike "$RUN_STDOUT" '^DROP_ME=' "unset removes a variable set with -e"
unlike "$RUN_STDOUT" '^BOTH=' "unset removes a variable of [environment.set]"

# --- [runtime] allow_fake_root, allow_writable_layers, allow_pid_namespace ---
policy=$(write_policy runtime-denied "[runtime]
allow_fake_root = no
allow_writable_layers = no
allow_pid_namespace = no
")
launch_with "$policy" --root "$image" -- /bin/id -u
is "$RUN_STATUS" 125 "allow_fake_root = no: --root exits 125" || diag_run
is "$RUN_STDERR" "$(violation "--root is not allowed" allow_fake_root "$policy" 2)" \
    "allow_fake_root = no: error line"

launch_with "$policy" -w "$image" -- /bin/true
is "$RUN_STATUS" 125 "allow_writable_layers = no: -w exits 125" || diag_run
is "$RUN_STDERR" "$(violation "writable layers (-w, --overlay) are not allowed" allow_writable_layers "$policy" 3)" \
    "allow_writable_layers = no: -w error line"

overlay_dir=$(make_user_dir overlay)
launch_with "$policy" --overlay "$overlay_dir" "$image" -- /bin/true
is "$RUN_STATUS" 125 "allow_writable_layers = no: --overlay exits 125" || diag_run
is "$RUN_STDERR" "$(violation "writable layers (-w, --overlay) are not allowed" allow_writable_layers "$policy" 3)" \
    "allow_writable_layers = no: --overlay error line"

launch_with "$policy" --pid "$image" -- /bin/true
is "$RUN_STATUS" 125 "allow_pid_namespace = no: --pid exits 125" || diag_run
is "$RUN_STDERR" "$(violation "PID namespaces (--pid) are not allowed" allow_pid_namespace "$policy" 4)" \
    "allow_pid_namespace = no: error line"

launch_with "$policy" "$image" -- /bin/id -u
is "$RUN_STATUS" 0 "runtime rules do not stop a plain run" || diag_run
is "$RUN_STDOUT" "$TEST_UID" "plain run under the runtime rules: id -u"

# --- [runtime] default_pid_namespace ---
policy=$(write_policy default-pid "[runtime]
default_pid_namespace = yes
")
# launch's init is PID 1 in a new PID namespace, so the command is PID 2.
launch_with "$policy" "$image" -- /bin/sh -c 'echo $$'
is "$RUN_STATUS" 0 "default_pid_namespace = yes: the run succeeds" || diag_run
is "$RUN_STDOUT" 2 "default_pid_namespace = yes: the command is PID 2 under launch's init"

launch_with "$(write_policy no-policy "")" "$image" -- /bin/sh -c 'echo $$'
isnt "$RUN_STDOUT" 2 "without the policy the command is not PID 2"

# --- [runtime] max_write_size ---
policy=$(write_policy max-write-size "[runtime]
max_write_size = 1m
")
launch_with "$policy" -w --write-size 2m "$image" -- /bin/true
is "$RUN_STATUS" 125 "--write-size above max_write_size exits 125" || diag_run
is "$RUN_STDERR" "$(violation "--write-size 2m is larger than the maximum of 1048576 bytes" max_write_size "$policy" 2)" \
    "--write-size above max_write_size: error line"

launch_with "$policy" -w --write-size 512k "$image" -- /bin/sh -c 'df -k / | awk "NR == 2 { print \$2 }"'
is "$RUN_STATUS" 0 "--write-size below max_write_size runs" || diag_run
is "$RUN_STDOUT" 512 "--write-size 512k gives a 512 KiB layer"

launch_with "$policy" -w "$image" -- /bin/sh -c 'df -k / | awk "NR == 2 { print \$2 }"'
is "$RUN_STATUS" 0 "-w without --write-size runs" || diag_run
is "$RUN_STDOUT" 1024 "-w without --write-size gets max_write_size, 1024 KiB"

launch_with "$policy" -w --root "$image" -- /bin/dd if=/dev/zero of=/big bs=1k count=2048
isnt "$RUN_STATUS" 0 "writing 2 MiB into the 1 MiB default layer fails"
like "$RUN_STDERR" "^dd: error writing '/big': No space left on device$" \
    "writing past max_write_size: No space left on device"

# --- ownership check ---
policy=$(write_policy world-writable "[runtime]
allow_fake_root = no
")
chmod 0666 -- "$policy/launch.conf" || bail_out "chmod 0666 $policy/launch.conf failed"
launch_with "$policy" --root "$image" -- /bin/id -u
is "$RUN_STATUS" 0 "world-writable launch.conf is ignored: --root runs" || diag_run
is "$RUN_STDOUT" 0 "world-writable launch.conf is ignored: id -u is 0"
is "$RUN_STDERR" "launch: warning: ignoring policy file $policy/launch.conf: it is writable by a user other than root (owner uid $(id -u), mode 0666)" \
    "world-writable launch.conf: warning line"

done_testing
