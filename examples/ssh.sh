#!/bin/sh
# ssh.sh - sluice over SSH, the three ways a data engineer meets it:
#
#   a) the extraction runs on a remote host, the load here:
#        ssh HOST pgfetch FILE | jsonl-normalize | schema-infer | sqlite-load DB
#   b) a partner's drop directory pulled over SFTP with a glob, incrementally:
#      each run loads only the files that arrived since the last one (the
#      file bookmark commits with the rows);
#   c) one extraction sharded over several hosts with GNU parallel's
#      --sshlogin, each shard to a file of its own, then one loader (SQLite
#      has one writer).
#
# usage: ssh.sh [BINDIR [DB]]
#
#   BINDIR  where the sluice programs are here (default: ../bin, relative
#           to this script)
#   DB      the database to load (default: ssh.db); kept between runs, so
#           that a second run of b) loads only the new files
#
# The host, from the environment:
#   SSH_HOST         user@host (the two hosts of c) are this one twice)
#   SSH_PORT         its port (default 22)
#   SSH_KEY          the private key to log in with
#   SSH_KNOWN_HOSTS  a known_hosts file that holds the host's key
#   REMOTE_BIN       where pgfetch is on the host
#   REMOTE_DIR       the directory of the exports on the host: orders_*.jsonl

set -eu

here=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
bin=${1:-$here/../bin}
db=${2:-ssh.db}
: "${SSH_HOST:?user@host}" "${SSH_KEY:?the private key}"
: "${SSH_KNOWN_HOSTS:?a known_hosts file}" "${REMOTE_BIN:?pgfetch's directory on the host}"
: "${REMOTE_DIR:?the exports' directory on the host}"
port=${SSH_PORT:-22}

for prog in pgfetch jsonl-normalize schema-infer sqlite-load; do
	if [ ! -x "$bin/$prog" ]; then
		echo "ssh.sh: $bin/$prog: not found; run make first" >&2
		exit 69
	fi
done
for prog in ssh parallel sqlite3; do
	if ! command -v "$prog" >/dev/null 2>&1; then
		echo "ssh.sh: $prog: not found; apt-get install" \
		    "openssh-client parallel sqlite3" >&2
		exit 69
	fi
done
PATH=$bin:$PATH
export PATH

work=$(mktemp -d)
trap 'rm -rf -- "$work"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ssh as a batch job: the key given, the host key checked, no prompt.
sshcmd="ssh -p $port -i $SSH_KEY -o UserKnownHostsFile=$SSH_KNOWN_HOSTS -o StrictHostKeyChecking=yes -o BatchMode=yes"

echo "== a) extract there, load here"
set -x
$sshcmd "$SSH_HOST" "$REMOTE_BIN/pgfetch $REMOTE_DIR/orders_1.jsonl" |
    jsonl-normalize -t remote_orders -k id | schema-infer -q |
    sqlite-load "$db" -m merge
{ set +x; } 2>/dev/null

echo "== b) the new files of the drop directory, over SFTP"
set -x
pgfetch -m -s orders --state-from "$db" --file-column file_name \
    --ssh-key "$SSH_KEY" --known-hosts "$SSH_KNOWN_HOSTS" \
    "sftp://$SSH_HOST:$port$REMOTE_DIR/orders_*.jsonl" | sqlite-load "$db" -k id
{ set +x; } 2>/dev/null
echo "bookmark: $(sqlite-load "$db" --state-get bookmarks.orders)"

echo "== c) one shard a file, on two hosts at once, then one loader"
set -x
$sshcmd "$SSH_HOST" "ls $REMOTE_DIR/orders_*.jsonl" |
    parallel --will-cite --ssh "$sshcmd" -S "1/$SSH_HOST,1/$SSH_HOST" \
    --results "$work/shard_{#}.jsonl" "$REMOTE_BIN/pgfetch {}" > /dev/null
cat "$work"/shard_*.jsonl | jsonl-normalize -t sharded_orders -k id |
    schema-infer -q | sqlite-load "$db" -m merge
{ set +x; } 2>/dev/null

sqlite3 "$db" "SELECT 'orders: ' || count(*) FROM orders;
    SELECT 'sharded_orders: ' || count(*) FROM sharded_orders;
    SELECT 'remote_orders: ' || count(*) FROM remote_orders"
