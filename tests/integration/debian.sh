#!/bin/bash
# A real distribution image: Debian 12 (bookworm) with python3, built by
# debootstrap (see debian_image in tests/lib/images.sh). Checks the Python
# version and standard modules, the Debian release, the user's name, and a
# Python script that works in the current directory under the home.

. "$(dirname "$0")/../lib/setup.sh"

status=0
image=$(debian_image) || status=$?
if [[ $status -eq 2 ]]; then
    skip_all "the Debian image is missing and cannot be built here (not root, or LAUNCH_TEST_SKIP_DEBIAN is set)"
elif [[ $status -ne 0 ]]; then
    bail_out "cannot build the Debian image"
fi

run_launch "$image" -- python3 -c 'import sys; print(sys.version_info[:2])'
is "$RUN_STATUS" 0 "python3 exits with status 0" || diag_run
is "$RUN_STDOUT_EXACT" $'(3, 11)\n' "python3 is version 3.11"

run_launch "$image" -- python3 -c 'import json; print(json.dumps({"a": [1, 2]}))'
is "$RUN_STATUS" 0 "python3 imports json" || diag_run
is "$RUN_STDOUT" '{"a": [1, 2]}' "json encodes an object"

run_launch "$image" -- python3 -c 'import sqlite3; print(sqlite3.connect(":memory:").execute("select 40 + 2").fetchone()[0])'
is "$RUN_STATUS" 0 "python3 imports sqlite3" || diag_run
is "$RUN_STDOUT" 42 "sqlite3 runs a query in memory"

run_launch "$image" -- python3 -c 'import ssl; ssl.create_default_context(); print(ssl.OPENSSL_VERSION)'
is "$RUN_STATUS" 0 "python3 imports ssl and creates a default context" || diag_run
like "$RUN_STDOUT" '^OpenSSL 3\.' "ssl is linked against OpenSSL 3"

run_launch "$image" -- cat /etc/debian_version
is "$RUN_STATUS" 0 "cat /etc/debian_version exits with status 0" || diag_run
like "$RUN_STDOUT" '^12\.[0-9]+$' "/etc/debian_version is a Debian 12 release"

run_launch "$image" -- id -un
is "$RUN_STATUS" 0 "id -un exits with status 0" || diag_run
is "$RUN_STDOUT" "$TEST_USER" "id -un prints the test user's name"

# A script in the current directory, under the home, found by a relative
# path, writes its result next to itself.
work_dir=$(mktemp -d "$TEST_HOME/launch-test-debian.XXXXXX") ||
    bail_out "cannot create a directory in $TEST_HOME"
at_exit rm -rf --one-file-system -- "$work_dir"
cat >"$work_dir/analysis.py" <<'EOF'
import json
import os

numbers = [int(line) for line in open("numbers.txt")]
with open("result.json", "w") as result:
    json.dump({"cwd": os.getcwd(), "sum": sum(numbers)}, result, sort_keys=True)
    result.write("\n")
EOF
printf '%s\n' 1 2 3 4 >"$work_dir/numbers.txt"
chown -R "$TEST_UID:$TEST_GID" "$work_dir"

run as_user env -C "$work_dir" "$LAUNCH" "$image" -- python3 analysis.py
is "$RUN_STATUS" 0 "script in the working directory exits with status 0" || diag_run
is "$RUN_STDERR" "" "script in the working directory: nothing on stderr"
is "$(cat "$work_dir/result.json" 2>/dev/null)" "{\"cwd\": \"$work_dir\", \"sum\": 10}" \
    "script in the working directory writes its result there"
is "$(stat -c %u "$work_dir/result.json" 2>/dev/null)" "$TEST_UID" \
    "the result file belongs to the test user on the host"

done_testing
