#!/usr/bin/env bash
# The cluster as one unit: the control plane and hpk-kubelet together. When either ends, the other
# is stopped too and run.sh fails, so its supervisor (the Slurm job or systemd) restarts both: a
# restarted control plane has new keys, which the kubelet must be signed against again.
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
hpk_not_root
pids=()
stop() {
  trap - TERM INT
  kill -TERM "${pids[@]}" 2> /dev/null
  wait
  exit "$1"
}
trap 'stop 0' TERM INT
"$HPK_DIR/control-plane.sh" &
pids+=($!)
"$HPK_DIR/kubelet.sh" &
pids+=($!)
status=0
wait -n || status=$?
hpk_log "the control plane or hpk-kubelet ended (exit $status): stopping the other"
stop 1
