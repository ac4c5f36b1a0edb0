# tests/sshd.bash - a private sshd for the remote-host suites.  Load it after
# helpers (`load helpers; load sshd`) and call sshd_start from setup_file and
# sshd_stop from teardown_file.
#
# sshd_start starts /usr/sbin/sshd on a free port on 127.0.0.1, 127.0.0.2 and
# 127.0.0.3 (the "remote hosts" are this machine under three addresses), with
# keys of its own made for the run, and writes an ssh_config that reaches it
# with no prompt and no other configuration.  It exports:
#   $SSHD_DIR     the folder holding the keys, config, log and pid file
#   $SSHD_PORT    the port
#   $SSH_CONFIG   the ssh_config; use `--ssh "ssh -F $SSH_CONFIG"`
#   $ALLOTER_SSH  that ssh command
#   $SSHD_SKIP    set to a reason when sshd could not be started: the tests
#                 call `sshd_require` first, which skips them with it.

SSHD_ADDRS=(127.0.0.1 127.0.0.2 127.0.0.3)

# _sshd_free_port : prints a TCP port that is free on every one of SSHD_ADDRS
# right now.
_sshd_free_port() {
	python3 - "${SSHD_ADDRS[@]}" <<'EOF'
import random, socket, sys
for _ in range(200):
    port = random.randint(20000, 60000)
    socks = []
    try:
        for a in sys.argv[1:]:
            s = socket.socket()
            socks.append(s)
            s.bind((a, port))
    except OSError:
        continue
    finally:
        for s in socks:
            s.close()
    print(port)
    sys.exit(0)
sys.exit("no free port found")
EOF
}

# _sshd_fail REASON : records why the remote tests cannot run.
_sshd_fail() {
	SSHD_SKIP=$1
	export SSHD_SKIP
	echo "sshd: $1" >&2
	return 0
}

sshd_start() {
	local d user port attempt a key ok why
	SSHD_SKIP=
	export SSHD_SKIP
	for a in /usr/sbin/sshd ssh ssh-keygen python3; do
		if ! command -v "$a" >/dev/null 2>&1; then
			_sshd_fail "$a is not installed (apt-get install openssh-server openssh-client)"
			return 0
		fi
	done
	SSHD_DIR="$BATS_FILE_TMPDIR/sshd"
	d=$SSHD_DIR
	mkdir -p "$d" || { _sshd_fail "cannot make $d"; return 0; }
	mkdir -p /run/sshd 2>/dev/null || true
	chmod 700 "$d"
	user=$(id -un)
	if ! ssh-keygen -q -t ed25519 -N '' -C alloter-test-host -f "$d/host_key" </dev/null ||
		! ssh-keygen -q -t ed25519 -N '' -C alloter-test-user -f "$d/user_key" </dev/null; then
		_sshd_fail "ssh-keygen failed"
		return 0
	fi
	cp "$d/user_key.pub" "$d/authorized_keys"
	chmod 600 "$d/authorized_keys" "$d/user_key" "$d/host_key"

	ok=
	why=
	for attempt in 1 2 3 4 5; do
		if ! port=$(_sshd_free_port 2>&1); then
			why="no port is free on all of ${SSHD_ADDRS[*]}: $port"
			continue
		fi
		{
			echo "Port $port"
			for a in "${SSHD_ADDRS[@]}"; do
				echo "ListenAddress $a"
			done
			echo "HostKey $d/host_key"
			echo "AuthorizedKeysFile $d/authorized_keys"
			echo "PidFile $d/sshd.pid"
			echo "PubkeyAuthentication yes"
			echo "PasswordAuthentication no"
			echo "KbdInteractiveAuthentication no"
			echo "UsePAM no"
			echo "StrictModes no"
			echo "PermitRootLogin prohibit-password"
			echo "AllowUsers $user"
			echo "UseDNS no"
			echo "LogLevel ERROR"
			echo "MaxStartups 30:30:100"
			echo "MaxSessions 100"
			echo "PrintMotd no"
			echo "PrintLastLog no"
			echo "Subsystem sftp internal-sftp"
		} >"$d/sshd_config"
		: >"$d/sshd.log"
		rm -f "$d/sshd.pid"
		if ! /usr/sbin/sshd -t -f "$d/sshd_config" 2>"$d/sshd.check"; then
			_sshd_fail "sshd rejects its config: $(head -c 400 "$d/sshd.check")"
			return 0
		fi
		# sshd daemonizes once its sockets are bound.
		if /usr/sbin/sshd -f "$d/sshd_config" -E "$d/sshd.log" </dev/null 3>&- &&
			_sshd_wait_pid; then
			ok=1
			break
		fi
		why="port $port: $(head -c 400 "$d/sshd.log")"
		sshd_stop
	done
	if [ -z "$ok" ]; then
		_sshd_fail "sshd did not start: $why"
		return 0
	fi
	SSHD_PORT=$port

	key=$(cut -d' ' -f1,2 "$d/host_key.pub")
	: >"$d/known_hosts"
	for a in "${SSHD_ADDRS[@]}"; do
		echo "[$a]:$port $key" >>"$d/known_hosts"
	done
	cat >"$d/ssh_config" <<EOF
Host *
	User $user
	Port $port
	IdentityFile $d/user_key
	IdentitiesOnly yes
	IdentityAgent none
	UserKnownHostsFile $d/known_hosts
	GlobalKnownHostsFile /dev/null
	StrictHostKeyChecking yes
	UpdateHostKeys no
	CheckHostIP no
	BatchMode yes
	PasswordAuthentication no
	KbdInteractiveAuthentication no
	GSSAPIAuthentication no
	ForwardAgent no
	ForwardX11 no
	ControlMaster no
	ControlPath none
	KexAlgorithms curve25519-sha256,curve25519-sha256@libssh.org
	ServerAliveInterval 5
	ServerAliveCountMax 3
EOF
	SSH_CONFIG="$d/ssh_config"
	ALLOTER_SSH="ssh -F $SSH_CONFIG"
	export SSHD_DIR SSHD_PORT SSH_CONFIG ALLOTER_SSH

	# Every address must answer, as this user, with no prompt.
	for a in "${SSHD_ADDRS[@]}"; do
		if ! timeout -s KILL 30 ssh -F "$SSH_CONFIG" -T "$a" true \
			</dev/null >"$d/probe.out" 2>&1 3>&-; then
			_sshd_fail "cannot log in to $a:$port: $(head -c 400 "$d/probe.out") $(head -c 400 "$d/sshd.log")"
			sshd_stop
			return 0
		fi
	done
}

# _sshd_wait_pid : waits up to 5 s for sshd's pid file and a live sshd.
_sshd_wait_pid() {
	local i pid
	for i in $(seq 50); do
		if [ -s "$SSHD_DIR/sshd.pid" ]; then
			pid=$(cat "$SSHD_DIR/sshd.pid")
			kill -0 "$pid" 2>/dev/null && return 0
		fi
		sleep 0.1
	done
	return 1
}

# sshd_stop : stops the listening sshd by its pid file, and the sessions it
# started that are still open.
sshd_stop() {
	local pid i
	[ -n "${SSHD_DIR:-}" ] && [ -s "$SSHD_DIR/sshd.pid" ] || return 0
	pid=$(cat "$SSHD_DIR/sshd.pid")
	[ -n "$pid" ] || return 0
	sshd_kill_sessions
	kill -TERM "$pid" 2>/dev/null || true
	for i in $(seq 30); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	rm -f "$SSHD_DIR/sshd.pid"
}

# sshd_require : skips the test, with the reason, when sshd is not running.
sshd_require() {
	if [ -n "${SSHD_SKIP:-}" ]; then
		skip "no test sshd: $SSHD_SKIP"
	fi
}

# sshd_sessions : lists ("pid ppid args") every process below the test sshd:
# its per-connection sshd processes and whatever the sessions run.  Empty
# means no connection is open and nothing runs "on the remote host".
sshd_sessions() {
	local root
	[ -n "${SSHD_DIR:-}" ] && [ -s "$SSHD_DIR/sshd.pid" ] || return 0
	root=$(cat "$SSHD_DIR/sshd.pid")
	ps -e -o pid=,ppid=,args= | awk -v root="$root" '
		{ par[$1] = $2; line[$1] = $0 }
		END {
			for (p in par) {
				q = par[p]
				for (n = 0; q != "" && q > 1 && n < 100; n++) {
					if (q == root) { print line[p]; break }
					q = par[q]
				}
			}
		}'
}

# ssh_clients : lists ("pid args") the ssh clients that use the test config.
ssh_clients() {
	[ -n "${SSH_CONFIG:-}" ] || return 0
	pgrep -a -f -- "^ssh -F $SSH_CONFIG " || true
}

# sshd_kill_sessions : kills, by pid, the ssh clients using the test config
# and every process below the test sshd (what a failed test left behind).
sshd_kill_sessions() {
	local pids
	pids=$(ssh_clients | awk '{print $1}')
	pids="$pids $(sshd_sessions | awk '{print $1}')"
	for p in $pids; do
		kill -KILL "$p" 2>/dev/null || true
	done
}

# ralloter ARGS... : alloter (with its time limit) using the test ssh config.
ralloter() {
	alloter --ssh "$ALLOTER_SSH" "$@"
}

# remote_leftovers : every process with $marker in its command line, every
# ssh client of the test config and every open session of the test sshd.
remote_leftovers() {
	pgrep -a -f -- "$marker" || true
	ssh_clients
	sshd_sessions
}

# marker_leftovers : the $marker processes alone (the task's own processes,
# here or on the remote host).
marker_leftovers() {
	pgrep -a -f -- "$marker" || true
}

# assert_gone T0_MS SECONDS LISTER : fails unless, by T0_MS (a now_ms value)
# plus SECONDS, the function LISTER prints nothing; then lists what is left.
assert_gone() {
	local deadline=$(($1 + $2 * 1000)) left
	while :; do
		left=$("$3")
		[ -z "$left" ] && return 0
		if [ "$(now_ms)" -gt "$deadline" ]; then
			echo "left $2 s after the end (at $(($(now_ms) - $1)) ms):" >&2
			printf '%s\n' "$left" >&2
			return 1
		fi
		sleep 0.05
	done
}

# assert_remote_clean T0_MS SECONDS : no task process, ssh client or sshd
# session is left by then.
assert_remote_clean() {
	assert_gone "$1" "$2" remote_leftovers
}

# assert_marker_gone T0_MS SECONDS : no task process is left by then.
assert_marker_gone() {
	assert_gone "$1" "$2" marker_leftovers
}
