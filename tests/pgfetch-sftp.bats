bats_require_minimum_version 1.5.0
# pgfetch over SSH (issue 11 §1): sftp:// and scp:// sources against a
# real OpenSSH server on 127.0.0.1 (tests/sshd.bash): every file format,
# exactly once; the keys and known_hosts of $HOME/.ssh by default; the
# host key checked (77, nothing written); a missing file 66; a refused
# key 77; a connection cut mid-file resumed (each record once); secrets
# from the environment only, never shown; any other scheme a usage error.

load helper
load sshd

setup_file() {
	sshd_start
}

teardown_file() {
	sshd_stop
}

# What the password test adds to the machine goes, whatever happens.
teardown() {
	if [[ -n ${PW_PID:-} ]]; then
		kill "$PW_PID" 2>/dev/null
		wait "$PW_PID" 2>/dev/null
	fi
	[[ -z ${PW_USER:-} ]] || userdel "$PW_USER" 2>/dev/null
	[[ -z ${PW_DIR:-} ]] || rm -rf "$PW_DIR"
	PW_PID= PW_USER= PW_DIR=
}

setup() {
	sluice_setup pgfetch
	D="$(cd "$DATA/pgfetch" && pwd)"
	# libssh2 and pgfetch's defaults read $HOME: never the real one.
	export HOME=$BATS_TEST_TMPDIR/home
	mkdir -p "$HOME"
	unset SSH_AUTH_SOCK
	export USER=$SSH_USER
	KEYS=(--ssh-key "$SSH_KEY" --known-hosts "$SSH_KNOWN_HOSTS")
}

# same_as_local FILE ARG...: pgfetch over SFTP writes the bytes pgfetch
# writes for the local FILE, and nothing on stderr.
same_as_local() {
	local file=$1
	shift
	fetch_ok "$@" "$file"
	mv out local.out
	fetch_ok "$@" "${KEYS[@]}" "$SSH_URL$file"
	assert_file_bytes out local.out
	[[ -s out ]] || fail "no records from $file"
}

@test "sftp: JSON Lines, a JSON document, CSV and gzip read as local files are" {
	same_as_local "$D/records.jsonl"
	same_as_local "$D/items.json"
	same_as_local "$D/people.csv"
	same_as_local "$D/types.csv" --csv-types
	gzip -c "$D/records.jsonl" > "$BATS_TEST_TMPDIR/records.jsonl.gz"
	same_as_local "$BATS_TEST_TMPDIR/records.jsonl.gz"
	gzip -c "$D/people.csv" > "$BATS_TEST_TMPDIR/people.csv.gz"
	same_as_local "$BATS_TEST_TMPDIR/people.csv.gz"
}

@test "sftp: a large file streams, each record once, parsed on a thread of its own or not" {
	local n=200000 when
	seq 1 $n | awk '{printf "{\"id\":%d,\"pad\":\"%064d\"}\n", $1, $1}' \
	    > "$BATS_TEST_TMPDIR/big.jsonl"
	for when in always never; do
		fetch_ok --parse-thread "$when" "${KEYS[@]}" \
		    "$SSH_URL$BATS_TEST_TMPDIR/big.jsonl"
		cmp out "$BATS_TEST_TMPDIR/big.jsonl" || fail "$when: not the file's records"
	done
}

@test "sftp: the keys and known_hosts of \$HOME/.ssh by default, the user \$USER" {
	ssh_home "$HOME"
	fetch_ok "sftp://127.0.0.1:$SSH_PORT$D/records.jsonl"
	mv out got
	fetch_ok "$D/records.jsonl"
	assert_file_bytes got out
	# id_ed25519 first, as ssh(1) does; an id_rsa that does not exist
	# is no error.
	[[ ! -e $HOME/.ssh/id_rsa ]]
}

@test "scp: a file read over scp:// is the same" {
	fetch_ok "$D/records.jsonl"
	mv out local.out
	fetch_ok "${KEYS[@]}" "scp://$SSH_USER@127.0.0.1:$SSH_PORT$D/records.jsonl"
	assert_file_bytes out local.out
}

@test "sftp: a host key that does not match known_hosts: 77, nothing written" {
	ssh-keygen -q -t ed25519 -N '' -f other
	echo "[127.0.0.1]:$SSH_PORT $(cut -d' ' -f1,2 other.pub)" > kh
	run --separate-stderr pgfetch --ssh-key "$SSH_KEY" --known-hosts kh \
	    "$SSH_URL$D/records.jsonl"
	[ "$status" -eq 77 ]
	aborted 77
	assert_stderr_partial "host key does not match the one in kh"
}

@test "sftp: a host key not in known_hosts (or no known_hosts): 77" {
	: > kh
	run --separate-stderr pgfetch --ssh-key "$SSH_KEY" --known-hosts kh \
	    "$SSH_URL$D/records.jsonl"
	[ "$status" -eq 77 ]
	aborted 77
	assert_stderr_partial "host key is not in kh"
	run --separate-stderr pgfetch --ssh-key "$SSH_KEY" \
	    "$SSH_URL$D/records.jsonl"
	[ "$status" -eq 77 ]
	aborted 77
	assert_stderr_partial "host key is not in $HOME/.ssh/known_hosts"
}

@test "sftp: --insecure skips the host key check and says so" {
	: > kh
	run --separate-stderr pgfetch --insecure --ssh-key "$SSH_KEY" \
	    --known-hosts kh "$SSH_URL$D/records.jsonl"
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq "$(grep -c . "$D/records.jsonl")" ]
	assert_stderr_partial "not checked"
}

@test "sftp: a missing remote file is 66, a refused key 77" {
	run --separate-stderr pgfetch "${KEYS[@]}" "$SSH_URL$D/no-such.jsonl"
	[ "$status" -eq 66 ]
	aborted 66
	assert_stderr_partial "no-such.jsonl: no such file"
	ssh-keygen -q -t ed25519 -N '' -f stranger
	run --separate-stderr pgfetch --ssh-key stranger \
	    --known-hosts "$SSH_KNOWN_HOSTS" "$SSH_URL$D/records.jsonl"
	[ "$status" -eq 77 ]
	aborted 77
	assert_stderr_partial "authentication refused"
}

@test "sftp: a key with a passphrase from --ssh-passphrase-env; the passphrase is never shown" {
	local pass='pass-Phrase-7261'
	ssh-keygen -q -t ed25519 -N "$pass" -f locked
	cat locked.pub >> "$SSH_DIR/authorized_keys"
	SECRET_PASS=$pass run --separate-stderr pgfetch -v --ssh-key locked \
	    --ssh-passphrase-env SECRET_PASS --known-hosts "$SSH_KNOWN_HOSTS" \
	    "$SSH_URL$D/records.jsonl"
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq "$(grep -c . "$D/records.jsonl")" ]
	[[ $output != *"$pass"* && $stderr != *"$pass"* ]]
	# The wrong passphrase: the key does not open, 77.
	SECRET_PASS=wrong run --separate-stderr pgfetch --ssh-key locked \
	    --ssh-passphrase-env SECRET_PASS --known-hosts "$SSH_KNOWN_HOSTS" \
	    "$SSH_URL$D/records.jsonl"
	[ "$status" -eq 77 ]
	aborted 77
	# An unset variable is a usage error.
	run --separate-stderr pgfetch --ssh-key locked \
	    --ssh-passphrase-env NO_SUCH_VARIABLE_SET "$SSH_URL$D/records.jsonl"
	[ "$status" -eq 64 ]
}

@test "sftp: a connection cut mid-file resumes after the bytes taken: each record once" {
	local n=100000 port
	seq 1 $n | awk '{printf "{\"id\":%d,\"pad\":\"%048d\"}\n", $1, $1}' \
	    > "$BATS_TEST_TMPDIR/big.jsonl"
	python3 "$BATS_TEST_DIRNAME/cutproxy.py" --to "$SSH_PORT" \
	    --cut-after 1500000 --lifetime 120 > proxy.port 3>&- &
	local proxy=$! i
	for (( i = 0; i < 100; i++ )); do
		port=$(head -n 1 proxy.port 2>/dev/null)
		[[ $port =~ ^[0-9]+$ ]] && break
		sleep 0.1
	done
	[[ $port =~ ^[0-9]+$ ]] || fail "tests/cutproxy.py did not start"
	echo "[127.0.0.1]:$port $(cut -d' ' -f1,2 "$SSH_DIR/host_ed25519.pub")" \
	    > kh
	# The parse on its own thread: the reader's bytes decide the resume.
	run --separate-stderr timeout 60 pgfetch -v --stats stats.json \
	    --parse-thread always \
	    --retries 3 --backoff-base 0.1 --ssh-key "$SSH_KEY" --known-hosts kh \
	    "sftp://$SSH_USER@127.0.0.1:$port$BATS_TEST_TMPDIR/big.jsonl"
	kill "$proxy" 2>/dev/null || true
	[ "$status" -eq 0 ] || fail "exit $status: $stderr"
	[ "${#lines[@]}" -eq "$n" ]
	printf '%s\n' "${lines[@]}" | cmp - "$BATS_TEST_TMPDIR/big.jsonl"
	# It was cut and retried once; the retry resumed where the cut was:
	# the bytes that came over both connections are the file's, once.
	[ "$(grep -c "GET sftp.* -> .*Error" <<< "$stderr")" -eq 1 ] ||
	    fail "not cut: $stderr"
	[ "$(grep -c "GET sftp.* -> ok ($(wc -c < "$BATS_TEST_TMPDIR/big.jsonl") bytes" \
	    <<< "$stderr")" -eq 1 ] || fail "not resumed: $stderr"
	assert_equal "$(jq -c '[.requests, .retries, .bytes]' stats.json)" \
	    "[2,1,$(wc -c < "$BATS_TEST_TMPDIR/big.jsonl")]"
}

@test "sftp: secrets in the environment never reach argv, messages or output" {
	local pw='pw-Secret-55123'
	SSH_PW=$pw run --separate-stderr pgfetch --ssh-password-env SSH_PW \
	    --ssh-key "$SSH_KEY" --known-hosts "$SSH_KNOWN_HOSTS" \
	    "$SSH_URL$D/no-such.jsonl"
	[ "$status" -eq 66 ]
	[[ $stderr != *"$pw"* && $output != *"$pw"* ]]
}

@test "an unknown scheme is a usage error, never a local path" {
	run --separate-stderr pgfetch "ftp://127.0.0.1/x.jsonl"
	[ "$status" -eq 64 ]
	assert_stderr_partial "ftp"
	run --separate-stderr pgfetch "foo+bar://x/y"
	[ "$status" -eq 64 ]
}

@test "pgfetch(1): the examples of Files over SSH run against the server" {
	local cmd n=0 here
	sluice_setup pgfetch sqlite-load
	here=$PWD
	ssh_home "$HOME"
	mkdir exports
	cp "$D/trips.csv" exports/trips.csv
	printf 'id,total\n1,10\n' > exports/orders_1.csv
	printf 'id,total\n2,20\n' > exports/orders_2.csv
	ssh-keygen -q -t ed25519 -N 'partner-pass' -f partner_key
	cat partner_key.pub >> "$SSH_DIR/authorized_keys"
	export KEY_PASS=partner-pass
	while IFS= read -r cmd; do
		n=$((n + 1))
		# The partner's server is this one; its exports are here.
		cmd=${cmd//partner@sftp.example.com\/exports/$SSH_USER@127.0.0.1:$SSH_PORT$here/exports}
		run bash -o pipefail -c "$cmd" </dev/null
		[[ $status -eq 0 ]] || fail "example $n exited $status: $cmd
$output"
		if [[ $cmd == *orders* ]]; then
			assert_equal "$(sql partner.db 'SELECT id, total, file_name FROM orders ORDER BY id')" \
			    "$(printf '%s\n' \
			    "1|10|sftp://127.0.0.1:$SSH_PORT$here/exports/orders_1.csv" \
			    "2|20|sftp://127.0.0.1:$SSH_PORT$here/exports/orders_2.csv")"
			# The next night: nothing new, nothing loaded twice.
			run bash -o pipefail -c "$cmd" </dev/null
			[ "$status" -eq 0 ]
			assert_equal "$(sql partner.db 'SELECT count(*) FROM orders')" 2
		else
			assert_equal "$(sql partner.db 'SELECT trip_id, passengers, fare, paid FROM trips ORDER BY trip_id')" \
			    "$(printf '%s\n' '1|1|23.5|1' '2|3|41.0|0' '3|2||')"
		fi
		rm partner.db
	done < <(man_examples pgfetch.1 "Files over SSH")
	[ "$n" -eq 3 ]
}

@test "sftp: with no key file, the keys of ssh-agent" {
	local agent
	mkdir -p "$HOME/.ssh"
	cp "$SSH_KNOWN_HOSTS" "$HOME/.ssh/known_hosts"
	eval "$(ssh-agent -s)" > /dev/null
	agent=$SSH_AGENT_PID
	ssh-add -q "$SSH_KEY" 2>/dev/null
	run --separate-stderr pgfetch "$SSH_URL$D/records.jsonl"
	SSH_AGENT_PID=$agent ssh-agent -k > /dev/null
	[ "$status" -eq 0 ] || fail "exit $status: $stderr"
	[ "${#lines[@]}" -eq "$(grep -c . "$D/records.jsonl")" ]
	# The agent gone, no key is left: refused.
	unset SSH_AUTH_SOCK
	run --separate-stderr pgfetch "$SSH_URL$D/records.jsonl"
	[ "$status" -eq 77 ]
	aborted 77
	assert_stderr_partial "authentication refused"
}

@test "sftp: a glob is matched against the server's listing, in name order, with --file-column" {
	local dir=$BATS_TEST_TMPDIR/exports
	mkdir -p "$dir"
	printf 'id,total\n2,20\n' | gzip -c > "$dir/orders_2024-02.csv.gz"
	printf 'id,total\n1,10\n' | gzip -c > "$dir/orders_2024-01.csv.gz"
	printf 'id,total\n3,30\n' | gzip -c > "$dir/orders_2024 03.csv.gz"
	printf 'id,total\n9,90\n' | gzip -c > "$dir/customers.csv.gz"
	printf 'id,total\n0,0\n' | gzip -c > "$dir/.orders_hidden.csv.gz"
	fetch_ok "${KEYS[@]}" --csv-types --file-column file \
	    "$SSH_URL$dir/orders_*.csv.gz"
	local at="sftp://127.0.0.1:$SSH_PORT$dir"
	printf '%s\n' \
	    "{\"id\":3,\"total\":30,\"file\":\"$at/orders_2024%2003.csv.gz\"}" \
	    "{\"id\":1,\"total\":10,\"file\":\"$at/orders_2024-01.csv.gz\"}" \
	    "{\"id\":2,\"total\":20,\"file\":\"$at/orders_2024-02.csv.gz\"}" > want
	assert_file_bytes out want
	# Nothing matches: 66.
	run --separate-stderr pgfetch "${KEYS[@]}" "$SSH_URL$dir/invoices_*.csv"
	[ "$status" -eq 66 ]
	aborted 66
	assert_stderr_partial "invoices_*.csv: no file matches"
}

@test "sftp: a local file and a remote one in one call, as one stream" {
	fetch_ok "$D/records.jsonl" "$D/people.csv"
	mv out want
	fetch_ok "${KEYS[@]}" "$D/records.jsonl" "$SSH_URL$D/people.csv"
	assert_file_bytes out want
}

@test "sftp: an incremental file set: the server's modification times, three runs" {
	local dir=$BATS_TEST_TMPDIR/drop run_
	sluice_setup pgfetch sqlite-load
	mkdir -p "$dir"
	printf '{"id":1}\n' > "$dir/orders_1.jsonl"
	touch -d @1700000100 "$dir/orders_1.jsonl"
	printf '{"id":2}\n' > "$dir/orders_2.jsonl"
	touch -d @1700000200 "$dir/orders_2.jsonl"
	run_() {
		pgfetch -m -s orders --state-from db "${KEYS[@]}" \
		    "$SSH_URL$dir/orders_*.jsonl" | sqlite-load db
	}
	run_ || fail "first run failed"
	assert_equal "$(sql db 'SELECT group_concat(id) FROM orders')" "1,2"
	assert_equal "$(sqlite-load db --state-get bookmarks.orders)" \
	    "{\"file_mtime\":1700000200,\"file_name\":\"sftp://127.0.0.1:$SSH_PORT$dir/orders_2.jsonl\"}"
	printf '{"id":3}\n' > "$dir/orders_3.jsonl"
	touch -d @1700000300 "$dir/orders_3.jsonl"
	run_ || fail "second run failed"
	assert_equal "$(sql db 'SELECT group_concat(id) FROM orders')" "1,2,3"
	run_ || fail "third run failed"
	assert_equal "$(sql db 'SELECT group_concat(id) FROM orders')" "1,2,3"
}

@test "examples/ssh.sh: extract there and load here, new files over SFTP, shards over two hosts" {
	local ex=$BATS_TEST_DIRNAME/../examples/ssh.sh
	sluice_setup pgfetch jsonl-normalize schema-infer sqlite-load
	mkdir drop
	printf '{"id":1}\n{"id":2}\n' > drop/orders_1.jsonl
	touch -d @1700000100 drop/orders_1.jsonl
	printf '{"id":3}\n' > drop/orders_2.jsonl
	touch -d @1700000200 drop/orders_2.jsonl
	export SSH_HOST=$SSH_USER@127.0.0.1 REMOTE_BIN=$BIN REMOTE_DIR=$PWD/drop
	run -0 --separate-stderr sh "$ex" "$BIN" ex.db
	assert_output --partial "orders: 3"
	assert_output --partial "sharded_orders: 3"
	assert_output --partial "remote_orders: 2"
	assert_equal "$(sql ex.db 'SELECT group_concat(id) FROM (SELECT id FROM sharded_orders ORDER BY id)')" "1,2,3"
	# The partner drops another file: the next run loads it alone.
	printf '{"id":4}\n' > drop/orders_3.jsonl
	touch -d @1700000300 drop/orders_3.jsonl
	run -0 --separate-stderr sh "$ex" "$BIN" ex.db
	assert_stderr_regex 'orders \+1 ~0 =0 -0 committed'
	assert_equal "$(sql ex.db 'SELECT group_concat(id) FROM orders')" "1,2,3,4"
	assert_equal "$(sql ex.db 'SELECT file_name FROM orders WHERE id = 4')" \
	    "sftp://127.0.0.1:$SSH_PORT$PWD/drop/orders_3.jsonl"
	assert_equal "$(sql ex.db 'SELECT count(*) FROM sharded_orders')" 4
	assert_equal "$(sql ex.db 'SELECT count(*) FROM remote_orders')" 2
}

@test "sftp: a password from --ssh-password-env, for a server that takes one; a wrong one is 77" {
	local pw='Pw-sftp-61077' port i
	[[ $(id -u) -eq 0 ]] || skip "needs root, to add a user with a password"
	command -v useradd > /dev/null || skip "no useradd"
	PW_DIR=$(mktemp -d /tmp/sluice-pw.XXXXXX)
	chmod 755 "$PW_DIR"
	cp "$D/records.jsonl" "$PW_DIR/"
	chmod 644 "$PW_DIR/records.jsonl"
	useradd -M -d "$PW_DIR" -s /bin/sh "sluicepw$$"
	PW_USER=sluicepw$$
	echo "$PW_USER:$pw" | chpasswd
	port=$(free_port)
	sshd_config "$port" "$SSH_DIR/host_ed25519" /dev/null yes > pw_config
	/usr/sbin/sshd -D -e -f pw_config 2> pw.log 3>&- &
	PW_PID=$!
	for (( i = 0; i < 50; i++ )); do
		(exec 7<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
		sleep 0.1
	done
	echo "[127.0.0.1]:$port $(cut -d' ' -f1,2 "$SSH_DIR/host_ed25519.pub")" > kh
	# No key in $HOME and no agent: the password alone lets it in.
	SFTP_PW=$pw run --separate-stderr pgfetch --ssh-password-env SFTP_PW \
	    --known-hosts kh "sftp://$PW_USER@127.0.0.1:$port$PW_DIR/records.jsonl"
	[ "$status" -eq 0 ] || fail "exit $status: $stderr"
	assert_equal "$output" "$(pgfetch "$D/records.jsonl")"
	[[ $stderr != *"$pw"* ]]
	SFTP_PW=wrong run --separate-stderr pgfetch --ssh-password-env SFTP_PW \
	    --known-hosts kh "sftp://$PW_USER@127.0.0.1:$port$PW_DIR/records.jsonl"
	[ "$status" -eq 77 ]
	aborted 77
	assert_stderr_partial "authentication refused (agent, password)"
}
