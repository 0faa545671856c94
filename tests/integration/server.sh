#!/bin/bash
# Image server under parallel load. In each run, 8 readers in one container
# read every file of a tree of about 3300 entries at the same time. The runs
# use the default number of server threads, --fuse-threads 1 and several
# threads, on images packed with several compressions, block sizes and
# fragment settings, with a cold, a warm and no block cache, and with two
# launches at once. Every byte, size, mode, link count, inode number,
# symlink target and directory listing must equal the host's. Also checks
# the server line of launch -v and the invalid --fuse-threads values.

# A server that deadlocks would otherwise hold each run for the default 120 s.
: "${LAUNCH_TEST_TIMEOUT:=60}"
export LAUNCH_TEST_TIMEOUT

. "$(dirname "$0")/../lib/setup.sh"

# Readers started in each container. Readers 2k and 2k+1 read the files in
# the same order, so they request the same blocks at the same moment.
READERS=8
# Seed of the tree's content, so a failure is reproducible.
TREE_SEED=launch-server-test-1
# The file that the byte count checks read once: random bytes, which no
# compression makes smaller.
BYTES_CHECK_FILE=data/big/random-5242879
BYTES_CHECK_SIZE=5242879

# The number of checks that check_parallel_readers runs.
PARALLEL_CHECKS=16

SERVER_LINE_PATTERN='^launch\[[0-9]+\]: image server: ([0-9]+) threads? served ([0-9]+) requests, read ([0-9]+) bytes, used ([0-9]+(\.[0-9]+)?) s of CPU$'

# check_nothing_left CASE: check that the last launch left no mount of a
# path in TEST_TMPDIR (where the images are) in the host's mount namespace
# and no process behind. Other mounts are not compared, because other test
# files may mount and unmount while this one runs.
check_nothing_left() {
    local case=$1
    is "$(grep -F -- "$TEST_TMPDIR" /proc/self/mountinfo)" "" "$case: no host mount left"
    wait_for_no_test_processes
    is "$(test_processes)" "" "$case: no process left"
}

# write_data_tree DIR SEED: create DIR/data, the tree that the readers
# check. Content comes from SHA-512 in counter mode keyed by SEED and the
# file name, so every run builds the same bytes:
#   sizes/KIND-SIZE    KIND random (incompressible), text (compressible) or
#                      mixed (4 KiB chunks of both), SIZE around 0, 4 KiB,
#                      the 128 KiB block size and 1 MiB
#   big/               files of 2 to 5 MiB
#   sparse/            holes at the start, middle and end, and no data at all
#   links/             hard links (also across directories), symbolic links
#                      (relative, absolute, chained, dangling, to a
#                      directory, with a 4095-byte target)
#   deep/              100 nested directories with a file in each
#   wide/              3000 entries: files, directories, symbolic links,
#                      255-byte and UTF-8 names, names with spaces
#   long-names/        a 255-byte directory name holding a 255-byte file name
#   modes/             files and directories with setuid, setgid, sticky and
#                      read-only modes, all readable by others
#   dups/              copies of other files, which mksquashfs stores once
write_data_tree() {
    perl - "$1" "$2" <<'PERL'
use strict;
use warnings;
use Digest::SHA qw(sha512);

my ($root, $seed) = @ARGV;
umask 022;

sub random_bytes {
    my ($length, $key) = @_;
    my @chunks;
    for (my $i = 0; 64 * $i < $length; $i++) {
        push @chunks, sha512("$seed/$key/$i");
    }
    return substr(join('', @chunks), 0, $length);
}

sub text_bytes {
    my ($length, $key) = @_;
    my @lines;
    my $total = 0;
    for (my $i = 0; $total < $length; $i++) {
        my $line = sprintf("%s line %06d: the quick brown fox jumps over the lazy dog\n", $key, $i);
        push @lines, $line;
        $total += length $line;
    }
    return substr(join('', @lines), 0, $length);
}

# Chunks of 4 KiB, every third one random: blocks compress partly.
sub mixed_bytes {
    my ($length, $key) = @_;
    my @chunks;
    for (my $i = 0; 4096 * $i < $length; $i++) {
        push @chunks, $i % 3 == 1 ? random_bytes(4096, "$key/$i") : text_bytes(4096, "$key/$i");
    }
    return substr(join('', @chunks), 0, $length);
}

sub content {
    my ($kind, $length, $key) = @_;
    return random_bytes($length, $key) if $kind eq 'random';
    return text_bytes($length, $key) if $kind eq 'text';
    return mixed_bytes($length, $key);
}

sub make_dir {
    my ($path) = @_;
    mkdir "$root/$path" or die "mkdir $path: $!\n";
}

sub write_file {
    my ($path, $bytes) = @_;
    open(my $fh, '>:raw', "$root/$path") or die "open $path: $!\n";
    print $fh $bytes or die "write $path: $!\n";
    close $fh or die "close $path: $!\n";
}

# write_sparse PATH SIZE [OFFSET BYTES]...: a file of SIZE bytes with BYTES
# at each OFFSET and holes elsewhere.
sub write_sparse {
    my ($path, $size, @pieces) = @_;
    open(my $fh, '>:raw', "$root/$path") or die "open $path: $!\n";
    while (@pieces) {
        my ($offset, $bytes) = splice(@pieces, 0, 2);
        seek($fh, $offset, 0) or die "seek $path: $!\n";
        print $fh $bytes or die "write $path: $!\n";
    }
    truncate($fh, $size) or die "truncate $path: $!\n";
    close $fh or die "close $path: $!\n";
}

sub make_symlink {
    my ($target, $path) = @_;
    symlink($target, "$root/$path") or die "symlink $path: $!\n";
}

sub make_link {
    my ($existing, $path) = @_;
    link("$root/$existing", "$root/$path") or die "link $path: $!\n";
}

make_dir($_) for qw(data data/sizes data/big data/sparse data/links data/links/sub
                    data/deep data/wide data/long-names data/modes data/dups);

for my $kind (qw(random text mixed)) {
    for my $size (0, 1, 2, 511, 4095, 4096, 4097, 8191, 8192, 65535, 65536,
                  131071, 131072, 131073, 262143, 262144, 262145,
                  1048575, 1048576, 1048577) {
        write_file("data/sizes/$kind-$size", content($kind, $size, "sizes/$kind-$size"));
    }
}

write_file("data/big/random-3145729", random_bytes(3145729, 'big/random-3145729'));
write_file("data/big/random-5242879", random_bytes(5242879, 'big/random-5242879'));
write_file("data/big/text-4194304", text_bytes(4194304, 'big/text-4194304'));
write_file("data/big/mixed-2097153", mixed_bytes(2097153, 'big/mixed-2097153'));

# Data straddles a block boundary and ends one byte before the end.
write_sparse("data/sparse/islands", 16 * 1048576 + 5,
             0, random_bytes(70000, 'islands/0'),
             5 * 131072 + 100, random_bytes(131072, 'islands/1'),
             12 * 1048576 - 50, random_bytes(100, 'islands/2'),
             16 * 1048576 + 3, 'z');
write_sparse("data/sparse/all-hole", 2097155);
write_sparse("data/sparse/hole-head", 3 * 131072 + 1007, 3 * 131072 + 7, random_bytes(1000, 'hole-head'));
write_sparse("data/sparse/hole-tail", 1048576, 0, random_bytes(300000, 'hole-tail'));
# Zeros written out, not holes: mksquashfs stores all-zero blocks as
# sparse blocks all the same.
write_file("data/sparse/zeros-written", ("\0" x 393216) . "end\n");

write_file("data/links/hard-a", random_bytes(200001, 'links/hard-a'));
make_link("data/links/hard-a", "data/links/hard-b");
make_link("data/links/hard-a", "data/links/sub/hard-c");
write_file("data/links/small-a", text_bytes(100, 'links/small-a'));
make_link("data/links/small-a", "data/links/small-b");
write_file("data/links/empty-a", '');
make_link("data/links/empty-a", "data/links/sub/empty-b");
make_symlink("../sizes/random-4097", "data/links/sym-relative");
make_symlink("sym-relative", "data/links/sym-chain");
make_symlink("/data/sizes/text-131072", "data/links/sym-absolute");
make_symlink("does-not-exist", "data/links/sym-dangling");
make_symlink("../deep", "data/links/sym-directory");
make_symlink("target with spaces", "data/links/sym-spaces");
make_symlink(substr("segment/" x 512, 0, 4095), "data/links/sym-4095");

my $deep = "data/deep";
for my $level (0 .. 99) {
    $deep .= sprintf("/level-%03d", $level);
    make_dir($deep);
    write_file("$deep/file", text_bytes($level * 13 + 1, "$deep/file"));
}
write_file("$deep/bottom", random_bytes(131073, 'deep/bottom'));

# 3000 entries. Every 10th file has 4 KiB more, so some files exceed the
# 4 KiB block size of the -b 4096 images.
my @kinds = qw(random text mixed);
for my $i (0 .. 2999) {
    my $name = sprintf("entry-%04d", $i);
    if ($i % 250 == 7) {
        $name .= '-' . ('n' x (255 - length($name) - 1));
    } elsif ($i % 500 == 123) {
        $name .= ' with spaces';
    } elsif ($i == 2222) {
        # 11 bytes and 122 two-byte characters: 255 bytes.
        $name .= '-' . ("\xc3\xa9" x 122);
    } elsif ($i % 1000 == 333) {
        $name .= '-' . ("\xc3\xa9" x 100);
    }
    if ($i % 600 == 599) {
        make_dir("data/wide/$name");
        write_file("data/wide/$name/inner", text_bytes($i, "wide/$name/inner"));
    } elsif ($i % 750 == 401) {
        make_symlink("entry-0000", "data/wide/$name");
    } else {
        my $size = ($i * 7919) % 3001 + ($i % 10 == 0 ? 4096 : 0);
        write_file("data/wide/$name", content($kinds[$i % 3], $size, "wide/$name"));
    }
}

my $long_dir = "data/long-names/" . ('d' x 255);
make_dir($long_dir);
write_file("$long_dir/" . ('f' x 255), random_bytes(5000, 'long-names'));

for my $mode (0444, 0555, 0604, 0644, 0664, 0755, 0777, 04755, 02755, 06755, 0707) {
    my $path = sprintf("data/modes/file-%04o", $mode);
    write_file($path, text_bytes(10 + $mode % 100, $path));
    chmod($mode, "$root/$path") or die "chmod $path: $!\n";
}
for my $mode (0555, 01777, 0705) {
    my $path = sprintf("data/modes/dir-%04o", $mode);
    make_dir($path);
    write_file("$path/inside", text_bytes(50, $path));
    chmod($mode, "$root/$path") or die "chmod $path: $!\n";
}

write_file("data/dups/copy-random-131073", random_bytes(131073, 'sizes/random-131073'));
write_file("data/dups/copy-mixed-262145", mixed_bytes(262145, 'sizes/mixed-262145'));
write_file("data/dups/copy-text-1048577", text_bytes(1048577, 'sizes/text-1048577'));
PERL
}

# write_root_tree DIR: the data tree plus a static busybox with a symbolic
# link for each applet, and the mount points that launch uses.
write_root_tree() {
    local tree=$1 applet
    (
        set -e
        umask 022
        mkdir -p "$tree"
        cd "$tree"
        mkdir -p bin etc proc sys dev tmp home root mnt
        chmod 1777 tmp
        cp "$BUSYBOX_BINARY" bin/busybox
        chmod 0755 bin/busybox
        for applet in $("$BUSYBOX_BINARY" --list); do
            if [[ $applet != busybox && $applet != */* ]]; then
                ln -s busybox "bin/$applet"
            fi
        done
    ) || return 1
    write_data_tree "$tree" "$TREE_SEED"
}

# order_list FILE READER: print the lines of FILE in the order of reader
# READER: pairs of readers read forward, backward, forward from the middle
# and backward from the middle.
order_list() {
    local file=$1 reader=$2
    awk -v pair=$((reader / 2 % 4)) '
        { line[NR] = $0 }
        END {
            start = pair >= 2 ? int(NR / 2) : 0
            for (i = 0; i < NR; i++) {
                j = (start + i) % NR
                if (pair % 2 == 1)
                    j = NR - 1 - j
                print line[j + 1]
            }
        }
    ' "$file"
}

# Build the tree, the reader lists, the script that the readers run and
# the host's expected outputs.
build_dir=$TEST_TMPDIR/build
lists_dir=$TEST_TMPDIR/lists
expected_dir=$TEST_TMPDIR/expected
images_dir=$TEST_TMPDIR/images
tree=$build_dir/tree
# The build directory keeps mode 0700, so no other user reaches the setuid
# files while they exist.
mkdir -m 0700 -- "$build_dir" "$expected_dir" || bail_out "cannot create $build_dir"
mkdir -m 0755 -- "$lists_dir" "$images_dir" || bail_out "cannot create $lists_dir"
busybox_check_binary || bail_out "no static busybox at $BUSYBOX_BINARY"
write_root_tree "$tree" || bail_out "cannot build the test tree in $tree"

(
    set -e
    cd "$tree"
    export LC_ALL=C
    {
        find data -type f
        # Symbolic links to files: readers follow them.
        printf '%s\n' data/links/sym-relative data/links/sym-chain
    } | sort >"$expected_dir/files"
    find data -type f -size +1023k | sort >"$expected_dir/direct-files"
    tr '\n' '\0' <"$expected_dir/files" | xargs -0 md5sum | sort >"$expected_dir/sums"
    awk 'NR == FNR { want[$0] = 1; next } { name = substr($0, 35); if (name in want) print }' \
        "$expected_dir/direct-files" "$expected_dir/sums" >"$expected_dir/direct"
    find data ! -type d -exec stat -c '%s %f %h %i %n' {} + | sort >"$expected_dir/stat-inodes"
    find data -type d -exec stat -c '%f %h %n' {} + | sort >"$expected_dir/dirstat"
    find data -type l | sort | while IFS= read -r path; do
        printf '%s -> %s\n' "$path" "$(readlink -- "$path")"
    done >"$expected_dir/links"
    # Ranges "FILE OFFSET LENGTH" that start just before, at and just after
    # 4 KiB and 128 KiB block boundaries, and at the end of the file.
    for path in data/sizes/random-262145 data/sizes/text-262145 data/sizes/mixed-1048577 \
        data/big/mixed-2097153 data/sparse/islands data/sparse/hole-head data/wide/entry-0010; do
        size=$(stat -c %s -- "$path")
        for offset in 4095 4096 4097; do
            printf '%s %s 5\n' "$path" "$offset"
        done
        for offset in 131071 131072 131073 786431 786432 786433; do
            printf '%s %s 131075\n' "$path" "$offset"
        done
        printf '%s %s 5\n' "$path" $((size - 2)) "$path" "$size"
    done >"$expected_dir/range-list"
    while read -r path offset length; do
        sum=$(dd if="$path" iflag=skip_bytes,count_bytes skip="$offset" count="$length" \
            bs=65536 status=none | md5sum)
        printf '%s  %s %s %s\n' "${sum%% *}" "$path" "$offset" "$length"
    done <"$expected_dir/range-list" | sort >"$expected_dir/ranges"
    find data/wide -mindepth 1 -maxdepth 1 | sort >"$expected_dir/wide-once"
    cat "$expected_dir/wide-once" "$expected_dir/wide-once" "$expected_dir/wide-once" |
        sort >"$expected_dir/wide"
) || bail_out "cannot compute the expected outputs on the host"

# strip_inodes FILE: print FILE, lines in the form "SIZE MODE NLINK INODE
# NAME", without the inode numbers, which differ between host and image.
strip_inodes() {
    sed -E 's/^([^ ]+ [^ ]+ [^ ]+) [0-9]+ /\1 /' -- "$1"
}

# hard_link_groups FILE: for each name in FILE (lines "SIZE MODE NLINK
# INODE NAME") with more than one link, print "NAME = FIRST", FIRST being
# the first name in byte order with the same inode number.
hard_link_groups() {
    LC_ALL=C awk '
        {
            match($0, /^[^ ]+ [^ ]+ [^ ]+ [^ ]+ /)
            name = substr($0, RLENGTH + 1)
        }
        NR == FNR {
            if ($3 > 1 && (!($4 in first) || name < first[$4]))
                first[$4] = name
            next
        }
        $3 > 1 { print name " = " first[$4] }
    ' "$1" "$1" | LC_ALL=C sort
}

strip_inodes "$expected_dir/stat-inodes" | LC_ALL=C sort >"$expected_dir/stat"
hard_link_groups "$expected_dir/stat-inodes" >"$expected_dir/hard-links"

file_count=$(wc -l <"$expected_dir/files")
for ((reader = 0; reader < READERS; reader++)); do
    order_list "$expected_dir/files" "$reader" >"$lists_dir/files.$reader"
    order_list "$expected_dir/direct-files" "$reader" >"$lists_dir/direct.$reader"
    order_list "$expected_dir/range-list" "$reader" >"$lists_dir/ranges.$reader"
done
chmod 0644 -- "$lists_dir"/* || bail_out "chmod of the reader lists failed"

# The readers, run inside the container as: sh readers.sh LISTS OUT COUNT.
# Reader N writes its outputs to OUT/KIND.N and its errors to OUT/errors.N.
# The script exits with the number of readers that reported an error or
# were killed.
cat >"$lists_dir/readers.sh" <<'SCRIPT'
lists=$1 out=$2 count=$3
cd / || exit 1

# Wait until every reader has created its ready file, at most about 10 s.
wait_for_readers() {
    tries=0
    while :; do
        set -- "$out"/ready.*
        if [ -e "$1" ] && [ "$#" -ge "$count" ]; then
            return 0
        fi
        tries=$((tries + 1))
        if [ "$tries" -ge 1000 ]; then
            return 1
        fi
        sleep 0.01
    done
}

read_everything() {
    k=$1
    : >"$out/ready.$k"
    wait_for_readers || echo "reader $k: not every reader started within 10 s" >&2
    read -r uptime rest </proc/uptime
    echo "$uptime" >"$out/start.$k"

    # Batches of 200 names, not xargs: busybox 1.35 "xargs -0", run from
    # busybox sh, garbles some names of a list this long.
    set --
    while IFS= read -r path; do
        set -- "$@" "$path"
        if [ "$#" -ge 200 ]; then
            md5sum "$@" || echo "reader $k: md5sum failed" >&2
            set --
        fi
    done <"$lists/files.$k" >"$out/sums.$k"
    if [ "$#" -gt 0 ]; then
        md5sum "$@" >>"$out/sums.$k" || echo "reader $k: md5sum failed" >&2
    fi
    # O_DIRECT reads bypass the page cache, so every block goes to the
    # server, also when another reader has just read it. A failed read
    # shows as a wrong checksum.
    while IFS= read -r path; do
        sum=$(dd if="$path" iflag=direct bs=131072 2>/dev/null | md5sum)
        printf '%s  %s\n' "${sum%% *}" "$path"
    done <"$lists/direct.$k" >"$out/direct.$k"
    # O_DIRECT reads of ranges that start and end inside blocks, which
    # reads through the page cache never ask for.
    while read -r path offset length; do
        sum=$(dd if="$path" iflag=direct,skip_bytes,count_bytes skip="$offset" \
            count="$length" bs=65536 2>/dev/null | md5sum)
        printf '%s  %s %s %s\n' "${sum%% *}" "$path" "$offset" "$length"
    done <"$lists/ranges.$k" >"$out/ranges.$k"
    find data ! -type d -exec stat -c '%s %f %h %i %n' {} + >"$out/stat.$k" ||
        echo "reader $k: stat of the files failed" >&2
    find data -type d -exec stat -c '%f %h %n' {} + >"$out/dirstat.$k" ||
        echo "reader $k: stat of the directories failed" >&2
    find data -type l | while IFS= read -r path; do
        printf '%s -> %s\n' "$path" "$(readlink "$path")"
    done >"$out/links.$k"
    for i in 1 2 3; do
        find data/wide -mindepth 1 -maxdepth 1 ||
            echo "reader $k: listing data/wide failed" >&2
    done >"$out/wide.$k"

    read -r uptime rest </proc/uptime
    echo "$uptime" >"$out/end.$k"
    [ ! -s "$out/errors.$k" ]
}

pids=
k=0
while [ "$k" -lt "$count" ]; do
    read_everything "$k" >"$out/errors.$k" 2>&1 &
    pids="$pids $!"
    k=$((k + 1))
done
failed=0
for pid in $pids; do
    wait "$pid" || failed=$((failed + 1))
done
exit "$failed"
SCRIPT
chmod 0644 -- "$lists_dir/readers.sh" || bail_out "chmod of readers.sh failed"

# make_image NAME MKSQUASHFS_OPTION...: pack the tree into
# images_dir/NAME.sqfs and print its path.
make_image() {
    local name=$1 image
    shift
    image=$images_dir/$name.sqfs
    mksquashfs "$tree" "$image" "$@" -all-root -no-xattrs -noappend \
        -quiet -no-progress >&2 &&
        chmod 0644 -- "$image" || return 1
    printf '%s\n' "$image"
}

# The compressions that this build of libsquashfuse reads, from the error
# message for an unknown compression id, which image.sh checks.
unknown=$(unknown_compression_image "$TEST_TMPDIR" 9) || bail_out "unknown_compression_image failed"
run_launch "$unknown" -- /bin/true
supported=$(sed -n 's/.*this build of libsquashfuse supports: \(.*\); rebuild .*/\1/p' <<<"$RUN_STDERR")
if [[ -z $supported ]]; then
    bail_out "cannot read the supported compressions from: $RUN_STDERR"
fi
rm -f -- "$unknown"

# compression_supported NAME: whether mksquashfs and libsquashfuse both
# have compression NAME.
compression_supported() {
    [[ ", $supported, " == *", $1, "* ]] &&
        mksquashfs -help 2>&1 | grep -q -E "^[[:space:]]+$1( |$)"
}

# parse_server_line: set SERVER_LINE to the lines of the last run's stderr
# that match SERVER_LINE_PATTERN, and SERVER_THREADS, SERVER_REQUESTS,
# SERVER_BYTES and SERVER_CPU to the fields of the first one, or empty.
# Other "image server:" lines, such as the read-ahead count, are ignored.
parse_server_line() {
    local line
    SERVER_LINE=$(grep -E -- "$SERVER_LINE_PATTERN" <<<"$RUN_STDERR")
    SERVER_THREADS='' SERVER_REQUESTS='' SERVER_BYTES='' SERVER_CPU=''
    line=$(head -n 1 <<<"$SERVER_LINE")
    if [[ $line =~ $SERVER_LINE_PATTERN ]]; then
        SERVER_THREADS=${BASH_REMATCH[1]}
        SERVER_REQUESTS=${BASH_REMATCH[2]}
        SERVER_BYTES=${BASH_REMATCH[3]}
        SERVER_CPU=${BASH_REMATCH[4]}
    fi
}

# check_server_line CASE MIN MAX: check that the last run printed the
# server line once and that between MIN and MAX threads served requests.
check_server_line() {
    local case=$1 min=$2 max=$3 count
    parse_server_line
    count=$(grep -c . <<<"$SERVER_LINE")
    diag "$case: ${SERVER_LINE#*: }"
    is "$count" 1 "$case: server line printed once" || diag_run
    if [[ $min -eq $max ]]; then
        is "$SERVER_THREADS" "$min" "$case: $min threads served"
    else
        [[ $SERVER_THREADS =~ ^[0-9]+$ ]] && ((SERVER_THREADS >= min && SERVER_THREADS <= max))
        ok $? "$case: $min to $max threads served" ||
            tap_diag_value 'server line' "$SERVER_LINE"
    fi
    [[ $SERVER_REQUESTS =~ ^[0-9]+$ ]] && ((SERVER_REQUESTS > 0))
    ok $? "$case: requests counted" ||
        tap_diag_value 'server line' "$SERVER_LINE"
    awk -v cpu="$SERVER_CPU" 'BEGIN { exit !(cpu != "" && cpu + 0 > 0) }'
    ok $? "$case: CPU time counted" ||
        tap_diag_value 'server line' "$SERVER_LINE"
}

# check_reader_outputs CASE OUT KIND EXPECTED [FILTER]: check that
# OUT/KIND.N of every reader, passed through FILTER (default cat) and
# sorted, equals the file EXPECTED. Reports the first differing lines of
# each failed reader.
check_reader_outputs() {
    local case=$1 out=$2 kind=$3 expected=$4 filter=${5:-cat} reader file report=''
    for ((reader = 0; reader < READERS; reader++)); do
        file=$out/$kind.$reader
        if [[ ! -f $file ]]; then
            report+="reader $reader: $file is missing"$'\n'
            continue
        fi
        if ! "$filter" "$file" | LC_ALL=C sort | cmp -s - "$expected"; then
            report+="reader $reader: $kind differs from the host (< host, > container):"$'\n'
            report+=$("$filter" "$file" | LC_ALL=C sort | diff -- "$expected" - | head -n 8)$'\n'
        fi
    done
    if [[ -z $report ]]; then
        pass "$case: $kind match the host"
    else
        fail "$case: $kind match the host" "$report"
    fi
}

# slug TEXT: TEXT with every character but letters, digits and - replaced
# by _, for directory names.
slug() {
    printf '%s\n' "${1//[^A-Za-z0-9-]/_}"
}

# run_readers CACHE OUT [OPTION]... IMAGE: run launch with OPTIONs on IMAGE
# through `run`, with the block cache in the directory CACHE, and READERS
# readers inside that write to the directory OUT.
run_readers() {
    local cache=$1 out=$2
    shift 2
    run as_user env "LAUNCH_CACHE_DIR=$cache" "$LAUNCH" "$@" -- \
        /bin/sh "$lists_dir/readers.sh" "$lists_dir" "$out" "$READERS"
}

# check_launch_status CASE: check that the last run exited 0.
check_launch_status() {
    is "$RUN_STATUS" 0 "$1: readers exit 0" || {
        diag_run
        if [[ $RUN_STATUS -eq 124 || $RUN_STATUS -eq 137 ]]; then
            diag "timed out after ${LAUNCH_TEST_TIMEOUT} s: the server may be deadlocked"
        fi
    }
}

# check_overlap CASE OUT...: check that every reader in the directories
# OUT started before any of them ended, so at some instant all of them were
# reading.
check_overlap() {
    local case=$1 latest_start earliest_end
    shift
    latest_start=$(for out in "$@"; do cat -- "$out"/start.*; done 2>/dev/null | sort -g | tail -n 1)
    earliest_end=$(for out in "$@"; do cat -- "$out"/end.*; done 2>/dev/null | sort -g | head -n 1)
    awk -v start="$latest_start" -v end="$earliest_end" \
        'BEGIN { exit !(start != "" && end != "" && start + 0 < end + 0) }'
    ok $? "$case: readers overlap in time" ||
        diag "latest start: '$latest_start', earliest end: '$earliest_end' (s of uptime)"
}

# check_readers CASE OUT: check the outputs of the readers in the directory
# OUT against the host's.
check_readers() {
    local case=$1 out=$2 reader report=''
    for ((reader = 0; reader < READERS; reader++)); do
        if [[ -s $out/errors.$reader ]]; then
            report+="reader $reader: $(cat -- "$out/errors.$reader")"$'\n'
        fi
    done
    is "$report" "" "$case: readers print no error"

    check_reader_outputs "$case" "$out" sums "$expected_dir/sums"
    check_reader_outputs "$case" "$out" direct "$expected_dir/direct"
    check_reader_outputs "$case" "$out" ranges "$expected_dir/ranges"
    check_reader_outputs "$case" "$out" stat "$expected_dir/stat" strip_inodes
    check_reader_outputs "$case" "$out" dirstat "$expected_dir/dirstat"
    check_reader_outputs "$case" "$out" links "$expected_dir/links"
    check_reader_outputs "$case" "$out" wide "$expected_dir/wide"

    # Each reader looks the files up on its own, so different server
    # threads reply, but a file must keep one inode number.
    report=''
    if [[ -f $out/stat.0 ]]; then
        LC_ALL=C sort -- "$out/stat.0" >"$out/stat-reference"
    else
        : >"$out/stat-reference"
    fi
    hard_link_groups "$out/stat-reference" >"$out/hard-links"
    for ((reader = 1; reader < READERS; reader++)); do
        if [[ ! -f $out/stat.$reader ]] ||
            ! LC_ALL=C sort -- "$out/stat.$reader" | cmp -s - "$out/stat-reference"; then
            report+="reader $reader: stat output (with inode numbers) differs from reader 0's"$'\n'
        fi
    done
    is "$report" "" "$case: inode numbers agree between readers"
    if cmp -s -- "$out/hard-links" "$expected_dir/hard-links"; then
        pass "$case: hard links match the host"
    else
        fail "$case: hard links match the host" \
            "$(diff -- "$expected_dir/hard-links" "$out/hard-links" | head -n 8)"
    fi
}

# check_parallel_readers CASE IMAGE MIN_THREADS MAX_THREADS [OPTION]...:
# run READERS readers in IMAGE with launch -v and OPTIONs, with a new
# block cache unless CACHE is set to a directory, and check their outputs
# and the server line. Runs PARALLEL_CHECKS checks.
check_parallel_readers() {
    local case=$1 image=$2 min=$3 max=$4 out cache
    shift 4
    out=$(make_user_dir "out-$(slug "$case")")
    cache=${CACHE:-$(make_user_dir "cache-$(slug "$case")")}
    run_readers "$cache" "$out" -v "$@" "$image"
    check_launch_status "$case"
    check_overlap "$case" "$out"
    check_readers "$case" "$out"
    check_server_line "$case" "$min" "$max"
}

cpus=$(getconf _NPROCESSORS_ONLN)
# A parallel load on several CPUs keeps more than one thread busy.
several=1
if ((cpus >= 2)); then
    several=2
fi
# The default of --fuse-threads that launch(1) documents: twice the online
# CPUs, at least 4 and at most 16.
default_threads=$((cpus * 2 < 4 ? 4 : cpus * 2 > 16 ? 16 : cpus * 2))

# gzip with 128 KiB blocks and fragments: default threads, one and eight.
gzip_image=$(make_image gzip -comp gzip) || bail_out "mksquashfs -comp gzip failed"
diag "$file_count files and symbolic links to read per reader, $READERS readers, $cpus CPUs"

check_parallel_readers "gzip default threads" "$gzip_image" 1 "$default_threads"
check_parallel_readers "gzip 1 thread" "$gzip_image" 1 1 --fuse-threads 1
check_parallel_readers "gzip 8 threads" "$gzip_image" "$several" 8 --fuse-threads 8

# The block cache holds the blocks that the last run decompressed, so this
# run reads them from it.
CACHE=$TEST_TMPDIR/cache-$(slug "gzip 8 threads") \
    check_parallel_readers "gzip warm cache 8 threads" "$gzip_image" "$several" 8 --fuse-threads 8
check_parallel_readers "gzip no cache 8 threads" "$gzip_image" "$several" 8 --fuse-threads 8 --no-cache

# Two launches of one image at the same time share one cold block cache,
# so each may read blocks that the other is writing.
case="gzip two launches"
first_out=$(make_user_dir "out-$(slug "$case")-first")
second_out=$(make_user_dir "out-$(slug "$case")-second")
shared_cache=$(make_user_dir "cache-$(slug "$case")")
as_user_background env "LAUNCH_CACHE_DIR=$shared_cache" "$LAUNCH" --fuse-threads 4 "$gzip_image" -- \
    /bin/sh "$lists_dir/readers.sh" "$lists_dir" "$first_out" "$READERS"
first_pid=$AS_USER_PID
run_readers "$shared_cache" "$second_out" --fuse-threads 4 "$gzip_image"
first_status=0
wait "$first_pid" || first_status=$?
is "$first_status" 0 "$case: first launch exits 0" || diag "$(cat -- "$TEST_TMPDIR/background.log")"
check_launch_status "$case second launch"
check_overlap "$case" "$first_out" "$second_out"
check_readers "$case first launch" "$first_out"
check_readers "$case second launch" "$second_out"

image=$(make_image gzip-no-fragments -comp gzip -no-fragments) ||
    bail_out "mksquashfs -no-fragments failed"
check_parallel_readers "gzip no fragments 8 threads" "$image" "$several" 8 --fuse-threads 8

image=$(make_image gzip-4k -comp gzip -b 4096) || bail_out "mksquashfs -b 4096 failed"
check_parallel_readers "gzip 4 KiB blocks 8 threads" "$image" "$several" 8 --fuse-threads=8

# Other compressions, each with another packing and thread count.
for variant in "zstd tail ends|4|-comp zstd -tailends" \
    "xz 4 KiB blocks no fragments|3|-comp xz -b 4096 -no-fragments" \
    "lz4 uncompressed data|64|-comp lz4 -noD -noF"; do
    IFS='|' read -r case threads options <<<"$variant"
    compression=${case%% *}
    if ! compression_supported "$compression"; then
        skip "mksquashfs or libsquashfuse lacks $compression" "$PARALLEL_CHECKS"
        continue
    fi
    # shellcheck disable=SC2086 # options holds several words.
    image=$(make_image "${case// /-}" $options) || bail_out "mksquashfs $options failed"
    min=1
    if ((threads >= 2)); then
        min=$several
    fi
    check_parallel_readers "$case $threads threads" "$image" "$min" "$threads" --fuse-threads "$threads"
done

# The server counts the bytes that it returns: reading a file that no one
# has read in this mount yet makes it return at least the file's size,
# also when the block cache holds the file's blocks.
bytes_check_md5=$(cd "$tree" && md5sum -- "$BYTES_CHECK_FILE")
for threads in default 1 8; do
    options=()
    if [[ $threads != default ]]; then
        options=(--fuse-threads "$threads")
    fi
    run as_user env "LAUNCH_CACHE_DIR=$TEST_TMPDIR/cache-$(slug "gzip 8 threads")" "$LAUNCH" \
        -v "${options[@]}" "$gzip_image" -- /bin/sh -c "cd / && md5sum $BYTES_CHECK_FILE"
    case="bytes read, $threads threads"
    is "$RUN_STATUS" 0 "$case: md5sum exits 0" || diag_run
    is "$RUN_STDOUT" "$bytes_check_md5" "$case: md5sum matches the host"
    parse_server_line
    [[ $SERVER_BYTES =~ ^[0-9]+$ ]] && ((SERVER_BYTES >= BYTES_CHECK_SIZE))
    ok $? "$case: at least $BYTES_CHECK_SIZE counted" ||
        tap_diag_value 'server line' "$SERVER_LINE"
    if [[ $threads == 1 ]]; then
        is "$SERVER_THREADS" 1 "$case: 1 thread served"
    else
        max=${threads/default/$default_threads}
        [[ $SERVER_THREADS =~ ^[0-9]+$ ]] && ((SERVER_THREADS >= 1 && SERVER_THREADS <= max))
        ok $? "$case: 1 to $max threads served" ||
            tap_diag_value 'server line' "$SERVER_LINE"
    fi
done

# Without -v the server line is not printed.
run as_user env "LAUNCH_CACHE_DIR=$TEST_TMPDIR/cache-$(slug "gzip 8 threads")" "$LAUNCH" \
    --fuse-threads 2 "$gzip_image" -- /bin/md5sum "/$BYTES_CHECK_FILE"
is "$RUN_STATUS" 0 "no -v, 2 threads: exits 0" || diag_run
is "$RUN_STDERR" "" "no -v, 2 threads: nothing on stderr"

# Invalid thread counts: launch exits 125 and leaves nothing behind.
for value in 0 65 -1 abc '' 4x 8.0 4294967297 18446744073709551617; do
    for form in separate joined; do
        if [[ $form == separate ]]; then
            run_launch --fuse-threads "$value" "$gzip_image" -- /bin/true
        else
            run_launch "--fuse-threads=$value" "$gzip_image" -- /bin/true
        fi
        case="--fuse-threads '$value' ($form)"
        is "$RUN_STATUS" 125 "$case: exits 125"
        prefix="launch: error: invalid --fuse-threads value '$value': "
        [[ ${RUN_STDERR:0:${#prefix}} == "$prefix" ]]
        ok $? "$case: message names the value" || {
            tap_diag_value got "$RUN_STDERR"
            tap_diag_value 'prefix' "$prefix"
        }
        is "$RUN_STDOUT" "" "$case: nothing on stdout"
        check_nothing_left "$case"
    done
done

done_testing
