#!/bin/bash
# Build the example image: a root file system around Debian's static busybox
# with the script /hello, packed with mksquashfs.
#
# Usage: examples/make-example-image.sh [OUTPUT]   (default examples/hello.sqfs)
# Then, as an ordinary user: launch examples/hello.sqfs -- /hello
#
# Needs the Debian packages busybox-static and squashfs-tools. Root is not
# needed, because mksquashfs -all-root records every file as owned by root.
set -euo pipefail

examples_dir=$(cd "$(dirname "$0")" && pwd)
output=${1:-$examples_dir/hello.sqfs}
busybox=/bin/busybox

if [[ ! -x $busybox ]]; then
    echo "make-example-image.sh: $busybox not found: install busybox-static (apt-get install busybox-static)" >&2
    exit 1
fi
if ! command -v mksquashfs >/dev/null; then
    echo "make-example-image.sh: mksquashfs not found: install squashfs-tools (apt-get install squashfs-tools)" >&2
    exit 1
fi

tree=$(mktemp -d)
trap 'rm -rf -- "$tree"' EXIT
umask 022
chmod 0755 "$tree"

# Directories that launch mounts over, and the usual top level.
mkdir -p "$tree"/{bin,dev,etc,home,mnt,proc,root,sys,tmp,usr/bin}
chmod 1777 "$tree/tmp"
# launch replaces these files with bind mounts, so they must exist.
: >"$tree/etc/hosts"
: >"$tree/etc/resolv.conf"
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$tree/etc/passwd"
printf 'root:x:0:\n' >"$tree/etc/group"

cp "$busybox" "$tree/bin/busybox"
for applet in $("$busybox" --list); do
    if [[ $applet != busybox && $applet != */* ]]; then
        ln -s busybox "$tree/bin/$applet"
    fi
done

cp "$examples_dir/hello/hello" "$tree/hello"
chmod 0755 "$tree/hello"

mksquashfs "$tree" "$output" -all-root -no-xattrs -noappend -quiet -no-progress
chmod 0644 -- "$output"
echo "wrote $output; run it with: launch $output -- /hello"
