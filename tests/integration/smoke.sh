#!/bin/bash
# Smoke test of the test harness: build the busybox image and run a few
# commands in it as the test user.

. "$(dirname "$0")/../lib/setup.sh"

image=$(busybox_image) || bail_out "cannot build the busybox image"

run_launch "$image" -- /bin/echo hello
is "$RUN_STATUS" 0 "echo exits with status 0" || diag_run
is "$RUN_STDOUT_EXACT" $'hello\n' "echo prints exactly hello"

# The host has no /etc/image-release, so this shows that the command ran in
# the image and not on the host.
run_launch "$image" -- /bin/cat /etc/image-release
is "$RUN_STATUS" 0 "cat of an image file exits with status 0" || diag_run
is "$RUN_STDOUT" launch-test-busybox "cat reads the file from the image"

run_launch "$image" -- /bin/id -u
is "$RUN_STATUS" 0 "id -u exits with status 0" || diag_run
is "$RUN_STDOUT" "$TEST_UID" "id -u inside equals the test user's uid"

done_testing
