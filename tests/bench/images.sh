# shellcheck shell=bash
# Images of the benchmarks, built once and cached. Sourced by run.sh.
#
# Each image exists twice: as a SquashFS file (gzip, the mksquashfs default,
# every file owned by root) and as the directory it was made from. So the
# tools that need a directory (bwrap, ch-run on a directory) run the same
# files. Every image has what ch-run 0.31 binds over and fails without
# ("can't bind: destination not found"): /etc/passwd, /etc/group,
# /etc/hosts, /etc/resolv.conf, /dev, /proc, /sys, /home, /tmp and /var/tmp.
# /home is empty, so launch creates the mount point of the home directory
# in a layer over the image, as it must for most images.
#
#   tiny      /bin/true and /bin/hello from tiny.c, static without a C
#             library (a few KiB each): the launcher's own start-up cost
#   busybox   /bin/busybox from busybox-static (about 2 MB) with a link per
#             applet, and /bin/cpu from cpu.c
#   walk      /bin/walk from walk.c and /files: 200 directories of 100
#             files each, 0 to 4095 bytes of text
#   big       busybox, /bin/walk and /data/big: 1 GiB, alternating 128 KiB
#             blocks of pseudo-random bytes (which mksquashfs stores
#             uncompressed) and of text (which gzip compresses), so that
#             reads take both paths of the SquashFS reader
#   debian    the unpacked Debian image of the integration tests
#             (debian_image in tests/lib/images.sh), with python3
#
# The cache is BENCH_CACHE (default /var/tmp/launch-bench.UID), in a
# subdirectory named after a hash of this file, the C sources, the busybox
# binary and the versions of mksquashfs and gcc, so a changed recipe builds
# new images. Subdirectories of older recipes are removed.

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/lib/images.sh
. "$BENCH_DIR/../lib/images.sh"

BENCH_CACHE=${BENCH_CACHE:-/var/tmp/launch-bench.$(id -u)}

# Number of files in the walk image and size of the file in the big image.
BENCH_WALK_DIRS=200
BENCH_WALK_FILES_PER_DIR=100
BENCH_BIG_SIZE=1073741824

# The Python that generates file contents on the build host.
BENCH_BUILD_PYTHON=/usr/bin/python3
if [[ ! -x $BENCH_BUILD_PYTHON ]]; then
    BENCH_BUILD_PYTHON=python3
fi

bench_log() {
    printf 'bench: %s\n' "$*" >&2
}

bench_recipe_hash() {
    {
        cat "$BENCH_DIR/images.sh" "$BENCH_DIR/tiny.c" "$BENCH_DIR/cpu.c" "$BENCH_DIR/walk.c"
        cat "$BUSYBOX_BINARY" 2>/dev/null
        mksquashfs -version 2>/dev/null | head -n 1
        gcc --version 2>/dev/null | head -n 1
    } | md5sum | cut -c 1-12
}

# Set BENCH_RECIPE_DIR, create it and remove the directories of older
# recipes beside it.
bench_prepare_cache() {
    local hash old
    hash=$(bench_recipe_hash) || return 1
    images_prepare_dir "$BENCH_CACHE" || return 1
    BENCH_RECIPE_DIR=$BENCH_CACHE/recipe-$hash
    for old in "$BENCH_CACHE"/recipe-*; do
        if [[ -d $old && $old != "$BENCH_RECIPE_DIR" ]]; then
            bench_log "removing the images of an older recipe: $old"
            rm -rf --one-file-system -- "$old"
        fi
    done
    images_prepare_dir "$BENCH_RECIPE_DIR"
}

# Compile the C source SOURCE into OUTPUT: static, with extra gcc FLAGS.
bench_compile() {
    local source=$1 output=$2
    shift 2
    gcc -static -O2 -Wall -Wextra -Werror "$@" -o "$output" "$BENCH_DIR/$source"
}

bench_compile_tiny() {
    bench_compile tiny.c "$@" -nostdlib -fno-pie -no-pie -fno-stack-protector \
        -fno-asynchronous-unwind-tables -Wl,--build-id=none -s
}

# Create the directories and files that every image has (see the top of
# this file) in the new directory TREE. NAME goes to /etc/image-release, a
# file that the host lacks, so reading it shows that a command ran in the
# image.
bench_make_skeleton() {
    local tree=$1 name=$2
    (
        set -e
        umask 022
        mkdir -p "$tree"
        cd "$tree"
        mkdir -p bin etc dev proc sys home root mnt tmp var/tmp
        chmod 1777 tmp var/tmp
        printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >etc/passwd
        printf 'root:x:0:\nnogroup:x:65534:\n' >etc/group
        : >etc/hosts
        : >etc/resolv.conf
        printf 'launch-bench %s\n' "$name" >etc/image-release
    )
}

bench_populate_tiny() {
    local tree=$1
    bench_make_skeleton "$tree" tiny &&
        bench_compile_tiny "$tree/bin/true" &&
        bench_compile_tiny "$tree/bin/hello" -DMESSAGE='"launch-bench tiny image\n"'
}

bench_add_busybox() {
    local tree=$1 applet
    busybox_check_binary || return 1
    install -m 0755 "$BUSYBOX_BINARY" "$tree/bin/busybox" || return 1
    for applet in $("$BUSYBOX_BINARY" --list); do
        if [[ $applet != busybox && $applet != */* && ! -e $tree/bin/$applet ]]; then
            ln -s busybox "$tree/bin/$applet" || return 1
        fi
    done
}

bench_populate_busybox() {
    local tree=$1
    bench_make_skeleton "$tree" busybox &&
        bench_add_busybox "$tree" &&
        bench_compile cpu.c "$tree/bin/cpu"
}

# Write the files of the walk image under TREE/files and the line that
# `walk` prints for them to TREE.expected ("files N bytes M").
bench_populate_walk() {
    local tree=$1 bytes
    bench_make_skeleton "$tree" walk &&
        bench_compile walk.c "$tree/bin/walk" || return 1
    "$BENCH_BUILD_PYTHON" - "$tree/files" "$BENCH_WALK_DIRS" "$BENCH_WALK_FILES_PER_DIR" <<'EOF' || return 1
import os
import random
import sys

root, dir_count, file_count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(20000)
words = "stat open read close directory entry inode block cache page".split()
os.mkdir(root)
for d in range(dir_count):
    directory = os.path.join(root, "d%03d" % d)
    os.mkdir(directory)
    for f in range(file_count):
        size = rng.randrange(4096)
        text = []
        length = 0
        while length < size:
            line = "%s %d %d %s\n" % (rng.choice(words), d, f, rng.getrandbits(40))
            text.append(line)
            length += len(line)
        with open(os.path.join(directory, "f%03d" % f), "w") as out:
            out.write("".join(text)[:size])
EOF
    bytes=$(find "$tree/files" -type f -printf '%s\n' | awk '{ total += $1 } END { print total + 0 }') || return 1
    printf 'files %d bytes %s\n' "$((BENCH_WALK_DIRS * BENCH_WALK_FILES_PER_DIR))" "$bytes" >"$tree.expected"
}

bench_populate_big() {
    local tree=$1
    bench_make_skeleton "$tree" big &&
        bench_add_busybox "$tree" &&
        bench_compile walk.c "$tree/bin/walk" &&
        mkdir -p "$tree/data" || return 1
    "$BENCH_BUILD_PYTHON" - "$tree/data/big" "$BENCH_BIG_SIZE" <<'EOF' || return 1
import random
import sys

path, size = sys.argv[1], int(sys.argv[2])
block = 131072
rng = random.Random(1073741824)
line_number = 0
with open(path, "wb") as out:
    for index in range(size // block):
        if index % 2 == 0:
            out.write(rng.randbytes(block))
            continue
        lines = []
        length = 0
        while length < block:
            line = "line %09d: the quick brown fox jumps over the lazy dog %08x\n" % (
                line_number, rng.getrandbits(32))
            line_number += 1
            lines.append(line)
            length += len(line)
        out.write("".join(lines).encode()[:block])
EOF
    [[ $(stat -c %s -- "$tree/data/big") == "$BENCH_BIG_SIZE" ]] || {
        bench_log "$tree/data/big does not have $BENCH_BIG_SIZE bytes"
        return 1
    }
}

# bench_image NAME: build the image NAME (tiny, busybox, walk or big) if it
# is not cached, and set BENCH_IMAGE_SQFS and BENCH_IMAGE_DIR to its
# SquashFS file and its directory.
bench_image() {
    local name=$1 sqfs dir work status=0
    sqfs=$BENCH_RECIPE_DIR/$name.sqfs
    dir=$BENCH_RECIPE_DIR/$name
    if [[ ! -f $sqfs || ! -d $dir ]]; then
        rm -rf --one-file-system -- "$sqfs" "$dir" "$dir.expected"
        work=$(mktemp -d "$BENCH_RECIPE_DIR/.build.XXXXXX") || return 1
        bench_log "building the $name image in $BENCH_RECIPE_DIR"
        {
            "bench_populate_$name" "$work/tree" &&
                chmod 0755 "$work/tree" &&
                mksquashfs "$work/tree" "$work/image.sqfs" -comp gzip -all-root \
                    -no-xattrs -noappend -quiet -no-progress >&2 &&
                chmod 0644 "$work/image.sqfs" &&
                if [[ -f $work/tree.expected ]]; then mv -- "$work/tree.expected" "$dir.expected"; fi &&
                mv -T -- "$work/tree" "$dir" &&
                mv -T -- "$work/image.sqfs" "$sqfs"
        } || status=1
        rm -rf --one-file-system -- "$work"
        if [[ $status -ne 0 ]]; then
            bench_log "building the $name image failed"
            rm -rf --one-file-system -- "$dir" "$sqfs"
            return 1
        fi
    fi
    BENCH_IMAGE_SQFS=$sqfs
    BENCH_IMAGE_DIR=$dir
}

# bench_debian_image: set BENCH_IMAGE_SQFS to the Debian image of the
# integration tests and BENCH_IMAGE_DIR to an unpacked copy of it. Returns
# 2 when the image is missing and cannot be built here (see debian_image).
bench_debian_image() {
    local sqfs dir stamp status=0 unpack_options=()
    sqfs=$(debian_image) || return $?
    dir=$BENCH_RECIPE_DIR/debian
    # The copy belongs to one version of the image file.
    stamp=$(stat -c '%i %s %Y' -- "$sqfs") || return 1
    if [[ ! -d $dir || $(cat "$dir.stamp" 2>/dev/null) != "$stamp" ]]; then
        rm -rf --one-file-system -- "$dir" "$dir.stamp"
        bench_log "unpacking $sqfs into $dir"
        # An ordinary user cannot create the device nodes in the image's /dev;
        # the benchmarks do not use them.
        if [[ $(id -u) -ne 0 ]]; then
            unpack_options=(-ignore-errors -no-exit-code)
        fi
        unsquashfs -quiet -no-progress -no-xattrs "${unpack_options[@]}" -d "$dir.tmp" "$sqfs" >&2 &&
            chmod 0755 "$dir.tmp" &&
            [[ -x $dir.tmp/usr/bin/python3 ]] &&
            mv -T -- "$dir.tmp" "$dir" &&
            printf '%s\n' "$stamp" >"$dir.stamp" || status=1
        if [[ $status -ne 0 ]]; then
            bench_log "unpacking $sqfs failed"
            rm -rf --one-file-system -- "$dir.tmp" "$dir"
            return 1
        fi
    fi
    BENCH_IMAGE_SQFS=$sqfs
    BENCH_IMAGE_DIR=$dir
}
