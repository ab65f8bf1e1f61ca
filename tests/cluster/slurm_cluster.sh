# tests/cluster/slurm_cluster.sh - a one-node Slurm cluster on localhost,
# private to one test: munged with its own key and socket, slurmctld and
# slurmd in the foreground (-D) in the background, every file under a
# directory of the caller's. Sourced by tests/cli/sweep_slurm.sh and usable
# by hand (docs/CLUSTER.md, "A one-node cluster for testing"):
#
#   . tests/cluster/slurm_cluster.sh
#   mw_slurm_start /tmp/mycluster      # exports SLURM_CONF, MW_SLURM_NODE
#   sbatch --wrap hostname ...
#   mw_slurm_stop
#
# Ports: SlurmctldPort $MW_SLURM_PORT (default 18170), SlurmdPort the next.
# Needs root (slurmd runs jobs as their user and makes cgroups) and Debian's
# slurm-wlm and munge packages. After mw_slurm_start:
#   MW_SLURM_ENFORCE   "cgroup" when task/cgroup constrains memory, else "none"
#   MW_SLURM_DIR       the directory; logs in $MW_SLURM_DIR/log/
#   MW_SLURM_ACCT      "slurmdbd" when accounting storage runs (a private
#                      MariaDB on 127.0.0.1:$MW_SLURM_PORT+2 and slurmdbd on
#                      +3: sacct answers, MaxRSS is stored), else "none"
#                      with the reason in MW_SLURM_ACCT_WHY (MW_SLURM_WANT_ACCT=0
#                      before mw_slurm_start: none, on purpose)

MW_SLURM_PIDS=()

# Prints why this machine cannot run the cluster, or nothing.
mw_slurm_missing() {
    local b
    [ "$(id -u)" = 0 ] || { echo "needs root (slurmd runs jobs and makes their cgroups)"; return; }
    for b in munged slurmctld slurmd sbatch squeue scontrol sinfo scancel; do
        command -v "$b" >/dev/null 2>&1 || { echo "no $b on PATH (apt-get install slurm-wlm munge)"; return; }
    done
}

# Waits up to $2 seconds for the command $1 (a string for eval) to succeed.
# (By the clock: a command that itself takes seconds, such as a client
# that retries, does not stretch the wait.)
mw_slurm_wait() {
    local end=$((SECONDS + $2))
    while [ "$SECONDS" -lt "$end" ]; do
        eval "$1" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    return 1
}

# ---- accounting storage: MariaDB + slurmdbd (issue #16, sacct's MaxRSS and
# State cross-checked against memwall's figures) ----

# Prints why accounting cannot run here, or nothing.
mw_slurm_acct_missing() {
    local b
    for b in mariadbd mariadb-install-db mariadb slurmdbd sacctmgr sacct; do
        command -v "$b" >/dev/null 2>&1 ||
            { echo "no $b on PATH (apt-get install mariadb-server slurmdbd)"; return; }
    done
}

# Starts a private MariaDB (its own datadir, socket, and TCP port on
# 127.0.0.1 only) and writes slurmdbd.conf beside slurm.conf; slurmdbd
# itself starts once munged runs (mw_slurm_acct_dbd). Sets MW_SLURM_ACCT.
mw_slurm_acct_db() { # DIR PORT
    local d=$1 port=$2 pass
    MW_SLURM_ACCT=none
    if [ "${MW_SLURM_WANT_ACCT:-1}" = 0 ]; then
        MW_SLURM_ACCT_WHY="MW_SLURM_WANT_ACCT=0"
        return 0
    fi
    MW_SLURM_ACCT_WHY=$(mw_slurm_acct_missing)
    [ -z "$MW_SLURM_ACCT_WHY" ] || return 0
    mkdir -p "$d/db" || return 0
    if ! mariadb-install-db --no-defaults --user=root --datadir="$d/db" --skip-test-db \
            --auth-root-authentication-method=socket >>"$d/log/mariadb-install.out" 2>&1; then
        MW_SLURM_ACCT_WHY="mariadb-install-db failed (see $d/log/mariadb-install.out)"
        return 0
    fi
    mariadbd --no-defaults --user=root --datadir="$d/db" --socket="$d/db/mysqld.sock" \
        --port=$((port + 2)) --bind-address=127.0.0.1 --pid-file="$d/run/mysqld.pid" \
        --log-error="$d/log/mysqld.log" --innodb-buffer-pool-size=32M --innodb-log-file-size=16M \
        --innodb-lock-wait-timeout=900 >>"$d/log/mysqld.out" 2>&1 &
    MW_SLURM_PIDS+=($!)
    MW_SLURM_MYSQLD_PID=$!
    # (a daemon that died is not waited for)
    if ! mw_slurm_wait '! kill -0 $MW_SLURM_MYSQLD_PID || mariadb --no-defaults --socket="$d/db/mysqld.sock" -u root -e "SELECT 1"' 60 ||
       ! kill -0 "$MW_SLURM_MYSQLD_PID" 2>/dev/null; then
        MW_SLURM_ACCT_WHY="mariadbd died or did not answer in 60 s (see $d/log/mysqld.log)"
        return 0
    fi
    # slurmdbd logs in over TCP as a user of its own, a password of its own
    pass=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
    mariadb --no-defaults --socket="$d/db/mysqld.sock" -u root -e "
        CREATE USER 'slurm'@'127.0.0.1' IDENTIFIED BY '$pass';
        CREATE USER 'slurm'@'localhost' IDENTIFIED BY '$pass';
        GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1';
        GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost';" >>"$d/log/mysqld.out" 2>&1 || {
        MW_SLURM_ACCT_WHY="cannot make slurmdbd's database user (see $d/log/mysqld.out)"
        return 0
    }
    # slurmdbd reads slurmdbd.conf from slurm.conf's directory; it holds
    # the password: mode 600, or slurmdbd refuses it
    (umask 077; cat >"$d/slurmdbd.conf" <<CONF
AuthType=auth/munge
AuthInfo=socket=$MW_SLURM_MUNGE_SOCKET
DbdHost=localhost
DbdAddr=127.0.0.1
DbdPort=$((port + 3))
SlurmUser=root
PidFile=$d/run/slurmdbd.pid
LogFile=$d/log/slurmdbd.log
DebugLevel=info
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$((port + 2))
StorageUser=slurm
StoragePass=$pass
StorageLoc=slurm_acct_db
CONF
    )
    chmod 600 "$d/slurmdbd.conf"
    MW_SLURM_ACCT=slurmdbd
}

# Starts slurmdbd (SLURM_CONF set: it reads slurmdbd.conf beside it) and
# registers the cluster; on failure accounting is off (MW_SLURM_ACCT=none).
mw_slurm_acct_dbd() { # DIR PORT
    local d=$1 port=$2
    [ "$MW_SLURM_ACCT" = slurmdbd ] || return 0
    slurmdbd -D >>"$d/log/slurmdbd.out" 2>&1 &
    MW_SLURM_PIDS+=($!)
    MW_SLURM_DBD_PID=$!
    if ! mw_slurm_wait '! kill -0 $MW_SLURM_DBD_PID || sacctmgr -n list cluster' 60 ||
       ! kill -0 "$MW_SLURM_DBD_PID" 2>/dev/null; then
        MW_SLURM_ACCT=none
        MW_SLURM_ACCT_WHY="slurmdbd died or did not answer in 60 s (see $d/log/slurmdbd.log, slurmdbd.out)"
        return 0
    fi
    sacctmgr -i add cluster memwalltest >>"$d/log/sacctmgr.out" 2>&1
    if ! sacctmgr -n -P list cluster format=cluster | grep -qx memwalltest; then
        MW_SLURM_ACCT=none
        MW_SLURM_ACCT_WHY="sacctmgr could not register the cluster (see $d/log/sacctmgr.out)"
    fi
}

mw_slurm_start() { # DIR
    local d=$1 port=${MW_SLURM_PORT:-18170} host mem cpus
    MW_SLURM_DIR=$d
    mkdir -p "$d/munge" "$d/state" "$d/spool" "$d/log" "$d/run" || return 1
    chmod 700 "$d/munge"
    # munge: a key of its own, a socket of its own (never the system's)
    dd if=/dev/urandom of="$d/munge/munge.key" bs=1024 count=1 status=none || return 1
    chmod 400 "$d/munge/munge.key"
    export MW_SLURM_MUNGE_SOCKET=$d/munge/munge.socket
    munged -f --key-file "$d/munge/munge.key" --socket "$MW_SLURM_MUNGE_SOCKET" \
        --pid-file "$d/munge/munged.pid" --log-file "$d/log/munged.log" \
        --seed-file "$d/munge/munge.seed" >>"$d/log/munged.out" 2>&1 || {
        echo "munged failed:" >&2; cat "$d/log/munged.log" "$d/log/munged.out" >&2; return 1; }
    MW_SLURM_PIDS+=("$(cat "$d/munge/munged.pid")")
    # accounting storage where MariaDB and slurmdbd are installed (else
    # the cluster runs without, and sacct says so)
    mw_slurm_acct_db "$d" "$port"
    host=$(hostname -s)
    cpus=$(nproc)
    # a node name of its own (slurmd -N): its cgroups (slurm_<node>/) and
    # spool never meet another cluster's on this machine
    # RealMemory in MiB, a little under the machine's (slurmd drains a node
    # that reports less than its configured memory)
    mem=$(awk '/^MemTotal:/ { printf "%d", $2 / 1024 * 0.9 }' /proc/meminfo)
    MW_SLURM_NODE=mw$port
    # task/cgroup constrains a job's memory when the memory controller can
    # be used (cgroup v1 with the memory hierarchy mounted, or v2)
    MW_SLURM_ENFORCE=none
    if [ -d /sys/fs/cgroup/memory ] && [ -w /sys/fs/cgroup/memory ] || \
       grep -qw memory /sys/fs/cgroup/cgroup.controllers 2>/dev/null; then
        MW_SLURM_ENFORCE=cgroup
    fi
    cat >"$d/slurm.conf" <<CONF
ClusterName=memwalltest
SlurmctldHost=$host
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
AuthType=auth/munge
AuthInfo=socket=$MW_SLURM_MUNGE_SOCKET
CredType=cred/munge
StateSaveLocation=$d/state
SlurmdSpoolDir=$d/spool/slurmd-%n
SlurmctldPidFile=$d/run/slurmctld.pid
SlurmdPidFile=$d/run/slurmd.pid
SlurmctldLogFile=$d/log/slurmctld.log
SlurmdLogFile=$d/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ProctrackType=$([ "$MW_SLURM_ENFORCE" = cgroup ] && echo proctrack/cgroup || echo proctrack/linuxproc)
TaskPlugin=$([ "$MW_SLURM_ENFORCE" = cgroup ] && echo task/cgroup || echo task/none)
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=1
$(if [ "$MW_SLURM_ACCT" = slurmdbd ]; then
    echo AccountingStorageType=accounting_storage/slurmdbd
    echo AccountingStorageHost=127.0.0.1
    echo AccountingStoragePort=$((port + 3))
    # the clients' and slurmctld's munge socket towards slurmdbd (Slurm's
    # slurm.conf(5): AccountingStoragePass names it; else the system's)
    echo AccountingStoragePass=$MW_SLURM_MUNGE_SOCKET
  else
    echo AccountingStorageType=accounting_storage/none
  fi)
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
SlurmdTimeout=10
SlurmctldTimeout=10
InactiveLimit=0
KillWait=2
MinJobAge=600
MessageTimeout=5
SchedulerParameters=sched_interval=1
NodeName=$MW_SLURM_NODE NodeHostname=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$MW_SLURM_NODE Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
CONF
    cat >"$d/cgroup.conf" <<CONF
ConstrainRAMSpace=yes
ConstrainSwapSpace=yes
AllowedSwapSpace=0
CONF
    export SLURM_CONF=$d/slurm.conf
    mw_slurm_acct_dbd "$d" "$port"
    if [ "$MW_SLURM_ACCT" != slurmdbd ] && [ -f "$d/slurmdbd.conf" ]; then
        # slurmdbd did not come up: the cluster runs without accounting
        sed -i 's|^AccountingStorageType=.*|AccountingStorageType=accounting_storage/none|' "$SLURM_CONF"
    fi
    slurmctld -D -i -f "$SLURM_CONF" >>"$d/log/slurmctld.out" 2>&1 &
    MW_SLURM_PIDS+=($!)
    MW_SLURM_CTLD_PID=$!
    mw_slurm_slurmd_start || return 1
    if ! mw_slurm_wait 'sinfo -h -n "$MW_SLURM_NODE" -o %t | grep -qx idle' 60; then
        echo "the node did not become idle in 60 s:" >&2
        sinfo -N -l >&2
        tail -n 20 "$d/log/slurmctld.log" "$d/log/slurmd.log" >&2
        return 1
    fi
}

# (Re)starts slurmd (after mw_slurm_kill_slurmd).
mw_slurm_slurmd_start() {
    slurmd -D -N "$MW_SLURM_NODE" -f "$SLURM_CONF" >>"$MW_SLURM_DIR/log/slurmd.out" 2>&1 &
    MW_SLURM_SLURMD_PID=$!
    MW_SLURM_PIDS+=($!)
}

mw_slurm_kill_slurmd() {
    kill -9 "$MW_SLURM_SLURMD_PID" 2>/dev/null
    wait "$MW_SLURM_SLURMD_PID" 2>/dev/null
}

# Stops munged only (the munge-down fault); mw_slurm_munge_start restarts it.
mw_slurm_munge_stop() {
    local pid
    pid=$(cat "$MW_SLURM_DIR/munge/munged.pid" 2>/dev/null) && kill "$pid" 2>/dev/null
    mw_slurm_wait "! kill -0 $pid" 10
}

mw_slurm_munge_start() {
    local d=$MW_SLURM_DIR
    munged -f --key-file "$d/munge/munge.key" --socket "$MW_SLURM_MUNGE_SOCKET" \
        --pid-file "$d/munge/munged.pid" --log-file "$d/log/munged.log" \
        --seed-file "$d/munge/munge.seed" >>"$d/log/munged.out" 2>&1 || return 1
    MW_SLURM_PIDS+=("$(cat "$d/munge/munged.pid")")
}

# The processes of this cluster's jobs: those in its node's cgroups
# (slurm_<node>/ in each v1 hierarchy, or anywhere in the v2 tree). A
# slurmstepd whose slurmd was killed (the node-failure test) waits for it
# for minutes; these are the only processes it leaves.
mw_slurm_job_pids() {
    [ -n "${MW_SLURM_NODE:-}" ] || return 0
    find /sys/fs/cgroup -path "*slurm_${MW_SLURM_NODE}*" -name cgroup.procs 2>/dev/null |
        xargs -r cat 2>/dev/null | sort -u
}

# Stops every daemon it started: jobs first, then slurmd, slurmctld, munged,
# then what is left of the jobs (their cgroups go too).
mw_slurm_stop() {
    local pid d
    [ -n "${SLURM_CONF:-}" ] && scancel --full -u root >/dev/null 2>&1
    for pid in "${MW_SLURM_PIDS[@]}"; do kill "$pid" 2>/dev/null; done
    sleep 0.5
    for pid in "${MW_SLURM_PIDS[@]}"; do kill -9 "$pid" 2>/dev/null; done
    MW_SLURM_PIDS=()
    for pid in $(mw_slurm_job_pids); do kill -9 "$pid" 2>/dev/null; done
    sleep 0.2
    [ -n "${MW_SLURM_NODE:-}" ] &&
        find /sys/fs/cgroup -depth -type d -path "*slurm_${MW_SLURM_NODE}*" -exec rmdir {} + 2>/dev/null
    return 0
}
