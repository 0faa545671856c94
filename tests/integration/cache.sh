#!/bin/bash
# The block cache: decompressed blocks shared between launches of an image
# (src/blockcache.c). Covers the cache file's creation and reuse, what -v
# reports, --no-cache, directories that are not private, a changed image, a
# damaged cache file, concurrent launches on an empty cache and a full file
# system, and checks every byte read through the cache against the image.

. "$(dirname "$0")/../lib/setup.sh"

source_image=$(busybox_image) || bail_out "cannot build the busybox image"

# A copy of its own, so that the cache files belong to this test only.
image=$TEST_TMPDIR/cache-test.sqfs
cp -- "$source_image" "$image" && chmod 0644 "$image" || bail_out "cannot copy $source_image"
cache_parent=$(make_user_dir cache-parent)
cache_dir=$cache_parent/cache

# launch_cached ARGS...: run launch as the test user with the cache in
# $cache_dir.
launch_cached() {
    run as_user env "LAUNCH_CACHE_DIR=$cache_dir" "$LAUNCH" "$@"
}

# The count of blocks that the last run's -v report says were read from the
# cache, or decompressed.
cached_blocks() {
    sed -n 's/.*block cache: \([0-9]*\) blocks read from .*/\1/p' <<<"$RUN_STDERR"
}
decompressed_blocks() {
    sed -n 's/.*block cache: .*[ ,]\([0-9]*\) \(blocks \)\{0,1\}decompressed; metadata: .*/\1/p' <<<"$RUN_STDERR"
}
# The count of metadata blocks that the last run decompressed.
decompressed_metadata() {
    sed -n 's/.*block cache: .*; metadata: \([0-9]* read, \)\{0,1\}\([0-9]*\) decompressed$/\2/p' <<<"$RUN_STDERR"
}

blob_md5() {
    launch_cached -v "$@" "$image" -- /bin/md5sum /data/blob
}

# 1. The first launch creates the directory and the file, and decompresses.
blob_md5
is "$RUN_STATUS" 0 "first launch with an empty cache exits with status 0" || diag_run
is "${RUN_STDOUT%% *}" "$BUSYBOX_BLOB_MD5" "first launch reads /data/blob intact"
is "$(stat -c '%a %U' "$cache_dir")" "700 $TEST_USER" "the cache directory is created with mode 0700 for the user"
mapfile -t cache_files < <(find "$cache_dir" -mindepth 1)
is "${#cache_files[@]}" 1 "one file in the cache directory after one launch" || diag "files: ${cache_files[*]}"
like "${cache_files[0]}" '/[0-9a-f]{16}\.blocks$' "the cache file is named by a hash of the image"
is "$(stat -c '%a %U' "${cache_files[0]}")" "600 $TEST_USER" "the cache file has mode 0600 and belongs to the user"
like "$RUN_STDERR" "block cache: [0-9]+ blocks read from ${cache_files[0]}, [0-9]+ decompressed" \
    "-v names the cache file" || diag_run
first_decompressed=$(decompressed_blocks)
# 10 MiB in 128 KiB blocks is 80 blocks, read once each at least.
[[ ${first_decompressed:-0} -ge 80 ]]; ok $? "the first launch decompresses the 80 blocks of /data/blob (got ${first_decompressed:-none})"

# 2. The second launch reads every block from the cache.
blob_md5
is "$RUN_STATUS" 0 "second launch exits with status 0" || diag_run
is "${RUN_STDOUT%% *}" "$BUSYBOX_BLOB_MD5" "second launch reads /data/blob intact from the cache"
is "$(decompressed_blocks)" 0 "the second launch decompresses no block" || diag_run
is "$(decompressed_metadata)" 0 "the second launch decompresses no metadata block" || diag_run
[[ $(cached_blocks) -ge 80 ]]; ok $? "the second launch reads at least 80 blocks from the cache (got $(cached_blocks))"

# Files in fragments and across the image come out the same way.
launch_cached "$image" -- /bin/sh -c 'cat /data/hello.txt /etc/image-release; md5sum /bin/busybox'
is "$RUN_STATUS" 0 "small files and busybox read through the cache" || diag_run
is "$RUN_STDOUT" "hello from the image
launch-test-busybox
$(md5sum </bin/busybox | cut -d ' ' -f 1)  /bin/busybox" "fragments and busybox match their source"

# 3. --no-cache neither reads nor writes the cache.
before=$(stat -c %b "${cache_files[0]}")
blob_md5 --no-cache
is "$RUN_STATUS" 0 "--no-cache exits with status 0" || diag_run
is "${RUN_STDOUT%% *}" "$BUSYBOX_BLOB_MD5" "--no-cache reads /data/blob intact"
like "$RUN_STDERR" "block cache: off, [0-9]+ blocks decompressed" "-v says the cache is off" || diag_run
[[ $(decompressed_blocks) -ge 80 ]]; ok $? "--no-cache decompresses every block again"
[[ $(decompressed_metadata) -ge 1 ]]; ok $? "--no-cache decompresses metadata blocks again"
is "$(stat -c %b "${cache_files[0]}")" "$before" "--no-cache leaves the cache file as it was"

# 4. A damaged header makes the next launch replace the file.
printf 'garbage' | dd of="${cache_files[0]}" conv=notrunc status=none
blob_md5
is "$RUN_STATUS" 0 "a launch with a damaged cache file exits with status 0" || diag_run
is "${RUN_STDOUT%% *}" "$BUSYBOX_BLOB_MD5" "a damaged cache file does not reach the command"
[[ $(decompressed_blocks) -ge 80 ]]; ok $? "the damaged file is replaced, so blocks are decompressed again"
is "$(head -c 13 "${cache_files[0]}")" "launch-blocks" "the replacement file has a valid header"
is "$(find "$cache_dir" -mindepth 1 | wc -l)" 1 "no temporary file is left after the replacement"

# 5. A changed image gets a cache file of its own.
touch -d '2001-01-01 00:00:00' "$image"
blob_md5
is "$RUN_STATUS" 0 "a launch after the image changed exits with status 0" || diag_run
is "$(find "$cache_dir" -name '*.blocks' | wc -l)" 2 "a changed image gets a second cache file"
[[ $(decompressed_blocks) -ge 80 ]]; ok $? "a changed image does not use the old file's blocks"

# 6. Directories that are not private are not used, and the launch goes on
# with a warning, because the user named the directory.
rm -rf -- "$cache_dir"
as_user mkdir -m 0777 "$cache_dir" && as_user chmod 0777 "$cache_dir"
launch_cached "$image" -- /bin/md5sum /data/blob
is "$RUN_STATUS" 0 "a writable-by-all cache directory does not fail the launch" || diag_run
is "${RUN_STDOUT%% *}" "$BUSYBOX_BLOB_MD5" "the launch reads the image without the cache"
is "$RUN_STDERR" "launch: warning: running without the block cache: cache directory '$cache_dir' is writable by others; use a directory that only you can write, named with LAUNCH_CACHE_DIR" \
    "a warning says why the cache is not used" || diag_run
is "$(find "$cache_dir" -mindepth 1 | wc -l)" 0 "nothing is written to a directory that is not private"
rm -rf -- "$cache_dir"

if [[ $(id -u) -eq 0 ]]; then
    mkdir -m 0755 "$cache_dir"
    blob_md5
    is "$RUN_STATUS" 0 "a cache directory of another user does not fail the launch" || diag_run
    like "$RUN_STDERR" "cache directory '$cache_dir' belongs to uid 0, not to you" "another user's cache directory is refused" || diag_run
    rmdir -- "$cache_dir"
else
    skip "a directory of another user needs root to create"
    skip "a directory of another user needs root to create"
fi

launch_cached_relative() {
    run as_user env LAUNCH_CACHE_DIR=relative/cache "$LAUNCH" "$@"
}
launch_cached_relative "$image" -- /bin/true
is "$RUN_STATUS" 0 "a relative LAUNCH_CACHE_DIR does not fail the launch" || diag_run
is "$RUN_STDERR" "launch: warning: running without the block cache: cache directory 'relative/cache' is not an absolute path; set LAUNCH_CACHE_DIR to an absolute path" \
    "a relative LAUNCH_CACHE_DIR is refused with a warning"

# A symbolic link that the user names is followed to a private directory.
private_target=$(make_user_dir private-target)
as_user chmod 0700 "$private_target"
as_user ln -s "$private_target" "$cache_dir"
blob_md5
is "$RUN_STATUS" 0 "a symbolic link as LAUNCH_CACHE_DIR exits with status 0" || diag_run
like "$RUN_STDERR" "block cache: [0-9]+ blocks read from $cache_dir/[0-9a-f]{16}\\.blocks" "a symbolic link as LAUNCH_CACHE_DIR is followed" || diag_run
is "$(find "$private_target" -name '*.blocks' | wc -l)" 1 "the cache file lands in the link's target"
rm -f -- "$cache_dir"

# The default directory is used when LAUNCH_CACHE_DIR is unset: on this
# machine XDG_RUNTIME_DIR is unset for the test user, so /dev/shm.
run as_user env -u LAUNCH_CACHE_DIR "$LAUNCH" -v "$image" -- /bin/true
is "$RUN_STATUS" 0 "a launch with the default cache directory exits with status 0" || diag_run
like "$RUN_STDERR" "block cache: [0-9]+ blocks read from /dev/shm/launch-cache\\.$TEST_UID/[0-9a-f]{16}\\.blocks" \
    "the default cache directory is /dev/shm/launch-cache.UID" || diag_run
# Another user can create /dev/shm/launch-cache.UID first; launch then
# warns and uses a numbered variant.
if [[ $(id -u) -eq 0 ]]; then
    default_dir=/dev/shm/launch-cache.$TEST_UID
    rm -rf -- "$default_dir" "$default_dir.1"
    # Another launch of the test user may create the directory first.
    mkdir -m 0777 "$default_dir" || bail_out "cannot create $default_dir as root"
    run as_user env -u LAUNCH_CACHE_DIR "$LAUNCH" "$image" -- /bin/true
    is "$RUN_STATUS" 0 "a default cache directory taken by root does not fail the launch" || diag_run
    is "$RUN_STDERR" "launch: warning: block cache in $default_dir.1 instead: cache directory '$default_dir' belongs to uid 0, not to you; use a directory that only you can write, named with LAUNCH_CACHE_DIR" \
        "a taken default directory gives a warning and a variant"
    is "$(stat -c '%a %U' "$default_dir.1")" "700 $TEST_USER" "the variant belongs to the user"
    rm -rf -- "$default_dir" "$default_dir.1"
else
    for i in 1 2 3; do
        skip "a default directory of another user needs root to create"
    done
fi
runtime_dir=$(make_user_dir runtime)
as_user chmod 0700 "$runtime_dir"
run as_user env -u LAUNCH_CACHE_DIR "XDG_RUNTIME_DIR=$runtime_dir" "$LAUNCH" -v "$image" -- /bin/true
like "$RUN_STDERR" "block cache: [0-9]+ blocks read from $runtime_dir/launch-cache/[0-9a-f]{16}\\.blocks" \
    "with XDG_RUNTIME_DIR the default cache directory is there" || diag_run

# 7. Eight launches at once on an empty cache share it and all read the
# same bytes.
pids=()
for i in 1 2 3 4 5 6 7 8; do
    as_user env "LAUNCH_CACHE_DIR=$cache_dir" "$LAUNCH" "$image" -- /bin/sh -c \
        'md5sum /data/blob /bin/busybox /data/hello.txt' >"$TEST_TMPDIR/parallel.$i" 2>&1 &
    pids+=($!)
done
failed=0
for pid in "${pids[@]}"; do
    wait "$pid" || failed=$((failed + 1))
done
is "$failed" 0 "eight concurrent launches on an empty cache exit with status 0"
expected="$BUSYBOX_BLOB_MD5  /data/blob
$(md5sum </bin/busybox | cut -d ' ' -f 1)  /bin/busybox
$(md5sum <<<'hello from the image' | cut -d ' ' -f 1)  /data/hello.txt"
same=0
for i in 1 2 3 4 5 6 7 8; do
    if [[ $(cat "$TEST_TMPDIR/parallel.$i") == "$expected" ]]; then
        same=$((same + 1))
    else
        diag "launch $i printed: $(cat "$TEST_TMPDIR/parallel.$i")"
    fi
done
is "$same" 8 "each concurrent launch reads the same bytes as the image holds"
blob_md5
is "$(decompressed_blocks)" 0 "after the concurrent launches every block of /data/blob is cached" || diag_run

# 8. Files of other images beyond LAUNCH_CACHE_SIZE go, oldest first;
# temporary files of dead launches go after a minute; other files stay.
evict_dir=$(make_user_dir evict)
as_user sh -c "cd '$evict_dir' &&
    head -c 2097152 /dev/zero >0000000000000001.blocks && touch -d '2001-01-01' 0000000000000001.blocks &&
    head -c 2097152 /dev/zero >0000000000000002.blocks && touch -d '2002-01-01' 0000000000000002.blocks &&
    head -c 1024 /dev/zero >0000000000000003.blocks.99.tmp && touch -d '2001-01-01' 0000000000000003.blocks.99.tmp &&
    head -c 1024 /dev/zero >0000000000000004.blocks.98.tmp &&
    echo keep >notes.txt && head -c 2097152 /dev/zero >sim.blocks && echo keep >results.tmp &&
    touch -d '2000-01-01' sim.blocks results.tmp && chmod 0700 ." || bail_out "cannot fill $evict_dir"
run as_user env "LAUNCH_CACHE_DIR=$evict_dir" LAUNCH_CACHE_SIZE=3m "$LAUNCH" "$image" -- /bin/true
is "$RUN_STATUS" 0 "a launch that prunes the cache exits with status 0" || diag_run
is "$(cd "$evict_dir" && ls | grep -v '^[0-9a-f]\{16\}\.blocks$' | grep -v '^000000000000000' ; cd "$evict_dir" && ls 0000000000000* 2>/dev/null)" \
    "notes.txt
results.tmp
sim.blocks
0000000000000002.blocks
0000000000000004.blocks.98.tmp" \
    "the oldest cache file and an old temporary file go; the newer one, a recent temporary file and files of other names stay"
run as_user env "LAUNCH_CACHE_DIR=$evict_dir" LAUNCH_CACHE_SIZE=1m "$LAUNCH" "$image" -- /bin/true
is "$(cd "$evict_dir" && ls 0000000000000*.blocks 2>/dev/null | wc -l)" 0 "a smaller LAUNCH_CACHE_SIZE removes the next oldest file too"
run as_user env LAUNCH_CACHE_SIZE=12x "$LAUNCH" "$image" -- /bin/true
is "$RUN_STATUS" 125 "an invalid LAUNCH_CACHE_SIZE exits with status 125"
is "$RUN_STDERR" "launch: error: invalid LAUNCH_CACHE_SIZE '12x'; give a number of bytes above zero with an optional k, m or g suffix, or a percentage of memory, for example 512m or 5%" \
    "an invalid LAUNCH_CACHE_SIZE is named in the error"

# 9. A full file system: the table cannot be reserved, so the launch goes
# on without a cache and leaves no file.
if [[ $(id -u) -eq 0 ]] && small=$(make_user_dir small) && mount -t tmpfs -o size=64k,mode=0700,uid="$TEST_UID" tmpfs "$small"; then
    at_exit umount "$small"
    run as_user env "LAUNCH_CACHE_DIR=$small" "$LAUNCH" -v "$image" -- /bin/md5sum /data/blob
    is "$RUN_STATUS" 0 "a cache directory on a full file system does not fail the launch" || diag_run
    is "${RUN_STDOUT%% *}" "$BUSYBOX_BLOB_MD5" "the launch reads the image without the cache"
    like "$RUN_STDERR" "running without the block cache: cannot create cache file '$small/[0-9a-f]{16}\\.blocks': No space left on device" \
        "-v says the file system is full" || diag_run
    is "$(find "$small" -mindepth 1 | wc -l)" 0 "no temporary file is left on the full file system"
else
    for i in 1 2 3 4; do
        skip "a small tmpfs for the full-file-system case needs root"
    done
fi

done_testing
