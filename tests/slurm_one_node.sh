#!/bin/sh
# slurm_one_node.sh -- starts and stops a one-node Slurm cluster on localhost, for tests that
# run bp's stages as a job array (tests/cli_distributed.sh).
#
# Usage: sh tests/slurm_one_node.sh start DIR    (DIR: an empty scratch directory that the
#                                                 munge user can reach)
#        sh tests/slurm_one_node.sh stop DIR
# Needs root and the Debian packages slurmctld, slurmd, slurm-client and munge
# (tools/install-deps.sh --dev). The cluster's state, spool, logs and pid files all live in
# DIR; /etc/slurm/slurm.conf and the munge key are written when missing (slurm.conf is
# replaced only when it was written by this script). Daemons are stopped by the pids they
# recorded, never by name. Exit status 0, or 1 with a message.
set -eu
what=${1:?usage: slurm_one_node.sh start|stop DIR}
dir=${2:?usage: slurm_one_node.sh start|stop DIR}
conf=/etc/slurm/slurm.conf
marker="# written by libbytepiece tests/slurm_one_node.sh"

stop_pidfile() {
    [ -f "$1" ] || return 0
    pid=$(cat "$1")
    kill "$pid" 2>/dev/null || true
    # Wait for it to go, so that a following start finds the ports free.
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    rm -f "$1"
}

if [ "$what" = stop ]; then
    stop_pidfile "$dir/slurmd.pid"
    stop_pidfile "$dir/slurmctld.pid"
    stop_pidfile "$dir/munged.pid"
    exit 0
fi
[ "$what" = start ] || { echo "slurm_one_node.sh: start or stop, not '$what'" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "slurm_one_node.sh: needs root" >&2; exit 1; }
for p in slurmctld slurmd munged sbatch sinfo; do
    command -v "$p" >/dev/null 2>&1 || [ -x "/usr/sbin/$p" ] ||
        { echo "slurm_one_node.sh: $p is not installed (tools/install-deps.sh --dev)" >&2; exit 1; }
done
if [ -f "$conf" ] && ! grep -qF "$marker" "$conf"; then
    echo "slurm_one_node.sh: $conf exists and was not written by this script; not replacing it" >&2
    exit 1
fi

node=$(hostname -s)
getent hosts "$node" >/dev/null || { echo "slurm_one_node.sh: host name '$node' does not resolve" >&2; exit 1; }
mkdir -p "$dir/state" "$dir/spool" "$dir/log" "$dir/munge" /etc/slurm
cat >"$conf" <<EOF
$marker
ClusterName=ci
SlurmctldHost=$node
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SwitchType=switch/none
SchedulerType=sched/backfill
SchedulerParameters=sched_min_interval=0,batch_sched_delay=0
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MinJobAge=4
MailProg=/bin/true
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
NodeName=$node CPUs=$(nproc) State=UNKNOWN
PartitionName=debug Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF

if [ ! -f /etc/munge/munge.key ]; then
    mungekey --create
    chown munge:munge /etc/munge/munge.key
    chmod 400 /etc/munge/munge.key
fi
chown munge:munge "$dir/munge"
runuser -u munge -- test -w "$dir/munge" ||
    { echo "slurm_one_node.sh: the munge user cannot reach $dir/munge (make DIR and its parents searchable)" >&2; exit 1; }
mkdir -p /run/munge && chown munge:munge /run/munge
# A munged of our own (its own socket and pid file), so that a system one is left alone.
runuser -u munge -- /usr/sbin/munged --socket=/run/munge/munge.socket.2 \
    --pid-file="$dir/munge/munged.pid" --log-file="$dir/munge/munged.log" \
    --seed-file="$dir/munge/seed" 2>"$dir/log/munged.err" ||
    { cat "$dir/log/munged.err" >&2; echo "slurm_one_node.sh: munged did not start" >&2; exit 1; }
cp "$dir/munge/munged.pid" "$dir/munged.pid"
munge -n | unmunge >/dev/null || { echo "slurm_one_node.sh: munge does not work" >&2; exit 1; }
/usr/sbin/slurmctld && /usr/sbin/slurmd ||
    { tail -n 20 "$dir"/log/*.log >&2; echo "slurm_one_node.sh: the Slurm daemons did not start" >&2; exit 1; }
for _ in $(seq 60); do
    [ "$(sinfo -h -o %t 2>/dev/null)" = idle ] && exit 0
    sleep 0.5
done
tail -n 20 "$dir"/log/*.log >&2
echo "slurm_one_node.sh: the node did not become idle in 30 s" >&2
exit 1
