# tests/sshd.bash - a real OpenSSH server for the bats files that test
# pgfetch over SFTP and SCP:
#
#	load helper
#	load sshd
#	setup_file() { sshd_start; }
#	teardown_file() { sshd_stop; }
#
# The server (Debian's openssh-server, installed by make deps) listens on
# 127.0.0.1 only, on a free port ($SSH_PORT), with a throwaway ed25519
# host key and user key under $BATS_FILE_TMPDIR/ssh: key authentication
# only, internal-sftp, the user running the tests (root in CI: hence
# PermitRootLogin prohibit-password and StrictModes no).
#
#	$SSH_DIR          the server's and the client's files
#	$SSH_USER         the user to log in as
#	$SSH_KEY          the user's private key (its .pub beside it)
#	$SSH_KNOWN_HOSTS  a known_hosts file that knows the server's key
#	$SSH_URL          sftp://USER@127.0.0.1:PORT (append an absolute path)
#
# ssh_home DIR makes DIR a $HOME whose .ssh holds the user key and the
# known_hosts, as a user's own would.

# shellcheck source=tests/sshd_config.sh
. "$BATS_TEST_DIRNAME/sshd_config.sh"

sshd_start() {
	local i tries port
	SSH_DIR=$BATS_FILE_TMPDIR/ssh
	SSH_USER=$(id -un)
	SSH_KEY=$SSH_DIR/id_ed25519
	SSH_KNOWN_HOSTS=$SSH_DIR/known_hosts
	mkdir -p "$SSH_DIR" /run/sshd
	rm -f "$SSH_DIR"/host_ed25519* "$SSH_KEY" "$SSH_KEY.pub"
	ssh-keygen -q -t ed25519 -N '' -C sluice-test-host \
	    -f "$SSH_DIR/host_ed25519" || return 1
	ssh-keygen -q -t ed25519 -N '' -C sluice-test-user -f "$SSH_KEY" ||
	    return 1
	cp "$SSH_KEY.pub" "$SSH_DIR/authorized_keys"
	chmod 600 "$SSH_DIR/authorized_keys"
	# A free port can be taken between the probe and sshd's bind: retry.
	for (( tries = 0; tries < 5; tries++ )); do
		port=$(free_port) || return 1
		sshd_config "$port" "$SSH_DIR/host_ed25519" \
		    "$SSH_DIR/authorized_keys" > "$SSH_DIR/sshd_config"
		/usr/sbin/sshd -D -e -f "$SSH_DIR/sshd_config" \
		    2> "$SSH_DIR/sshd.log" 3>&- &
		SSH_PID=$!
		for (( i = 0; i < 50; i++ )); do
			if (exec 7<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
				SSH_PORT=$port
				echo "[127.0.0.1]:$port $(cut -d' ' -f1,2 \
				    "$SSH_DIR/host_ed25519.pub")" > "$SSH_KNOWN_HOSTS"
				SSH_URL=sftp://$SSH_USER@127.0.0.1:$port
				export SSH_DIR SSH_USER SSH_KEY SSH_KNOWN_HOSTS \
				    SSH_PORT SSH_PID SSH_URL
				return 0
			fi
			kill -0 "$SSH_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill "$SSH_PID" 2>/dev/null
		wait "$SSH_PID" 2>/dev/null
	done
	echo "sshd did not start: $(cat "$SSH_DIR/sshd.log")" >&2
	return 1
}

sshd_stop() {
	[[ -n ${SSH_PID:-} ]] || return 0
	kill "$SSH_PID" 2>/dev/null
	wait "$SSH_PID" 2>/dev/null
	SSH_PID=
}

ssh_home() {
	mkdir -p "$1/.ssh"
	cp "$SSH_KEY" "$SSH_KEY.pub" "$1/.ssh/"
	cp "$SSH_KNOWN_HOSTS" "$1/.ssh/known_hosts"
	chmod 700 "$1/.ssh"
	chmod 600 "$1/.ssh/id_ed25519"
}
