#!/bin/bash
# The command's environment: host variables, HOME, USER, LOGNAME, PATH,
# LAUNCH_CONTAINER, -e, --env-file, --unset-env and --clean-env, and the
# order in which they apply.

. "$(dirname "$0")/../lib/setup.sh"

image=$(busybox_image) || bail_out "cannot build the busybox image"

# as_user starts launch with only HOME, USER, LOGNAME, SHELL and PATH. These
# helpers add variables with env(1) in front of launch.

# run_launch_env ENV_ARGS... -- LAUNCH_ARGS...: run launch through
# `env ENV_ARGS...`, for example `run_launch_env FOO=1 -u PATH -- IMAGE CMD`.
run_launch_env() {
    local env_args=()
    while [[ $# -gt 0 && $1 != -- ]]; do
        env_args+=("$1")
        shift
    done
    shift
    run as_user env "${env_args[@]}" "$LAUNCH" "$@"
}

# Print the sorted environment lines of the last run whose names match the
# extended regular expression NAMES.
env_lines() {
    grep -E "^($1)=" <<<"$RUN_STDOUT" | LC_ALL=C sort
}

# write_env_file NAME CONTENT: write CONTENT (printf %b notation) to
# TEST_TMPDIR/NAME, readable by the test user, and print the path.
write_env_file() {
    local file=$TEST_TMPDIR/$1
    printf '%b' "$2" >"$file" && chmod 0644 -- "$file" || bail_out "cannot write $file"
    printf '%s\n' "$file"
}

# Host variables pass through, values untouched.
run_launch_env FOO=bar 'SPACED=a  b' 'EQUALS=x=y' -- "$image" -- /bin/env
is "$RUN_STATUS" 0 "host variables exit 0" || diag_run
is "$(env_lines 'FOO|SPACED|EQUALS')" $'EQUALS=x=y\nFOO=bar\nSPACED=a  b' "host variables pass through"
is "$(env_lines SHELL)" "SHELL=/bin/sh" "host SHELL passes through"

# HOME, USER and LOGNAME are set for the container's user, whatever their
# values on the host.
run_launch_env HOME=/wrong USER=wrong LOGNAME=wrong -- "$image" -- /bin/env
is "$RUN_STATUS" 0 "wrong HOME and USER exit 0" || diag_run
is "$(env_lines 'HOME|USER|LOGNAME')" "HOME=$TEST_HOME"$'\n'"LOGNAME=$TEST_USER"$'\n'"USER=$TEST_USER" \
    "HOME, USER and LOGNAME name the test user"

run_launch --root "$image" -- /bin/env
is "$RUN_STATUS" 0 "--root environment exits 0" || diag_run
is "$(env_lines 'HOME|USER|LOGNAME')" $'HOME=/root\nLOGNAME=root\nUSER=root' \
    "--root sets HOME, USER and LOGNAME to root"

# PATH keeps the host's value and gets /usr/local/bin, /usr/bin and /bin
# appended when missing. An empty or unset PATH gets a standard value.
standard_path=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
for case in \
    "/usr/local/bin:/usr/bin:/bin|/usr/local/bin:/usr/bin:/bin|complete PATH" \
    "/opt/tools/bin:/usr/bin|/opt/tools/bin:/usr/bin:/usr/local/bin:/bin|PATH without /bin" \
    "/bin:/sbin|/bin:/sbin:/usr/local/bin:/usr/bin|PATH without /usr/bin" \
    "/opt/a:/opt/b|/opt/a:/opt/b:/usr/local/bin:/usr/bin:/bin|PATH without standard directories" \
    "|$standard_path|empty PATH"; do
    IFS='|' read -r host_path expected description <<<"$case"
    run_launch_env "PATH=$host_path" -- "$image" -- /bin/env
    is "$RUN_STATUS" 0 "$description exits 0" || diag_run
    is "$(env_lines PATH)" "PATH=$expected" "$description gives $expected"
done

run_launch_env -u PATH -- "$image" -- /bin/env
is "$RUN_STATUS" 0 "unset PATH exits 0" || diag_run
is "$(env_lines PATH)" "PATH=$standard_path" "unset PATH gives the standard PATH"

# LAUNCH_CONTAINER is the image's absolute path.
run as_user env -C "$(dirname -- "$image")" "$LAUNCH" "./$(basename -- "$image")" -- /bin/env
is "$RUN_STATUS" 0 "relative image exits 0" || diag_run
is "$(env_lines LAUNCH_CONTAINER)" "LAUNCH_CONTAINER=$image" "LAUNCH_CONTAINER is the absolute image path"

# -e sets variables and overrides host values and HOME. The last -e wins.
run_launch_env FOO=host -- -e FOO=cli -e NEW=value -e 'WITH_EQUALS=a=b c' -e EMPTY= "$image" -- /bin/env
is "$RUN_STATUS" 0 "-e exits 0" || diag_run
is "$(env_lines 'FOO|NEW|WITH_EQUALS|EMPTY')" $'EMPTY=\nFOO=cli\nNEW=value\nWITH_EQUALS=a=b c' \
    "-e sets and overrides variables"

run_launch -e HOME=/custom -e PATH=/custom/bin "$image" -- /bin/env
is "$RUN_STATUS" 0 "-e HOME exits 0" || diag_run
is "$(env_lines 'HOME|PATH')" $'HOME=/custom\nPATH=/custom/bin' "-e overrides HOME and PATH"

run_launch -e FOO=1 -e FOO=2 "$image" -- /bin/env
is "$(env_lines FOO)" "FOO=2" "last -e of a name wins"

# Invalid -e values stop launch before anything runs.
name_hint="a name starts with a letter or '_' and holds only letters, digits and '_'"
run_launch -e 1X=2 "$image" -- /bin/echo ran
is "$RUN_STATUS" 125 "-e name with a leading digit exits 125"
is "$RUN_STDERR" "launch: error: invalid environment variable name '1X' in '1X=2'; $name_hint" \
    "-e name with a leading digit message"
is "$RUN_STDOUT" "" "-e name with a leading digit runs nothing"

run_launch -e A-B=x "$image" -- /bin/true
is "$RUN_STATUS" 125 "-e name with a dash exits 125"
is "$RUN_STDERR" "launch: error: invalid environment variable name 'A-B' in 'A-B=x'; $name_hint" \
    "-e name with a dash message"

run_launch -e =x "$image" -- /bin/true
is "$RUN_STATUS" 125 "-e empty name exits 125"
is "$RUN_STDERR" "launch: error: invalid environment variable name '' in '=x'; $name_hint" \
    "-e empty name message"

run_launch -e FOO "$image" -- /bin/echo ran
is "$RUN_STATUS" 125 "-e without '=' exits 125"
is "$RUN_STDERR" "launch: error: invalid environment assignment 'FOO': '=' is missing; write NAME=VALUE, for example -e OMP_NUM_THREADS=4" \
    "-e without '=' message"
is "$RUN_STDOUT" "" "-e without '=' runs nothing"

# --env-file: comments, blank lines, leading blanks, export, values taken
# literally to the end of the line (with '=', spaces, quotes and $), and
# CRLF line ends.
env_file=$(write_env_file vars.env '# a comment\n\n   \n  # an indented comment\nexport A=1\nexport\tB=tab\nC=x=y=z\nD=hello world  \nE=crlf\r\n\tF=$HOME\nG="quoted"\nH=\nI=last line without newline')
run_launch --clean-env --env-file "$env_file" "$image" -- /bin/env
is "$RUN_STATUS" 0 "--env-file exits 0" || diag_run
is "$(env_lines '[A-I]')" $'A=1\nB=tab\nC=x=y=z\nD=hello world  \nE=crlf\nF=$HOME\nG="quoted"\nH=\nI=last line without newline' \
    "--env-file sets each variable"

# A relative --env-file path is taken from launch's working directory.
run as_user env -C "$TEST_TMPDIR" "$LAUNCH" --env-file vars.env "$image" -- /bin/env
is "$RUN_STATUS" 0 "relative --env-file exits 0" || diag_run
is "$(env_lines A)" "A=1" "relative --env-file is read"

file_hint="each line is NAME=VALUE, a comment starting with '#', or blank"
bad_file=$(write_env_file bad-line.env 'A=1\n# comment\nnot a line\nB=2\n')
run_launch --env-file "$bad_file" "$image" -- /bin/echo ran
is "$RUN_STATUS" 125 "bad --env-file line exits 125"
is "$RUN_STDERR" "launch: error: invalid environment file '$bad_file', line 3: expected NAME=VALUE, found 'not a line'; $file_hint" \
    "bad --env-file line names file and line"
is "$RUN_STDOUT" "" "bad --env-file line runs nothing"

bad_file=$(write_env_file export-only.env 'export B\n')
run_launch --env-file "$bad_file" "$image" -- /bin/true
is "$RUN_STATUS" 125 "--env-file export without value exits 125"
is "$RUN_STDERR" "launch: error: invalid environment file '$bad_file', line 1: expected NAME=VALUE, found 'export B'; $file_hint" \
    "--env-file export without value message"

bad_file=$(write_env_file spaced.env 'A=1\nB = 2\n')
run_launch --env-file "$bad_file" "$image" -- /bin/true
is "$RUN_STATUS" 125 "--env-file name with a space exits 125"
is "$RUN_STDERR" "launch: error: invalid environment file '$bad_file', line 2: expected NAME=VALUE, found 'B = 2'; $file_hint" \
    "--env-file name with a space message"

bad_file=$(write_env_file nul.env 'A=1\nB=x\0y\n')
run_launch --env-file "$bad_file" "$image" -- /bin/true
is "$RUN_STATUS" 125 "--env-file NUL byte exits 125"
is "$RUN_STDERR" "launch: error: invalid environment file '$bad_file', line 2: the line contains a NUL byte" \
    "--env-file NUL byte message"

run_launch --env-file "$TEST_TMPDIR" "$image" -- /bin/true
is "$RUN_STATUS" 125 "--env-file directory exits 125"
is "$RUN_STDERR" "launch: error: cannot read environment file '$TEST_TMPDIR': Is a directory" \
    "--env-file directory message"

missing_file=$TEST_TMPDIR/missing.env
run_launch --env-file "$missing_file" "$image" -- /bin/true
is "$RUN_STATUS" 125 "missing --env-file exits 125"
is "$RUN_STDERR" "launch: error: cannot open environment file '$missing_file': No such file or directory; check the path given to --env-file" \
    "missing --env-file message"

# Readable by root only.
secret_file=$(write_env_file secret.env 'A=1\n')
chmod 0600 -- "$secret_file"
run_launch --env-file "$secret_file" "$image" -- /bin/true
is "$RUN_STATUS" 125 "unreadable --env-file exits 125"
is "$RUN_STDERR" "launch: error: cannot open environment file '$secret_file': Permission denied; check the path given to --env-file" \
    "unreadable --env-file message"

# --unset-env removes host variables matching a shell glob. HOME, USER and
# PATH are set again afterwards, and -e still applies.
run_launch_env FOO1=a FOO2=b FOOBAR=c BARFOO=d BAR=e -- --unset-env 'FOO*' "$image" -- /bin/env
is "$RUN_STATUS" 0 "--unset-env exits 0" || diag_run
is "$(env_lines 'FOO[A-Z0-9]*|BAR[A-Z0-9]*')" $'BAR=e\nBARFOO=d' "--unset-env 'FOO*' removes only FOO names"

run_launch_env FOO1=a FOO2=b BAR=e -- -v --unset-env 'FOO*' "$image" -- /bin/true
like "$RUN_STDERR" "^launch\[[0-9]+\]: --unset-env 'FOO\*' removed 2 variables$" "--unset-env count is reported with -v"

run_launch_env FOO1=a BAR=e -- --unset-env 'FOO*' --unset-env BAR -e FOO9=new "$image" -- /bin/env
is "$(env_lines 'FOO[0-9]|BAR')" "FOO9=new" "repeated --unset-env and -e after it"

run_launch --unset-env HOME --unset-env USER --unset-env PATH "$image" -- /bin/env
is "$(env_lines 'HOME|USER|PATH')" "HOME=$TEST_HOME"$'\n'"PATH=$standard_path"$'\n'"USER=$TEST_USER" \
    "--unset-env of HOME, USER and PATH sets them again"

# --clean-env leaves exactly HOME, USER, LOGNAME, PATH and LAUNCH_CONTAINER.
# /bin/env is run directly, because a shell would add PWD and SHLVL.
run_launch_env FOO=bar -- --clean-env "$image" -- /bin/env
is "$RUN_STATUS" 0 "--clean-env exits 0" || diag_run
is "$(LC_ALL=C sort <<<"$RUN_STDOUT")" "HOME=$TEST_HOME"$'\n'"LAUNCH_CONTAINER=$image"$'\n'"LOGNAME=$TEST_USER"$'\n'"PATH=$standard_path"$'\n'"USER=$TEST_USER" \
    "--clean-env leaves exactly five variables"

run_launch --clean-env --root -e FOO=1 "$image" -- /bin/env
is "$(LC_ALL=C sort <<<"$RUN_STDOUT")" $'FOO=1\nHOME=/root\n'"LAUNCH_CONTAINER=$image"$'\nLOGNAME=root\nPATH='"$standard_path"$'\nUSER=root' \
    "--clean-env --root -e leaves root's variables and FOO"

# -e and --env-file apply in command-line order: the later one wins.
order_file=$(write_env_file order.env 'A=file\nB=file\n')
run_launch -e A=cli --env-file "$order_file" -e B=cli "$image" -- /bin/env
is "$RUN_STATUS" 0 "-e and --env-file order exits 0" || diag_run
is "$(env_lines 'A|B')" $'A=file\nB=cli' "-e and --env-file apply in command-line order"

second_file=$(write_env_file second.env 'B=second\n')
run_launch --env-file "$order_file" --env-file "$second_file" "$image" -- /bin/env
is "$(env_lines 'A|B')" $'A=file\nB=second' "later --env-file wins"

# Nothing overrides LAUNCH_CONTAINER: not the host, -e or --env-file.
container_file=$(write_env_file container.env 'LAUNCH_CONTAINER=/from/file\n')
run_launch_env LAUNCH_CONTAINER=/from/host -- "$image" -- /bin/env
is "$(env_lines LAUNCH_CONTAINER)" "LAUNCH_CONTAINER=$image" "host LAUNCH_CONTAINER is replaced"
run_launch -e LAUNCH_CONTAINER=/from/cli "$image" -- /bin/env
is "$(env_lines LAUNCH_CONTAINER)" "LAUNCH_CONTAINER=$image" "-e cannot override LAUNCH_CONTAINER"
run_launch --env-file "$container_file" "$image" -- /bin/env
is "$(env_lines LAUNCH_CONTAINER)" "LAUNCH_CONTAINER=$image" "--env-file cannot override LAUNCH_CONTAINER"

done_testing
