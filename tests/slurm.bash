# tests/slurm.bash - a private Slurm cluster for the Slurm suites.
# Load it after helpers (`load helpers; load slurm`), call slurm_start from
# setup_file and slurm_stop from teardown_file.
#
# slurm_start starts munged, slurmctld and slurmd (Debian's munge,
# slurmctld, slurmd and slurm-client, which .ci/deps installs) on this
# machine without systemd: a munge key, a socket and a slurm.conf of their
# own in a temporary folder, free ports, one node named localhost with the
# machine's CPUs and memory (memory a consumable, 100 MiB a CPU by
# default), task/cgroup where it can limit memory, and no accounting.
# With SLURM_NODES=N (N > 1) there are N nodes, n1 ... nN, each a slurmd
# of its own on this machine with its own port, spool and log, each with
# the machine's CPUs and an Nth of its memory.
# It waits until sinfo shows the nodes idle.  It exports:
#   $SLURM_CONF   the generated slurm.conf, which srun, sinfo, scancel read
#   $SLURM_DIR    the folder (in /tmp) holding it, the state, the spool
#                 and the logs; slurm_stop removes it
#   $SLURM_CPUS   the node's CPUs
#   $SLURM_OOM_SKIP  set to a reason when Slurm cannot tell an OOM kill
#                 here (no cgroup v1 memory hierarchy for task/cgroup)
#   $SLURM_SKIP   set to a reason when the cluster could not be started:
#                 the tests call `slurm_require` first, which skips them.
# slurmd runs the tasks as the user that starts it, so it needs root.

# _slurm_fail REASON : records why the Slurm tests cannot run.
_slurm_fail() {
	SLURM_SKIP=$1
	export SLURM_SKIP
	echo "slurm: $1" >&2
	return 0
}

# _slurm_free_ports N : prints N consecutive TCP ports free on 127.0.0.1
# right now.
_slurm_free_ports() {
	python3 - "$1" <<'EOF'
import random, socket, sys
n = int(sys.argv[1])
for _ in range(200):
    port = random.randint(20000, 60000)
    socks = []
    try:
        for p in range(port, port + n):
            s = socket.socket()
            socks.append(s)
            s.bind(("127.0.0.1", p))
    except OSError:
        continue
    finally:
        for s in socks:
            s.close()
    print(*range(port, port + n))
    sys.exit(0)
sys.exit("no free port found")
EOF
}

# _slurm_wait_idle SECONDS : waits until every node is idle.
_slurm_wait_idle() {
	local i
	for i in $(seq $(($1 * 10))); do
		[ "$(sinfo -h -o %t 2>/dev/null)" = idle ] && return 0
		sleep 0.1
	done
	return 1
}

slurm_start() {
	local d a ports port mem task=task/none nodes=${SLURM_NODES:-1} i node names
	SLURM_SKIP=
	export SLURM_SKIP
	for a in munged slurmctld slurmd srun sinfo scancel scontrol python3; do
		if ! command -v "$a" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$a" ]; then
			_slurm_fail "$a is not installed (apt-get install slurmctld slurmd slurm-client munge)"
			return 0
		fi
	done
	if [ "$(id -u)" != 0 ]; then
		_slurm_fail "slurmd must run as root to start tasks"
		return 0
	fi
	# munged wants every folder above its socket open to all (bats' own
	# are not), and its key private.
	if ! SLURM_DIR=$(mktemp -d /tmp/alloter-slurm.XXXXXX); then
		_slurm_fail "cannot make a folder in /tmp"
		return 0
	fi
	d=$SLURM_DIR
	mkdir -p "$d/state" "$d/spool" "$d/munge" && chmod 755 "$d" "$d/munge" ||
		{ _slurm_fail "cannot make $d"; return 0; }
	head -c 1024 /dev/urandom >"$d/munge/munge.key" && chmod 600 "$d/munge/munge.key"
	if ! PATH=$PATH:/usr/sbin munged --key-file="$d/munge/munge.key" --socket="$d/munge/socket" \
		--pid-file="$d/munge/munged.pid" --log-file="$d/munge/munged.log" \
		--seed-file="$d/munge/seed" </dev/null 3>&-; then
		_slurm_fail "munged did not start: $(tail -n 3 "$d/munge/munged.log" 2>/dev/null)"
		return 0
	fi
	if ! ports=$(_slurm_free_ports $((nodes + 1)) 2>&1); then
		_slurm_fail "$ports"
		slurm_stop
		return 0
	fi
	read -ra port <<<"$ports" # the controller's, then each node's
	SLURM_CPUS=$(nproc)
	# The node's memory in MiB, so that a task's --mem can be granted.
	mem=$(awk -v n="$nodes" '/^MemTotal:/ { print int($2 / 1024 / n) }' /proc/meminfo)
	# Slurm says a task ran out of memory (OUT_OF_MEMORY) only when its
	# cgroup's OOM killer ended it (jobacct_gather's OverMemoryKill only
	# sends SIGKILL, and the job is FAILED): task/cgroup on a cgroup v1
	# memory hierarchy that root can write, which needs no systemd.
	SLURM_OOM_SKIP="no writable cgroup v1 memory hierarchy for task/cgroup"
	if [ -w /sys/fs/cgroup/memory ] && [ -e /sys/fs/cgroup/memory/memory.limit_in_bytes ]; then
		printf 'CgroupPlugin=cgroup/v1\nCgroupAutomount=no\nConstrainRAMSpace=yes\nConstrainSwapSpace=yes\nAllowedSwapSpace=0\n' >"$d/cgroup.conf"
		task=task/cgroup
		SLURM_OOM_SKIP=
	fi
	export SLURM_OOM_SKIP
	# The controller forgets a job MinJobAge seconds after its end; alloter
	# asks it how a job ended, so that is kept at the default's order.
	cat >"$d/slurm.conf" <<EOF
ClusterName=alloter
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=${port[0]}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$d/munge/socket
StateSaveLocation=$d/state
SlurmdSpoolDir=$d/spool/%n
SlurmctldPidFile=$d/slurmctld.pid
SlurmdPidFile=$d/slurmd.%n.pid
SlurmctldLogFile=$d/slurmctld.log
SlurmdLogFile=$d/slurmd.%n.log
ProctrackType=proctrack/linuxproc
TaskPlugin=$task
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SwitchType=switch/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=100
EnforcePartLimits=ALL
ReturnToService=2
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
KillWait=2
MinJobAge=300
EOF
	names=localhost
	[ "$nodes" = 1 ] || names=$(seq -s ' ' -f 'n%.0f' "$nodes")
	i=0
	for node in $names; do
		i=$((i + 1))
		echo "NodeName=$node NodeAddr=127.0.0.1 Port=${port[i]} CPUs=$SLURM_CPUS RealMemory=$mem State=UNKNOWN"
		mkdir -p "$d/spool/$node"
	done >>"$d/slurm.conf"
	echo "PartitionName=debug Nodes=${names// /,} Default=YES MaxTime=INFINITE State=UP" >>"$d/slurm.conf"
	SLURM_CONF="$d/slurm.conf"
	export SLURM_CONF SLURM_DIR SLURM_CPUS
	# Both daemonize once they are listening.
	if ! PATH=$PATH:/usr/sbin slurmctld -f "$SLURM_CONF" </dev/null 3>&-; then
		_slurm_fail "slurmctld did not start: $(tail -n 3 "$d/slurmctld.log" 2>/dev/null)"
		slurm_stop
		return 0
	fi
	for node in $names; do
		if ! PATH=$PATH:/usr/sbin slurmd -f "$SLURM_CONF" -N "$node" </dev/null 3>&-; then
			_slurm_fail "slurmd $node did not start: $(tail -n 3 "$d/slurmd.$node.log" 2>/dev/null)"
			slurm_stop
			return 0
		fi
	done
	if ! _slurm_wait_idle 30; then
		_slurm_fail "the nodes are not idle after 30 s: $(sinfo 2>&1 | tail -n 2) $(tail -n 3 "$d"/slurmd.*.log 2>/dev/null)"
		slurm_stop
		return 0
	fi
}

# _slurm_kill PIDFILE : stops the daemon of PIDFILE, by its pid, and waits.
_slurm_kill() {
	local pid i
	[ -s "$1" ] || return 0
	pid=$(cat "$1")
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for i in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	rm -f "$1"
}

# slurm_stop : waits (at most 10 s) for an empty queue, then stops the slurmds,
# slurmctld and munged, in that order.
slurm_stop() {
	local i pid
	[ -n "${SLURM_DIR:-}" ] || return 0
	if [ -s "$SLURM_DIR/slurmctld.pid" ]; then
		for i in $(seq 100); do
			[ -z "$(squeue -h 2>/dev/null)" ] && break
			sleep 0.1
		done
	fi
	for pid in "$SLURM_DIR"/slurmd.*.pid; do
		_slurm_kill "$pid"
	done
	_slurm_kill "$SLURM_DIR/slurmctld.pid"
	_slurm_kill "$SLURM_DIR/munge/munged.pid"
	rm -rf "$SLURM_DIR"
}

# slurm_require : skips the test, with the reason, when there is no cluster.
slurm_require() {
	if [ -n "${SLURM_SKIP:-}" ]; then
		skip "no test cluster: $SLURM_SKIP"
	fi
}

# slurm_queue : the jobs and steps still known to the controller as running
# or pending ("JOBID STATE"), one a line; empty when nothing is left.
slurm_queue() {
	squeue -h -t PD,R,CG,S -o '%i %T' 2>/dev/null
	squeue -h -s -o '%i' 2>/dev/null | grep -v '\.extern$' || true
}

# assert_queue_empty SECONDS : fails unless the queue empties in SECONDS.
assert_queue_empty() {
	local i left
	for i in $(seq $(($1 * 10))); do
		left=$(slurm_queue)
		[ -z "$left" ] && return 0
		sleep 0.1
	done
	echo "left in the queue after $1 s:" >&2
	printf '%s\n' "$left" >&2
	return 1
}

# slurm_test_setup, slurm_test_teardown : a Slurm suite's setup and
# teardown: skip without a cluster; a failed test's jobs must not hold the
# nodes for the next ones.
slurm_test_setup() {
	slurm_require
	common_setup
}

slurm_test_teardown() {
	common_teardown
	[ -n "${SLURM_SKIP:-}" ] || scancel --quiet --user "$(id -un)" 2>/dev/null || true
}
