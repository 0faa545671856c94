#!/bin/bash
# Images: how launch finds and opens them (relative paths, symlinks,
# directories), every supported compression, and the exact error for each
# kind of bad image, after which nothing may be left behind.

. "$(dirname "$0")/../lib/setup.sh"

# The host's mount table before any test, to compare after each failure.
host_mounts=$(cat /proc/self/mountinfo)

# check_nothing_left CASE: check that the last launch left no mount in the
# host's mount namespace and no process behind.
check_nothing_left() {
    local case=$1
    is "$(cat /proc/self/mountinfo)" "$host_mounts" "$case leaves no host mount"
    wait_for_no_test_processes
    is "$(test_processes)" "" "$case leaves no process"
}

# write_bytes FILE OFFSET BYTES: overwrite the bytes at OFFSET in FILE with
# BYTES, written in printf %b notation (\0NNN octal escapes).
write_bytes() {
    printf '%b' "$3" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# copy_image NAME: copy the gzip busybox image to TEST_TMPDIR/NAME, readable
# by everyone, and print the copy's path.
copy_image() {
    local copy=$TEST_TMPDIR/$1
    cp -- "$image" "$copy" && chmod 0644 -- "$copy" || bail_out "cannot copy $image to $copy"
    printf '%s\n' "$copy"
}

image=$(busybox_image) || bail_out "cannot build the busybox image"
dir_image=$(busybox_dir_image) || bail_out "cannot build the busybox directory image"
images_dir=$(dirname -- "$image")

# The image file is only read.
md5_before=$(md5sum <"$image")
run_launch "$image" -- /bin/md5sum /data/blob
is "$RUN_STATUS" 0 "md5sum of the blob exits 0" || diag_run
is "$RUN_STDOUT" "$BUSYBOX_BLOB_MD5  /data/blob" "blob in the image has the expected MD5"
is "$(md5sum <"$image")" "$md5_before" "image file unchanged after a run"

# A relative path is taken from the current directory, and LAUNCH_CONTAINER
# is the absolute path.
run as_user env -C "$images_dir" "$LAUNCH" "./$(basename -- "$image")" -- /bin/sh -c 'echo "$LAUNCH_CONTAINER"'
is "$RUN_STATUS" 0 "relative image path exits 0" || diag_run
is "$RUN_STDOUT" "$image" "relative image path gives the absolute path"

run as_user env -C "$TEST_TMPDIR" "$LAUNCH" "../$(basename -- "$images_dir")/$(basename -- "$image")" -- /bin/cat /etc/image-release
is "$RUN_STATUS" 0 "relative image path with .. exits 0" || diag_run
is "$RUN_STDOUT" launch-test-busybox "relative image path with .. runs in the image"

# A symlink is resolved, and -v reports the target.
ln -s -- "$image" "$TEST_TMPDIR/absolute-link.sqfs"
run_launch -v "$TEST_TMPDIR/absolute-link.sqfs" -- /bin/sh -c 'echo "$LAUNCH_CONTAINER"'
is "$RUN_STATUS" 0 "symlink to the image exits 0" || diag_run
is "$RUN_STDOUT" "$image" "symlink to the image gives the target's path"
like "$RUN_STDERR" "^launch\[[0-9]+\]: image '$TEST_TMPDIR/absolute-link\.sqfs' resolved to '${image//./\\.}'$" \
    "symlink to the image is reported with -v"

ln -s -- "$(realpath --relative-to="$TEST_TMPDIR" -- "$image")" "$TEST_TMPDIR/relative-link.sqfs"
run_launch "$TEST_TMPDIR/relative-link.sqfs" -- /bin/cat /etc/image-release
is "$RUN_STATUS" 0 "relative symlink to the image exits 0" || diag_run
is "$RUN_STDOUT" launch-test-busybox "relative symlink to the image runs in the image"

# A directory holding a root file system is an image too, mounted read-only.
run_launch -v "$dir_image" -- /bin/sh -c 'cat /etc/image-release; echo "$LAUNCH_CONTAINER"'
is "$RUN_STATUS" 0 "directory image exits 0" || diag_run
is "$RUN_STDOUT" "launch-test-busybox"$'\n'"$dir_image" "directory image runs in the directory"
like "$RUN_STDERR" "^launch\[[0-9]+\]: image: directory ${dir_image//./\\.}$" \
    "directory image is reported with -v"

run_launch "$dir_image" -- /bin/touch /x
is "$RUN_STATUS" 1 "touch in the directory image exits 1"
is "$RUN_STDERR" "touch: /x: Read-only file system" "touch in the directory image is refused"
[[ ! -e $dir_image/x ]]
ok $? "touch in the directory image creates no host file"

run_launch "$dir_image" -- /bin/touch /etc/x
is "$RUN_STDERR" "touch: /etc/x: Read-only file system" "touch below the directory image root is refused"

run_launch "$image" -- /bin/touch /x
is "$RUN_STATUS" 1 "touch in the SquashFS image exits 1"
is "$RUN_STDERR" "touch: /x: Read-only file system" "touch in the SquashFS image is refused"

# Bad images: launch exits 125 with one error line and leaves nothing behind.
missing=$TEST_TMPDIR/missing.sqfs
run_launch "$missing" -- /bin/true
is "$RUN_STATUS" 125 "missing image exits 125"
is "$RUN_STDERR" "launch: error: image '$missing' not found; check the path; relative paths are taken from the current directory" \
    "missing image message"
check_nothing_left "missing image"

# Owned by root with mode 0600, so the test user cannot read it.
unreadable=$(copy_image unreadable.sqfs)
chown 0:0 -- "$unreadable" && chmod 0600 -- "$unreadable"
run_launch "$unreadable" -- /bin/true
is "$RUN_STATUS" 125 "unreadable image file exits 125"
is "$RUN_STDERR" "launch: error: image '$unreadable' is not readable by you; ask its owner to make it readable (chmod a+r)" \
    "unreadable image file message"
check_nothing_left "unreadable image file"

unreadable_dir=$TEST_TMPDIR/unreadable-root
mkdir -p -- "$unreadable_dir/bin" && chown 0:0 -- "$unreadable_dir" && chmod 0700 -- "$unreadable_dir"
run_launch "$unreadable_dir" -- /bin/true
is "$RUN_STATUS" 125 "unreadable image directory exits 125"
is "$RUN_STDERR" "launch: error: cannot read image directory '$unreadable_dir': Permission denied; check the directory's permissions" \
    "unreadable image directory message"
check_nothing_left "unreadable image directory"

# An image below a directory that the test user cannot search.
hidden=$unreadable_dir/hidden.sqfs
: >"$hidden"
run_launch "$hidden" -- /bin/true
is "$RUN_STATUS" 125 "image in an unsearchable directory exits 125"
is "$RUN_STDERR" "launch: error: cannot resolve image path '$hidden': Permission denied; check the permissions of the directories on the path" \
    "image in an unsearchable directory message"
check_nothing_left "image in an unsearchable directory"

for case in empty_dir_image no_bin_dir_image; do
    root=$($case) || bail_out "$case failed"
    run_launch "$root" -- /bin/true
    is "$RUN_STATUS" 125 "$case exits 125"
    is "$RUN_STDERR" "launch: error: image directory '$root' does not hold a root file system: it has neither bin/ nor usr/bin/; give the directory that contains bin/, etc/ and usr/ of the image" \
        "$case message"
    check_nothing_left "$case"
done

run_launch /dev/null -- /bin/true
is "$RUN_STATUS" 125 "character device image exits 125"
is "$RUN_STDERR" "launch: error: image '/dev/null' is neither a regular file nor a directory; give a SquashFS file or a directory holding a root file system" \
    "character device image message"
check_nothing_left "character device image"

not_squashfs_hint="give a SquashFS file made with mksquashfs, or a directory holding a root file system"

bad=$(bad_magic_image) || bail_out "bad_magic_image failed"
run_launch "$bad" -- /bin/true
is "$RUN_STATUS" 125 "bad magic exits 125"
is "$RUN_STDERR" "launch: error: image '$bad' is not a SquashFS file: bad magic number 0x58585858 (expected 0x73717368, \"hsqs\"); $not_squashfs_hint" \
    "bad magic message"
check_nothing_left "bad magic"

empty=$(empty_file_image) || bail_out "empty_file_image failed"
run_launch "$empty" -- /bin/true
is "$RUN_STATUS" 125 "empty file exits 125"
is "$RUN_STDERR" "launch: error: image '$empty' is not a SquashFS file: it is only 0 bytes long; $not_squashfs_hint" \
    "empty file message"
check_nothing_left "empty file"

# 50 bytes: the magic number but not the whole 96-byte superblock.
short=$TEST_TMPDIR/short.sqfs
head -c 50 -- "$image" >"$short" && chmod 0644 -- "$short"
run_launch "$short" -- /bin/true
is "$RUN_STATUS" 125 "partial superblock exits 125"
is "$RUN_STDERR" "launch: error: image '$short' is truncated: 50 bytes, shorter than a SquashFS superblock; copy or download the image again" \
    "partial superblock message"
check_nothing_left "partial superblock"

# The superblock stores the image size (bytes_used) as a 64-bit
# little-endian number at offset 40.
truncated=$(truncated_image) || bail_out "truncated_image failed"
truncated_size=$(stat -c %s -- "$truncated")
bytes_used=$(od -An -t u8 -j 40 -N 8 -- "$image" | tr -d ' ')
run_launch "$truncated" -- /bin/true
is "$RUN_STATUS" 125 "truncated image exits 125"
is "$RUN_STDERR" "launch: error: image '$truncated' is truncated: the file has $truncated_size bytes, the superblock says $bytes_used; copy or download the image again" \
    "truncated image message"
check_nothing_left "truncated image"

# The major version is a 16-bit little-endian number at offset 28.
version3=$(copy_image version3.sqfs)
write_bytes "$version3" 28 '\03\0'
run_launch "$version3" -- /bin/true
is "$RUN_STATUS" 125 "SquashFS 3.0 image exits 125"
is "$RUN_STDERR" "launch: error: image '$version3' is SquashFS version 3.0, but only version 4.0 is supported; rebuild the image with a current mksquashfs" \
    "SquashFS 3.0 image message"
check_nothing_left "SquashFS 3.0 image"

# The block size is a 32-bit little-endian number at offset 12. 4097 is not
# a power of two.
block_size=$(copy_image block-size.sqfs)
write_bytes "$block_size" 12 '\01\020\0\0'
run_launch "$block_size" -- /bin/true
is "$RUN_STATUS" 125 "invalid block size exits 125"
is "$RUN_STDERR" "launch: error: image '$block_size' is corrupt: invalid block size 4097 in the superblock; copy or rebuild the image" \
    "invalid block size message"
check_nothing_left "invalid block size"

# The compression id 9 is not in the SquashFS 4.0 format. The message lists
# the compressions of this libsquashfuse build, which the loop below checks.
unknown=$(unknown_compression_image "" 9) || bail_out "unknown_compression_image failed"
run_launch "$unknown" -- /bin/true
is "$RUN_STATUS" 125 "unknown compression exits 125"
rebuild_hint="rebuild the image with 'mksquashfs -comp' and one of the supported compressions"
like "$RUN_STDERR" "^launch: error: image '${unknown//./\\.}' uses an unknown compression \(id 9\); this build of libsquashfuse supports: [a-z0-9]+(, [a-z0-9]+)*; $rebuild_hint$" \
    "unknown compression message"
supported=$(sed -n 's/.*this build of libsquashfuse supports: \(.*\); rebuild .*/\1/p' <<<"$RUN_STDERR")
check_nothing_left "unknown compression"

# Id 2 is lzma, which libsquashfuse never reads.
lzma=$(unknown_compression_image "" 2) || bail_out "unknown_compression_image failed"
run_launch "$lzma" -- /bin/true
is "$RUN_STATUS" 125 "lzma image exits 125"
is "$RUN_STDERR" "launch: error: image '$lzma' is compressed with lzma, which this build of libsquashfuse does not support (supported: $supported); $rebuild_hint" \
    "lzma image message"
unlike "$supported" '(^|, )lzma(,|$)' "supported compressions exclude lzma"
like "$supported" '(^|, )gzip(,|$)' "supported compressions include gzip"
check_nothing_left "lzma image"

# Every compression that mksquashfs offers here runs a command when the
# supported list of the error message names it, and is rejected otherwise.
for compressor in gzip xz zstd lzo lz4; do
    if ! compressed=$(busybox_image "$compressor"); then
        skip "mksquashfs cannot build a $compressor image" 2
        continue
    fi
    run_launch "$compressed" -- /bin/md5sum /data/blob
    if [[ ", $supported, " == *", $compressor, "* ]]; then
        is "$RUN_STATUS" 0 "$compressor image exits 0" || diag_run
        is "$RUN_STDOUT" "$BUSYBOX_BLOB_MD5  /data/blob" "$compressor image reads the blob"
    else
        is "$RUN_STATUS" 125 "unsupported $compressor image exits 125"
        is "$RUN_STDERR" "launch: error: image '$compressed' is compressed with $compressor, which this build of libsquashfuse does not support (supported: $supported); $rebuild_hint" \
            "unsupported $compressor image message"
    fi
done

# The id table start (64-bit little-endian at offset 48) points far beyond
# the end of the file, so libsquashfuse fails to read the table. launch then
# crashes in sqfs_destroy, called from squashfs_open after sqfs_init failed.
corrupt_ids=$(copy_image corrupt-id-table.sqfs)
write_bytes "$corrupt_ids" 48 '\0377\0377\0377\0377\0377\0377\0\0'
run_launch "$corrupt_ids" -- /bin/true
is "$RUN_STATUS" 125 "corrupt id table exits 125"
like "$RUN_STDERR" "^launch: error: image '${corrupt_ids//./\\.}' is corrupt: " "corrupt id table message"
check_nothing_left "corrupt id table"

# The inode table start (64-bit little-endian at offset 64) points beyond
# the end of the file. libsquashfuse opens the image, but the root
# directory cannot be read, so every mount point looks missing.
corrupt_inodes=$(copy_image corrupt-inode-table.sqfs)
write_bytes "$corrupt_inodes" 64 '\0377\0377\0377\0377\0377\0377\0\0'
run_launch "$corrupt_inodes" -- /bin/true
is "$RUN_STATUS" 125 "corrupt inode table exits 125"
like "$RUN_STDERR" "^launch: error: image '${corrupt_inodes//./\\.}' is corrupt" "corrupt inode table message"
check_nothing_left "corrupt inode table"

# A directory entry whose name length field says 65536 bytes, where
# SquashFS allows 256. libsquashfuse copies such a name into a buffer of
# 257 bytes, so without launch's checks the server overflowed its stack.
# Uncompressed tables (-noI) let the test find the entry's bytes.
crafted_tree=$TEST_TMPDIR/crafted-tree
mkdir -p "$crafted_tree"/{bin,dev,etc,home,proc,sys,tmp,data/d} &&
    cp -- "$BUSYBOX_BINARY" "$crafted_tree/bin/busybox" &&
    for applet in sh ls stat cat; do ln -s busybox "$crafted_tree/bin/$applet"; done &&
    for name in alpha_entry_name beta_entry_name gamma_entry_name; do
        echo "$name" >"$crafted_tree/data/d/$name"
    done &&
    mksquashfs "$crafted_tree" "$TEST_TMPDIR/crafted.sqfs" -noI -noD -noF -noX -all-root -noappend -quiet -no-progress >&2 &&
    python3 - "$TEST_TMPDIR/crafted.sqfs" <<'PYTHON' && chmod 0644 "$TEST_TMPDIR/crafted.sqfs" || bail_out "cannot build the crafted image"
import sys
path = sys.argv[1]
data = bytearray(open(path, "rb").read())
name = b"beta_entry_name"
at = data.find(name)
# The two bytes before a name hold its length minus one.
while at > 0 and int.from_bytes(data[at - 2:at], "little") != len(name) - 1:
    at = data.find(name, at + 1)
if at <= 0:
    sys.exit("entry not found")
data[at - 2:at] = b"\xff\xff"
open(path, "wb").write(data)
PYTHON
crafted=$TEST_TMPDIR/crafted.sqfs
run_launch --no-cache "$crafted" -- /bin/stat -c %n /data/d/gamma_entry_name
is "$RUN_STATUS" 1 "a lookup past a name of 65536 bytes fails instead of crashing" || diag_run
is "$RUN_STDERR" "stat: can't stat '/data/d/gamma_entry_name': Input/output error" "the lookup reports an input/output error"
run_launch --no-cache "$crafted" -- /bin/ls /data/d
is "$RUN_STATUS" 0 "a listing with a name of 65536 bytes ends without a crash" || diag_run
is "$RUN_STDOUT" "alpha_entry_name" "the listing shows the entries before the corrupt one"
run_launch "$crafted" -- /bin/cat /data/d/alpha_entry_name
is "$RUN_STDOUT" "alpha_entry_name" "files before the corrupt entry stay readable" || diag_run
check_nothing_left "crafted directory entry"

done_testing
