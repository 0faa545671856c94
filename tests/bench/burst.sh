#!/bin/sh
# Usage: burst.sh N COMMAND [ARG]...
# Start N copies of COMMAND at once, in the background, and wait for all of
# them. Exits with status 1 if any copy failed, else 0.
if [ "$#" -lt 2 ]; then
    echo "usage: burst.sh N COMMAND [ARG]..." >&2
    exit 2
fi
count=$1
shift
case $count in
'' | *[!0-9]* | 0 | 0*)
    echo "burst.sh: N must be a positive integer without leading zeros, got: $count" >&2
    exit 2
    ;;
esac

pids=
i=0
while [ "$i" -lt "$count" ]; do
    "$@" &
    pids="$pids $!"
    i=$((i + 1))
done

status=0
for pid in $pids; do
    wait "$pid" || status=1
done
exit "$status"
