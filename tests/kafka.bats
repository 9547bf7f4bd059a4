#!/usr/bin/env bats
# examples/kafka.sh: a Kafka topic into SQLite with kcat, the partitions'
# offsets in the load's STATE.  No broker can run here: a stand-in kcat
# (first on PATH) replays a recorded topic (tests/data/kafka, lines as
# `kcat -C -e -f '%p %o %s\n'` prints them), honoring -p and -o, and notes
# each command line it got in kcat.args.

bats_require_minimum_version 1.5.0
load helper

EX="$BATS_TEST_DIRNAME/../examples"
KAFKA="$BATS_TEST_DIRNAME/data/kafka"

setup() {
	sluice_setup jsonl-normalize schema-infer sqlite-load
	mkdir fakebin
	# The stand-in: -L lists the partitions of topic.log in kcat's format;
	# -C -p P -o OFFSET -e prints the lines of partition P from OFFSET
	# ("beginning": 0) on.  Anything else, -e missing among it (a real
	# kcat would wait for more), is an error.  KCAT_FAIL_PARTITION=P: on
	# partition P, one line, then exit 1, as a broker lost mid-way.
	cat > fakebin/kcat <<-'SH'
	#!/bin/bash
	printf '%s\n' "$*" >> "$PWD/kcat.args"
	mode= part= off= fmt= topic= end=
	while getopts 'CLb:t:p:o:eqf:F:' opt; do
		case $opt in
		C|L)	mode=$opt ;;
		t)	topic=$OPTARG ;;
		p)	part=$OPTARG ;;
		o)	off=$OPTARG ;;
		f)	fmt=$OPTARG ;;
		e)	end=1 ;;
		b|q|F)	;;
		*)	exit 1 ;;
		esac
	done
	[[ $topic == rides ]] || { echo "% ERROR: Topic $topic not in the recording" >&2; exit 1; }
	if [[ $mode == L ]]; then
		echo "Metadata for $topic (from broker 1: localhost:9092/1):"
		echo " 1 brokers:"
		echo "  broker 1 at localhost:9092 (controller)"
		echo " 1 topics:"
		echo "  topic \"$topic\" with 2 partitions:"
		echo "    partition 0, leader 1, replicas: 1, isrs: 1"
		echo "    partition 1, leader 1, replicas: 1, isrs: 1"
		exit 0
	fi
	[[ $mode == C && -n $end && $fmt == '%p %o %s\n' && $part =~ ^[0-9]+$ ]] || {
		echo "kcat stand-in: cannot replay: $*" >&2; exit 1; }
	[[ $off == beginning ]] && off=0
	[[ $off =~ ^[0-9]+$ ]] || { echo "kcat stand-in: offset $off" >&2; exit 1; }
	# KCAT_HANG=P: partition P waits for a broker that never answers.
	[[ ${KCAT_HANG:-} == "$part" ]] && exec sleep 60
	n=0
	while IFS= read -r line; do
		read -r p o _ <<< "$line"
		[[ $p == "$part" ]] && (( o >= off )) || continue
		printf '%s\n' "$line"
		if [[ ${KCAT_FAIL_PARTITION:-} == "$part" ]] && (( ++n == 1 )); then
			echo "% ERROR: Local: Broker transport failure" >&2
			exit 1
		fi
	done < "$PWD/topic.log"
	SH
	chmod +x fakebin/kcat
	PATH="$PWD/fakebin:$PATH"
	cp "$KAFKA/rides-1.kcat" topic.log
}

kafka() {
	run --separate-stderr bash "$EX/kafka.sh" localhost:9092 rides k.db "$BIN"
}

# offsets: the committed offsets, as kafka.sh reads them back.
offsets() {
	sqlite-load -q k.db --state-get bookmarks.rides.offsets
}

@test "kafka.sh: every partition from the beginning, each message a row with its partition and offset, the offsets in the load's STATE" {
	kafka
	assert_success
	assert_output '{"type":"STATE","value":{"bookmarks":{"rides":{"offsets":{"0":3,"1":2}}}}}'
	assert_equal "$(cat kcat.args)" "$(printf '%s\n' '-L -b localhost:9092 -t rides' \
	    '-C -b localhost:9092 -t rides -p 0 -o beginning -e -q -f %p %o %s\n' \
	    '-C -b localhost:9092 -t rides -p 1 -o beginning -e -q -f %p %o %s\n')"
	# Six rides: ride 1 twice in partition 0, the later one kept (merge).
	assert_equal "$(sql k.db 'SELECT id, _kafka_partition, _kafka_offset, fare__amount, trip_ref
	    FROM rides ORDER BY id')" "$(printf '%s\n' '1|0|3|14.0|9007199254740993' \
	    '2|1|0|7.25|9007199254740994' '3|0|1|30.0|9007199254740995' \
	    '4|1|1|18.4|9007199254740996' '5|0|2|9.9|9007199254740997' \
	    '6|1|2|22.0|9007199254740998')"
	assert_equal "$(sql k.db 'SELECT count(*) FROM rides__stops')" 8
	assert_equal "$(sql k.db 'SELECT place FROM rides__stops s JOIN rides r
	    ON s._sluice_parent_id = r._sluice_id WHERE r.id = 5')" 'Châtelet'
	# The offsets, read back as a re-run reads them.
	run -0 sqlite-load -q k.db --state-get bookmarks.rides.offsets.1
	assert_output 2
}

@test "kafka.sh: a re-run starts each partition after its committed offset and loads only the new messages; a third loads nothing" {
	kafka
	assert_success
	cat "$KAFKA/rides-2.kcat" >> topic.log
	: > kcat.args
	kafka
	assert_success
	assert_output '{"type":"STATE","value":{"bookmarks":{"rides":{"offsets":{"0":6,"1":4}}}}}'
	assert_equal "$(grep '^-C' kcat.args | sed 's/ -e -q.*//')" "$(printf '%s\n' \
	    '-C -b localhost:9092 -t rides -p 0 -o 4' '-C -b localhost:9092 -t rides -p 1 -o 3')"
	assert_stderr_line 'kafka.sh: 1 messages without a value (tombstones) passed'
	# Rides 7, 8, 9 new, ride 4 updated: no message loaded twice.
	assert_equal "$(sql k.db "SELECT json_extract(tables, '\$.rides.inserted') || '/' ||
	    json_extract(tables, '\$.rides.updated') FROM _sluice_loads
	    ORDER BY finished_at DESC LIMIT 1")" 3/1
	assert_equal "$(sql k.db 'SELECT count(*), count(DISTINCT id) FROM rides')" '9|9'
	assert_equal "$(sql k.db 'SELECT _kafka_partition, _kafka_offset, fare__amount FROM rides WHERE id = 4')" '1|4|19.0'
	assert_equal "$(offsets)" '{"0":6,"1":4}'
	# Nothing new: each partition asked from after its end, nothing loaded.
	dump k.db | grep -v '_sluice_loads' > before.sql
	: > kcat.args
	kafka
	assert_success
	assert_output ''
	assert_equal "$(grep '^-C' kcat.args | sed 's/ -e -q.*//')" "$(printf '%s\n' \
	    '-C -b localhost:9092 -t rides -p 0 -o 7' '-C -b localhost:9092 -t rides -p 1 -o 5')"
	dump k.db | grep -v '_sluice_loads' > after.sql
	assert_file_bytes after.sql before.sql
}

@test "kafka.sh: a broker lost mid-way (75) or a message that is not JSON (65) loads nothing and moves no offset; the next run loads each message once" {
	kafka
	assert_success
	cat "$KAFKA/rides-2.kcat" >> topic.log
	dump k.db > before.sql
	KCAT_FAIL_PARTITION=1 kafka
	assert_failure 75
	assert_stderr_line 'kafka.sh: kcat exited 1 on rides partition 1'
	dump k.db > after.sql
	assert_file_bytes after.sql before.sql
	# A broker that never answers: kcat is given KCAT_TIMEOUT.
	KCAT_HANG=1 KCAT_TIMEOUT=1 kafka
	assert_failure 75
	assert_stderr_line 'kafka.sh: kcat exited 124 on rides partition 1'
	dump k.db > after.sql
	assert_file_bytes after.sql before.sql
	# A message cut in two by its producer.
	printf '%s\n' '0 7 {"id":10,"fare":' >> topic.log
	kafka
	assert_failure 65
	assert_stderr_line 'kafka.sh: partition 0 offset 7: the message is not a JSON object on one line'
	dump k.db > after.sql
	assert_file_bytes after.sql before.sql
	# Once the bad message is gone (the producer's fix, here), the run
	# loads what the failed runs had read, once.
	sed -i '$d' topic.log
	kafka
	assert_success
	assert_equal "$(offsets)" '{"0":6,"1":4}'
	assert_equal "$(sql k.db 'SELECT count(*), count(DISTINCT id) FROM rides')" '9|9'
}

@test "kafka.sh: usage errors and a topic with no partitions" {
	run -64 --separate-stderr bash "$EX/kafka.sh" localhost:9092 rides
	assert_stderr 'usage: kafka.sh BROKERS TOPIC DB [BINDIR]'
	run -75 --separate-stderr bash "$EX/kafka.sh" localhost:9092 nosuch k.db "$BIN"
	assert_stderr_line 'kafka.sh: kcat -L failed for nosuch at localhost:9092'
	[[ ! -e k.db ]] || fail "a database was created"
}
