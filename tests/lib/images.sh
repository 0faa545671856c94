# shellcheck shell=bash
# Functions that build the images that integration tests run launch on.
#
# Each image function prints the path of the image on stdout and progress or
# errors on stderr, so use it as `image=$(busybox_image) || bail_out ...`.
# Images are built with mksquashfs at test time and cached:
#   - busybox images in $LAUNCH_TEST_IMAGES, a directory under /tmp whose name
#     contains a hash of this file, /bin/busybox and the mksquashfs version,
#     so a changed recipe gets a new directory. Test files that run in
#     parallel each build to a temporary name and rename the result into
#     place, so they need no lock, and whichever rename comes last wins.
#   - the Debian image in ${LAUNCH_TEST_CACHE:-/var/cache/launch-tests},
#     kept between runs because debootstrap downloads and installs about 110
#     packages for it.
# The malformed images for error tests are written into a directory that the
# caller names, by default the per-test $TEST_TMPDIR from setup.sh.
#
# This file can be sourced on its own, without setup.sh (.ci/run does that
# to build the Debian image before `make check`).

if [[ -n ${IMAGES_SH_LOADED:-} ]]; then
    return 0
fi
IMAGES_SH_LOADED=1

# Size and MD5 of /data/blob in the busybox images. busybox_write_blob
# generates the content deterministically, and the build fails if the
# digest differs.
BUSYBOX_BLOB_SIZE=10485760
BUSYBOX_BLOB_MD5=5661ab9055e9fa6b0c02bcb9b24ec822

# The user that the busybox images list in /etc/passwd and /etc/group, so
# tests can check that launch replaces those files.
IMAGE_USER_NAME=imageuser
IMAGE_USER_UID=4242

# The static busybox that the images contain, from Debian's busybox-static.
BUSYBOX_BINARY=${BUSYBOX_BINARY:-/bin/busybox}

images_log() {
    printf 'images.sh: %s\n' "$*" >&2
}

# Print a short hash of everything that decides the content of the cached
# busybox images.
images_recipe_hash() {
    {
        cat "${BASH_SOURCE[0]}"
        cat "$BUSYBOX_BINARY" 2>/dev/null
        mksquashfs -version 2>/dev/null | head -n 1
    } | md5sum | cut -c 1-12
}

if [[ -z ${LAUNCH_TEST_IMAGES:-} ]]; then
    LAUNCH_TEST_IMAGES=/tmp/launch-test-images.$(id -u).$(images_recipe_hash)
    export LAUNCH_TEST_IMAGES
fi

# Create DIR if missing and check that it is safe to build images in: owned
# by the current user and not writable by group or others, because any
# writer could replace an image between build and use. Makes it readable by
# every user, so the test user can open images that root built.
images_prepare_dir() {
    local dir=$1 owner mode
    if ! mkdir -p -- "$dir"; then
        images_log "cannot create the image directory $dir"
        return 1
    fi
    owner=$(stat -c %u -- "$dir") || return 1
    if [[ $owner != "$(id -u)" ]]; then
        images_log "image directory $dir is owned by uid $owner, not by uid $(id -u): remove it or set LAUNCH_TEST_IMAGES to another directory"
        return 1
    fi
    chmod go+rx,go-w -- "$dir" || return 1
    mode=$(stat -c %a -- "$dir") || return 1
    if [[ $((8#$mode & 8#022)) -ne 0 ]]; then
        images_log "image directory $dir has mode $mode, writable by others: set LAUNCH_TEST_IMAGES to another directory"
        return 1
    fi
}

# Move the finished file or directory FROM to TO, unless a parallel test
# published one first: then that copy is used, because a test may already
# have taken its checksum. A hard link publishes a file only where none
# exists; a directory cannot replace a non-empty one, so the rename fails.
images_publish() {
    local from=$1 to=$2
    if [[ -f $from ]]; then
        if ln -- "$from" "$to" 2>/dev/null || [[ -e $to ]]; then
            rm -f -- "$from"
            return 0
        fi
    elif mv -T -- "$from" "$to" 2>/dev/null; then
        return 0
    fi
    if [[ -e $to ]]; then
        return 0
    fi
    images_log "cannot rename $from to $to"
    return 1
}

# Remove a build directory, first unmounting anything that debootstrap
# left mounted inside it (such as proc), so rm cannot reach host files.
images_remove_tree() {
    local dir=$1 mount_point
    [[ -d $dir ]] || return 0
    dir=$(realpath -- "$dir") || return 1
    # Field 5 of mountinfo is the mount point. Unmount the deepest first.
    while IFS= read -r mount_point; do
        umount -l -- "$mount_point" 2>/dev/null ||
            images_log "cannot unmount $mount_point"
    done < <(awk -v dir="$dir/" 'index($5 "/", dir) == 1 { print $5 }' /proc/self/mountinfo | sort -r)
    rm -rf --one-file-system -- "$dir"
}

# Check that BUSYBOX_BINARY exists and is statically linked, because the
# images contain no C library.
busybox_check_binary() {
    if [[ ! -x $BUSYBOX_BINARY ]]; then
        images_log "$BUSYBOX_BINARY not found: install the Debian package busybox-static"
        return 1
    fi
    if command -v file >/dev/null &&
        ! file -L -b -- "$BUSYBOX_BINARY" | grep -q 'static'; then
        images_log "$BUSYBOX_BINARY is dynamically linked: install busybox-static instead of busybox"
        return 1
    fi
}

# Write BUSYBOX_BLOB_SIZE bytes of xorshift64 output to FILE. The bytes do
# not compress, so reading the file exercises every data block of the image.
busybox_write_blob() {
    local file=$1 digest
    perl -e '
        use strict;
        use warnings;
        no warnings "portable";
        my ($size) = @ARGV;
        my $x = 0x9E3779B97F4A7C15;
        my $buffer = "";
        for (1 .. $size / 8) {
            $x ^= ($x << 13) & 0xFFFFFFFFFFFFFFFF;
            $x ^= $x >> 7;
            $x ^= ($x << 17) & 0xFFFFFFFFFFFFFFFF;
            $buffer .= pack("Q<", $x);
            if (length($buffer) >= 65536) {
                print $buffer;
                $buffer = "";
            }
        }
        print $buffer;
    ' "$BUSYBOX_BLOB_SIZE" >"$file" || return 1
    digest=$(md5sum <"$file" | cut -d ' ' -f 1)
    if [[ $digest != "$BUSYBOX_BLOB_MD5" ]]; then
        images_log "generated $file has MD5 $digest, expected $BUSYBOX_BLOB_MD5 (perl must use 64-bit integers)"
        return 1
    fi
}

# Fill the new directory TREE with the busybox root file system:
#   bin/busybox and a symbolic link bin/APPLET -> busybox for every applet
#   usr/bin/busybox        a copy that the squashfs images mark setuid root
#   etc/busybox.conf       lets that setuid copy keep euid 0 for `id` when
#                          the file is owned by uid 0 as seen by the process
#   proc sys dev tmp home root mnt          empty mount points
#   etc/hosts etc/resolv.conf               empty mount points
#   etc/passwd etc/group   root and imageuser (uid and gid 4242)
#   etc/image-release      the line "launch-test-busybox"
#   bin/notexec            a shell script with mode 0644
#   bin/missing-interpreter a script (mode 0755) whose #! names a missing file
#   data/hello.txt         the line "hello from the image"
#   data/blob              10 MiB with MD5 BUSYBOX_BLOB_MD5
busybox_populate_tree() {
    local tree=$1 applet
    (
        set -e
        umask 022
        mkdir -p "$tree"
        cd "$tree"
        mkdir -p bin usr/bin etc data proc sys dev home root mnt tmp
        chmod 1777 tmp

        cp "$BUSYBOX_BINARY" bin/busybox
        chmod 0755 bin/busybox
        for applet in $("$BUSYBOX_BINARY" --list); do
            if [[ $applet != busybox && $applet != */* ]]; then
                ln -s busybox "bin/$applet"
            fi
        done
        cp "$BUSYBOX_BINARY" usr/bin/busybox
        chmod 0755 usr/bin/busybox

        # Debian's busybox drops setuid privileges for most applets unless
        # /etc/busybox.conf grants them, and it reads that file only when
        # the file is owned by uid 0 and not writable by group or others.
        printf '[SUID]\nid = ssx root.root\n' >etc/busybox.conf
        chmod 0644 etc/busybox.conf

        printf 'root:x:0:0:root:/root:/bin/sh\n%s:x:%d:%d:image user:/home/%s:/bin/sh\n' \
            "$IMAGE_USER_NAME" "$IMAGE_USER_UID" "$IMAGE_USER_UID" "$IMAGE_USER_NAME" >etc/passwd
        printf 'root:x:0:\n%s:x:%d:\n' "$IMAGE_USER_NAME" "$IMAGE_USER_UID" >etc/group
        : >etc/hosts
        : >etc/resolv.conf
        printf 'launch-test-busybox\n' >etc/image-release

        printf '#!/bin/sh\necho "notexec ran"\n' >bin/notexec
        chmod 0644 bin/notexec
        printf '#!/nonexistent/interpreter\necho "missing-interpreter ran"\n' >bin/missing-interpreter
        chmod 0755 bin/missing-interpreter

        printf 'hello from the image\n' >data/hello.txt
        busybox_write_blob data/blob
    )
}

# busybox_image [COMPRESSOR]: print the path of the busybox SquashFS image
# compressed with COMPRESSOR (default gzip; mksquashfs also offers lzo, lz4,
# xz, zstd and lzma). Every file is owned by root, and usr/bin/busybox has
# mode 4755.
busybox_image() {
    local compressor=${1:-gzip}
    local dir=$LAUNCH_TEST_IMAGES image work status=0
    if [[ ! $compressor =~ ^[a-z0-9]+$ ]]; then
        images_log "invalid compressor name: $compressor"
        return 1
    fi
    image=$dir/busybox-$compressor.sqfs
    if [[ -f $image ]]; then
        printf '%s\n' "$image"
        return 0
    fi

    busybox_check_binary || return 1
    images_prepare_dir "$dir" || return 1

    # mktemp -d creates the build directory with mode 0700, so no other
    # user can reach the files while they are being written.
    work=$(mktemp -d "$dir/.build.XXXXXX") || return 1
    images_log "building $image"
    {
        busybox_populate_tree "$work/tree" &&
            mksquashfs "$work/tree" "$work/image.sqfs" -comp "$compressor" \
                -all-root -no-xattrs -noappend -quiet -no-progress \
                -p 'usr/bin/busybox m 4755 0 0' >&2 &&
            chmod 0644 "$work/image.sqfs" &&
            images_publish "$work/image.sqfs" "$image"
    } || status=1
    rm -rf -- "$work"

    if [[ $status -ne 0 ]]; then
        images_log "building $image failed"
        return 1
    fi
    printf '%s\n' "$image"
}

# busybox_dir_image: print the path of a directory that contains the busybox
# root file system, owned by the user who built it and readable by everyone.
# NOTE: usr/bin/busybox has mode 0755 here, not 4755 as in the squashfs
# images, because a root-owned setuid shell under /tmp would let every local
# user become root.
busybox_dir_image() {
    local dir=$LAUNCH_TEST_IMAGES image work status=0
    image=$dir/busybox-dir
    if [[ -d $image/bin ]]; then
        printf '%s\n' "$image"
        return 0
    fi
    busybox_check_binary || return 1
    images_prepare_dir "$dir" || return 1
    work=$(mktemp -d "$dir/.build.XXXXXX") || return 1
    images_log "building $image"
    {
        busybox_populate_tree "$work/tree" &&
            chmod 0755 "$work/tree" &&
            images_publish "$work/tree" "$image"
    } || status=1
    rm -rf -- "$work"
    if [[ $status -ne 0 ]]; then
        images_log "building $image failed"
        return 1
    fi
    printf '%s\n' "$image"
}

# Print the Debian mirror URI for bookworm from the apt configuration:
# LAUNCH_TEST_DEBIAN_MIRROR if set, else the first deb source whose suite
# is exactly "bookworm" and whose components include "main", preferring a URI
# whose path ends in /debian. Reads deb822 *.sources files and one-line
# sources.list files.
debian_mirror() {
    local candidates uri
    if [[ -n ${LAUNCH_TEST_DEBIAN_MIRROR:-} ]]; then
        printf '%s\n' "$LAUNCH_TEST_DEBIAN_MIRROR"
        return 0
    fi
    candidates=$(
        shopt -s nullglob
        for file in /etc/apt/sources.list.d/*.sources; do
            # deb822: stanzas separated by blank lines, "Field: value" lines.
            awk '
                function flush() {
                    if (types ~ /(^| )deb( |$)/ && suites ~ /(^| )bookworm( |$)/ &&
                        components ~ /(^| )main( |$)/ && tolower(enabled) != "no")
                        print uris
                    types = suites = components = uris = enabled = ""
                }
                /^[ \t]*$/ { flush(); next }
                /^#/ { next }
                {
                    field = tolower($1)
                    value = $0
                    sub(/^[^:]*:[ \t]*/, "", value)
                    if (field == "types:") types = value
                    else if (field == "uris:") uris = value
                    else if (field == "suites:") suites = value
                    else if (field == "components:") components = value
                    else if (field == "enabled:") enabled = value
                }
                END { flush() }
            ' "$file" | tr -s ' \t' '\n'
        done
        for file in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
            [[ -f $file ]] || continue
            # One-line format: deb [options] URI SUITE COMPONENT...
            awk '
                $1 != "deb" { next }
                {
                    i = 2
                    if ($i ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
                    uri = $i; suite = $(i + 1); main = 0
                    for (j = i + 2; j <= NF; j++) if ($j == "main") main = 1
                    if (suite == "bookworm" && main) print uri
                }
            ' "$file"
        done
    )
    candidates=$(grep -E '^(https?|file):' <<<"$candidates")
    uri=$(grep -E '/debian/?$' <<<"$candidates" | head -n 1)
    if [[ -z $uri ]]; then
        uri=$(head -n 1 <<<"$candidates")
    fi
    if [[ -z $uri ]]; then
        images_log "no Debian bookworm source with component main found in /etc/apt/sources.list or /etc/apt/sources.list.d: set LAUNCH_TEST_DEBIAN_MIRROR to a Debian mirror URI"
        return 1
    fi
    printf '%s\n' "$uri"
}

# debian_image: print the path of a SquashFS image of Debian bookworm
# (debootstrap --variant=minbase --include=python3), kept between runs in
# ${LAUNCH_TEST_CACHE:-/var/cache/launch-tests}.
# Returns 0 with the path, 2 when the image is missing and cannot be built
# here (not root, or LAUNCH_TEST_SKIP_DEBIAN is set), so the caller skips,
# and 1 when the build failed.
debian_image() {
    local cache=${LAUNCH_TEST_CACHE:-/var/cache/launch-tests}
    local image=$cache/debian-bookworm-python3.sqfs
    if [[ -f $image ]]; then
        printf '%s\n' "$image"
        return 0
    fi
    if [[ -n ${LAUNCH_TEST_SKIP_DEBIAN:-} ]]; then
        images_log "$image is missing and LAUNCH_TEST_SKIP_DEBIAN is set"
        return 2
    fi
    if [[ $(id -u) -ne 0 ]]; then
        images_log "$image is missing and only root can build it: as root, run: bash -c '. tests/lib/images.sh && debian_image'"
        return 2
    fi
    images_prepare_dir "$cache" || return 1
    (
        # A lock, unlike for the busybox images, because a second parallel
        # build would cost minutes. Descriptor 9 closes when the subshell
        # exits, which releases the lock.
        exec 9>"$cache/.debian.lock"
        flock 9
        if [[ -f $image ]]; then
            exit 0
        fi
        mirror=$(debian_mirror) || exit 1
        work=$(mktemp -d "$cache/.build.XXXXXX") || exit 1
        trap 'images_remove_tree "$work"' EXIT
        images_log "building $image with debootstrap from $mirror, which can take minutes"
        debootstrap --variant=minbase --include=python3 bookworm "$work/tree" "$mirror" >&2 || exit 1
        images_log "packing $image with mksquashfs"
        mksquashfs "$work/tree" "$work/image.sqfs" -comp gzip -no-xattrs \
            -noappend -quiet -no-progress >&2 || exit 1
        chmod 0644 "$work/image.sqfs" || exit 1
        images_publish "$work/image.sqfs" "$image"
    ) || {
        images_log "building $image failed"
        return 1
    }
    printf '%s\n' "$image"
}

# Print the directory for malformed images: the argument, else $TEST_TMPDIR.
bad_image_dir() {
    local dir=${1:-${TEST_TMPDIR:-}}
    if [[ -z $dir || ! -d $dir ]]; then
        images_log "no directory for malformed images: pass one or source setup.sh, which sets TEST_TMPDIR"
        return 1
    fi
    printf '%s\n' "$dir"
}

# bad_magic_image [DIR]: a copy of the busybox image whose 4-byte magic
# number "hsqs" is replaced with "XXXX".
bad_magic_image() {
    local dir source image
    dir=$(bad_image_dir "${1:-}") || return 1
    source=$(busybox_image gzip) || return 1
    image=$dir/bad-magic.sqfs
    cp -- "$source" "$image" &&
        printf 'XXXX' | dd of="$image" bs=1 seek=0 conv=notrunc status=none &&
        chmod 0644 -- "$image" || return 1
    printf '%s\n' "$image"
}

# empty_file_image [DIR]: a file of 0 bytes.
empty_file_image() {
    local dir image
    dir=$(bad_image_dir "${1:-}") || return 1
    image=$dir/empty.sqfs
    : >"$image" && chmod 0644 -- "$image" || return 1
    printf '%s\n' "$image"
}

# truncated_image [DIR]: the first half of the busybox image.
truncated_image() {
    local dir source image size
    dir=$(bad_image_dir "${1:-}") || return 1
    source=$(busybox_image gzip) || return 1
    image=$dir/truncated.sqfs
    size=$(stat -c %s -- "$source") || return 1
    head -c "$((size / 2))" -- "$source" >"$image" &&
        chmod 0644 -- "$image" || return 1
    printf '%s\n' "$image"
}

# unknown_compression_image [DIR] [ID]: a copy of the busybox image whose
# superblock compression id (16-bit little-endian at byte offset 20) is ID,
# default 7. SquashFS 4.0 defines ids 1 to 6 (gzip, lzma, lzo, xz, lz4, zstd).
unknown_compression_image() {
    local dir source image id=${2:-7}
    dir=$(bad_image_dir "${1:-}") || return 1
    if [[ ! $id =~ ^[0-9]+$ ]] || ((id > 65535)); then
        images_log "compression id must be an integer from 0 to 65535, got: $id"
        return 1
    fi
    source=$(busybox_image gzip) || return 1
    image=$dir/compression-$id.sqfs
    cp -- "$source" "$image" &&
        printf '%b' "$(printf '\\0%03o\\0%03o' $((id & 255)) $((id >> 8)))" |
        dd of="$image" bs=1 seek=20 conv=notrunc status=none &&
        chmod 0644 -- "$image" || return 1
    printf '%s\n' "$image"
}

# empty_dir_image [DIR]: an empty directory.
empty_dir_image() {
    local dir image
    dir=$(bad_image_dir "${1:-}") || return 1
    image=$dir/empty-root
    mkdir -p -- "$image" && chmod 0755 -- "$image" || return 1
    printf '%s\n' "$image"
}

# no_bin_dir_image [DIR]: a directory with etc/ and a file, but neither bin/
# nor usr/bin/.
no_bin_dir_image() {
    local dir image
    dir=$(bad_image_dir "${1:-}") || return 1
    image=$dir/no-bin-root
    mkdir -p -- "$image/etc" &&
        chmod 0755 -- "$image" "$image/etc" &&
        printf 'no bin directory here\n' >"$image/etc/image-release" &&
        chmod 0644 -- "$image/etc/image-release" || return 1
    printf '%s\n' "$image"
}
