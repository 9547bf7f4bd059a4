# tests/sshd_config.sh - the sshd_config, and a free port, of the
# throwaway OpenSSH servers of the tests (tests/sshd.bash) and of the
# benchmark (tests/bench/sftp.sh).
# Sourced (POSIX sh).
#
# sshd_config PORT HOSTKEY AUTHORIZED_KEYS [PASSWORDS]: on stdout, a
# configuration for 127.0.0.1:PORT only, key authentication only (with
# PASSWORDS "yes", passwords too), internal-sftp, and the user running it
# allowed (root in CI: hence PermitRootLogin prohibit-password, and
# StrictModes no for keys under /tmp).
sshd_config() {
	cat <<CONF
Port $1
ListenAddress 127.0.0.1
HostKey $2
PidFile none
AuthorizedKeysFile $3
PubkeyAuthentication yes
PasswordAuthentication ${4:-no}
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
StrictModes no
UsePAM no
Subsystem sftp internal-sftp
CONF
}

# free_port: a TCP port of 127.0.0.1 that nothing listens on now (another
# may take it before the caller binds it: the caller retries).
free_port() {
	python3 -c 'import socket; s = socket.socket()
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
