#!/usr/bin/env bash
# kafka.sh - a Kafka topic into SQLite, exactly once, with kcat(1).
#
# usage: kafka.sh BROKERS TOPIC DB [BINDIR]
#
#   BROKERS  the bootstrap brokers, host:port[,host:port...]
#   TOPIC    the topic; its messages are JSON objects, one a line
#   DB       the SQLite database (created on the first run)
#   BINDIR   where jsonl-normalize, schema-infer and sqlite-load are
#            (default: ../bin, relative to this script)
#
# Each partition of TOPIC is read with
#
#   kcat -C -b BROKERS -t TOPIC -p P -o OFFSET -e -q -f '%p %o %s\n'
#
# from the offset after the last one loaded (from the beginning the first
# time) to its end at the time (-e), and the messages go through
# jsonl-normalize | schema-infer | sqlite-load -m merge into the table TOPIC,
# keyed on the message's "id", each row with the columns _kafka_partition
# and _kafka_offset.  The last offset read of each partition is the load's
# STATE, {"bookmarks":{TOPIC:{"offsets":{P:OFFSET}}}}, committed in the
# same transaction as the rows: a run loads each message once, and a run
# that fails (bad data, a broker gone) loads nothing and moves no offset,
# so the next run reads the same messages again.  Run it from cron, a
# systemd timer or an Airflow task to load what arrived since:
#
#   sqlite-load DB --state-get bookmarks.TOPIC.offsets.0     # partition 0
#
# The offsets live in the database, not in a consumer group: there is no
# commit to Kafka that could disagree with what was loaded.  Run one at a
# time per database (two would read the same offsets: their merges give the
# same rows, at twice the work); from cron, `flock DB.lock kafka.sh ...`.
#
# Environment:
#   STREAM       the table (default: TOPIC)
#   KEY          the key of the messages (default: id)
#   KCAT         the kcat program (default: kcat; kafkacat on old systems)
#   KCAT_CONFIG  a librdkafka properties file for kcat -F: TLS, SASL user
#                and password.  Secrets go there, never on a command line.
#   KCAT_TIMEOUT the longest one kcat may run, as for timeout(1) (10m, 1h);
#                kcat waits for a broker that is down, forever by default
#                (0).  A kcat that runs out of time is a failed kcat (75).
#
# A message that is not a JSON object on one line is bad data: the run
# stops with 65 and loads nothing.  A message with no value (a tombstone of
# a compacted topic) is counted on the standard error and loads nothing;
# its offset is passed.
#
# The standard output is the STATE line of the offsets committed (nothing
# when the topic had nothing new); sqlite-load's summary goes to the
# standard error.
#
# Exit status: 0 loaded (perhaps nothing new); 64 usage; 65 bad data;
# 69 a program or the topic is missing; 75 kcat failed (a broker down):
# try again; otherwise the status of the sluice program that failed.

set -euo pipefail

usage() {
	echo "usage: kafka.sh BROKERS TOPIC DB [BINDIR]" >&2
	exit 64
}
[[ $# -ge 3 && $# -le 4 ]] || usage
brokers=$1 topic=$2 db=$3
here=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
bin=${4:-$here/../bin}
stream=${STREAM:-$topic}
key=${KEY:-id}
kcat=${KCAT:-kcat}
[[ -n $brokers && -n $topic && -n $db ]] || usage

for prog in jsonl-normalize schema-infer sqlite-load; do
	if [[ ! -x $bin/$prog ]]; then
		echo "kafka.sh: $bin/$prog: not found; run make first" >&2
		exit 69
	fi
done
if ! command -v "$kcat" > /dev/null 2>&1; then
	echo "kafka.sh: $kcat: not found; apt-get install kcat" >&2
	exit 69
fi

kcat_args=(-b "$brokers")
if [[ -n ${KCAT_CONFIG:-} ]]; then
	kcat_args+=(-F "$KCAT_CONFIG")
fi

# The topic's partitions, from its metadata ("    partition 0, leader 1, ...").
metadata=$(timeout "${KCAT_TIMEOUT:-0}" "$kcat" -L "${kcat_args[@]}" -t "$topic") || {
	echo "kafka.sh: kcat -L failed for $topic at $brokers" >&2
	exit 75
}
partitions=$(awk '$1 == "partition" { sub(/,$/, "", $2); print $2 }' <<< "$metadata")
if [[ -z $partitions ]]; then
	echo "kafka.sh: topic $topic: no partitions at $brokers" >&2
	exit 69
fi

# consume: each partition from the offset after the one loaded last, as
# kcat's "PARTITION OFFSET MESSAGE" lines.  A kcat that fails ends the
# stream with a SLUICE_ABORT line, so that nothing of the run is loaded.
consume() {
	local p last start st
	for p in $partitions; do
		st=0
		last=$("$bin/sqlite-load" -q "$db" --state-get "bookmarks.$stream.offsets.$p") || st=$?
		if [[ $st -ne 0 ]]; then
			printf '{"type":"SLUICE_ABORT","program":"kafka.sh","status":%d,"error":"cannot read the offsets in the database"}\n' "$st"
			return "$st"
		fi
		if [[ -n $last ]]; then
			start=$(( last + 1 ))
		else
			start=beginning
		fi
		echo "kafka.sh: $topic partition $p from offset $start" >&2
		st=0
		timeout "${KCAT_TIMEOUT:-0}" "$kcat" -C "${kcat_args[@]}" -t "$topic" -p "$p" -o "$start" -e -q \
		    -f '%p %o %s\n' || st=$?
		if [[ $st -ne 0 ]]; then
			printf '{"type":"SLUICE_ABORT","program":"kcat","status":75,"error":"kcat exited %d on %s partition %s"}\n' \
			    "$st" "$topic" "$p"
			echo "kafka.sh: kcat exited $st on $topic partition $p" >&2
			return 75
		fi
	done
}

# records: each message as a record with _kafka_partition and _kafka_offset
# as its last members (so that they win over members of the same name), the
# message's own text kept byte for byte (numbers are not rounded); at the
# end, the STATE with the last offset of each partition read.  A line that
# is no message makes a SLUICE_ABORT.
records() {
	awk -v stream="$stream" '
	function abort(why) {
		gsub(/["\\]/, "", why)
		printf "{\"type\":\"SLUICE_ABORT\",\"program\":\"kafka.sh\",\"status\":65,\"error\":\"%s\"}\n", why
		printf "kafka.sh: %s\n", why > "/dev/stderr"
		status = 65
		exit status
	}
	/^[{]"type":"SLUICE_ABORT"/ {
		print
		status = 75
		if (match($0, /"status":[0-9]+/))
			status = substr($0, RSTART + 9, RLENGTH - 9)
		exit status
	}
	{
		if (!match($0, /^[0-9]+ [0-9]+ /))
			abort("kcat output line " NR ": not PARTITION OFFSET MESSAGE")
		p = $1; o = $2; msg = substr($0, RLENGTH + 1)
		if (!(p in last))
			order[n++] = p
		last[p] = o
		if (msg ~ /^[ \t\r]*$/) {
			tombstones++
			next
		}
		if (msg !~ /^[ \t]*[{].*[}][ \t\r]*$/)
			abort("partition " p " offset " o ": the message is not a JSON object on one line")
		sub(/[}][ \t\r]*$/, "", msg)
		sep = (msg ~ /^[ \t]*[{][ \t]*$/) ? "" : ","
		printf "%s%s\"_kafka_partition\":%s,\"_kafka_offset\":%s}\n", msg, sep, p, o
	}
	END {
		if (status)
			exit status
		if (tombstones)
			printf "kafka.sh: %d messages without a value (tombstones) passed\n", tombstones > "/dev/stderr"
		if (n == 0)
			exit 0
		gsub(/["\\]/, "", stream)
		printf "{\"type\":\"STATE\",\"value\":{\"bookmarks\":{\"%s\":{\"offsets\":{", stream
		for (i = 0; i < n; i++)
			printf "%s\"%s\":%s", (i ? "," : ""), order[i], last[order[i]]
		printf "}}}}}\n"
	}'
}

consume | records |
    "$bin/jsonl-normalize" -t "$stream" -k "$key" |
    "$bin/schema-infer" -q |
    "$bin/sqlite-load" -m merge "$db"
