#!/bin/sh
# Benchmark of pgfetch over SFTP, against a throwaway OpenSSH server on
# 127.0.0.1 and against curl(1) measured in the same run (issue 11):
#
#	sh tests/bench/sftp.sh [BIN_DIR]
#
# BIN_DIR holds pgfetch (default: ../../bin from here).
# Environment: BENCH_RUNS (5), BENCH_SFTP_ROWS (390000 rows of gen.c,
# about 200 MB), TMPDIR.
#
# One large JSON Lines file read over SFTP: pgfetch (parsing every record)
# vs `curl -s sftp://... > /dev/null` (moving the bytes only), both with
# the same key and host key check (target >= 0.8x curl's rate); pgfetch's
# peak RSS (target <= 64 MB: flat, whatever the file's size).  For
# reference: pgfetch with the parse on a thread of its own and on the
# transfer's (--parse-thread always and never; the default picks by the
# number of CPUs), the CPU the transfer costs at both ends (the server
# runs on this machine), and the rate of the parse.
#
# Figures are printed as ratios with their targets; a target missed prints
# "BELOW TARGET" but never fails the run.  Exit 1 only when a tool is
# missing or a command fails (or gives the wrong records).
#
# shellcheck disable=SC2154,SC2317

set -u
LC_ALL=C
export LC_ALL

here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
. "$here/../sshd_config.sh"
bindir=${1:-$here/../../bin}
runs=${BENCH_RUNS:-5}
rows=${BENCH_SFTP_ROWS:-390000}

missing=
[ -x /usr/sbin/sshd ] || missing="$missing openssh-server"
command -v ssh-keygen >/dev/null 2>&1 || missing="$missing openssh-client"
command -v curl >/dev/null 2>&1 || missing="$missing curl"
command -v python3 >/dev/null 2>&1 || missing="$missing python3"
[ -x /usr/bin/time ] || missing="$missing time"
command -v cc >/dev/null 2>&1 || missing="$missing gcc"
need_tools "$missing"
bindir=$(bin_dir "$bindir") || exit 1
pgfetch=$bindir/pgfetch
[ -x "$pgfetch" ] || die "$pgfetch: not found (run make first)"

bench_begin sftpbench

cc -O2 -o "$tmp/gen" "$here/gen.c" 2>>"$log" || fail "cannot build gen.c"

# --- the server ----------------------------------------------------------

ssh-keygen -q -t ed25519 -N '' -f "$tmp/host" 2>>"$log" &&
    ssh-keygen -q -t ed25519 -N '' -f "$tmp/key" 2>>"$log" ||
    fail "ssh-keygen failed"
cp "$tmp/key.pub" "$tmp/authorized_keys"
port=$(free_port) ||
    fail "no free port"
sshd_config "$port" "$tmp/host" "$tmp/authorized_keys" >"$tmp/sshd_config"
mkdir -p /run/sshd 2>/dev/null
/usr/sbin/sshd -D -e -f "$tmp/sshd_config" 2>>"$log" &
server_pid=$!
i=0
until python3 -c 'import socket, sys
socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' "$port" \
    2>/dev/null; do
	i=$((i + 1))
	[ "$i" -lt 50 ] || fail "sshd does not answer on port $port"
	kill -0 "$server_pid" 2>/dev/null || fail "sshd did not start"
	sleep 0.1
done
# Both clients check the host key: curl(1) reads ~/.ssh/known_hosts.
mkdir -p "$tmp/home/.ssh"
echo "[127.0.0.1]:$port $(cut -d ' ' -f 1,2 "$tmp/host.pub")" \
    >"$tmp/home/.ssh/known_hosts"
HOME=$tmp/home
export HOME
user=$(id -un)

big=$tmp/big.jsonl
say "generating $rows rows"
"$tmp/gen" "$rows" >"$big" || fail "gen failed"
bytes=$(wc -c <"$big" | tr -d ' ')
biglines=$(wc -l <"$big" | tr -d ' ')
cat "$big" >/dev/null	# Warm the page cache for everyone alike.
url=sftp://$user@127.0.0.1:$port$big

TIMEFMT='%U %S %M'
# pgsftp [OPTION...]: pgfetch reads the file over SFTP, timed into ru.
pgsftp() {
	/usr/bin/time -f "$TIMEFMT" -o "$tmp/ru" "$pgfetch" "$@" --ssh-key \
	    "$tmp/key" --known-hosts "$tmp/home/.ssh/known_hosts" "$url" \
	    >/dev/null 2>>"$log"
}
do_pgsftp() {
	pgsftp
}
do_pgsftp_two() {
	pgsftp --parse-thread always
}
do_pgsftp_one() {
	pgsftp --parse-thread never
}
do_curlsftp() {
	/usr/bin/time -f "$TIMEFMT" -o "$tmp/ru" curl -s --key "$tmp/key" \
	    --pubkey "$tmp/key.pub" "$url" >/dev/null 2>>"$log"
}
do_pglocal() {
	/usr/bin/time -f "$TIMEFMT" -o "$tmp/ru" "$pgfetch" "$big" \
	    >/dev/null 2>>"$log"
}

# In turn: this machine's speed drifts from one second to the next.
measure_alternating pgsftp curlsftp pgsftp_two pgsftp_one
measure pglocal

# server_cpu: the CPU ticks of the sshd sessions that have ended (the
# listener's reaped children, fields 16 and 17 of /proc/PID/stat).
server_cpu() {
	sed 's/.*) //' "/proc/$server_pid/stat" | awk '{ print $14 + $15 }'
}
# The transfer's CPU: curl's own and its sshd session's (other processes
# on the machine do not count).
say "measuring the CPU of curl's transfer, both ends"
s0=$(server_cpu)
do_curlsftp || fail "curl failed"
sleep 0.5	# the session ends and is reaped after curl leaves
s1=$(server_cpu)
curl_machine_cpu=$(tail -n 1 "$tmp/ru" | awk -v s="$((s1 - s0))" \
    -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", $1 + $2 + s / hz }')

# Not timed: every record arrives, as pgfetch writes them from the file.
say "checking pgfetch's records over SFTP"
"$pgfetch" --ssh-key "$tmp/key" --known-hosts "$tmp/home/.ssh/known_hosts" \
    "$url" >"$tmp/sftp.out" 2>>"$log" || fail "pgfetch failed on $url"
n=$(wc -l <"$tmp/sftp.out" | tr -d ' ')
[ "$n" = "$biglines" ] || fail "pgfetch wrote $n records over SFTP, not $biglines"
"$pgfetch" "$big" 2>>"$log" | cmp -s - "$tmp/sftp.out" ||
    fail "pgfetch's records over SFTP differ from the local file's"
rm -f "$tmp/sftp.out"

mb=$(calc '%.1f' "$bytes / 1e6")
row() {
	eval "ns=\$$2_ns cpus=\$$2_cpu rss=\$$2_rss"
	printf '  %-38s %8s %8s %8s %8s\n' "$1" \
	    "$(calc '%.2f' "$ns / 1e9")" \
	    "$(calc '%.1f' "$bytes / 1e6 / ($ns / 1e9)")" \
	    "$cpus" "$(calc '%.1f' "$rss / 1024")"
}
echo
echo "pgfetch over SFTP: $mb MB of JSON Lines (gen.c, $biglines rows), OpenSSH on 127.0.0.1, best of $runs"
echo "machine: $(nproc) CPUs; $(curl --version | head -n 1 | cut -d ' ' -f 1-2,5-)"
echo
printf '  %-38s %8s %8s %8s %8s\n' "" seconds MB/s "CPU s" "RSS MB"
ncpu=$(nproc)
if [ "$ncpu" -gt 2 ]; then
	chose="two threads"
else
	chose="one thread"
fi
row "pgfetch sftp://... ($chose)" pgsftp
row "curl -s sftp://... > /dev/null" curlsftp
row "pgfetch --parse-thread always" pgsftp_two
row "pgfetch --parse-thread never" pgsftp_one
row "pgfetch FILE (no SSH)" pglocal
echo "  (the same records over SFTP as from the file; the default picks"
echo "  a thread of its own for the parse with more than 2 CPUs)"
echo
echo "reference (no target): where the time goes"
printf '  %-44s %s of %s\n' "CPU s of curl's transfer (curl and sshd)" \
    "$curl_machine_cpu" "$(calc '%.2f' "$ncpu * $curlsftp_ns / 1e9")"
echo "  (of the CPU s the machine had in curl's time: the server shares it)"
printf '  %-44s %sx / %sx\n' "vs curl, the parse on two threads / one" \
    "$(calc '%.2f' "$curlsftp_ns / $pgsftp_two_ns")" \
    "$(calc '%.2f' "$curlsftp_ns / $pgsftp_one_ns")"
printf '  %-44s %s\n' "pgfetch's parse, MB per CPU s (FILE's)" \
    "$(calc '%.0f' "$bytes / 1e6 / $pglocal_cpu")"
echo "  (cmd/pgfetch/jfast: a line already as pgfetch writes it, or nearly, passes"
echo "  without a parse tree; target >= 400, that is <= 0.5 CPU s for 200 MB)"
echo
target "pgfetch vs curl -s, SFTP MB/s" \
    "$(calc '%.2f' "$curlsftp_ns / $pgsftp_ns")" '>=' 0.8 x
target "pgfetch peak RSS over SFTP, $mb MB" \
    "$(calc '%.1f' "$pgsftp_rss / 1024")" '<=' 64 " MB"
exit 0
