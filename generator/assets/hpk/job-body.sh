# The job: the cluster (run.sh) restarted whenever it fails. Before the time limit (USR1, from
# --signal) the job queues its successor, which starts once this one has ended (singleton).
set -uo pipefail
: "${HPK_DIR:?submit this job with hpk/start.sh, which sets HPK_DIR}"
# shellcheck source=lib.sh
. "$HPK_DIR/lib.sh"
hpk_not_root
supervisor=0
# shellcheck disable=SC2317 # called by the traps below
stop() {
  trap - TERM INT USR1
  kill -TERM "$supervisor" 2> /dev/null
  wait
  exit "$1"
}
# shellcheck disable=SC2317 # called by the USR1 trap
handoff() {
  hpk_log "time limit near: queueing the successor job"
  hpk_submit --dependency=singleton > /dev/null || hpk_log "could not queue the successor: run hpk/start.sh"
  stop 0
}
trap 'stop 0' TERM INT
trap handoff USR1
supervise "$HPK_DIR/run.sh" &
supervisor=$!
status=0
wait "$supervisor" || status=$?
hpk_log "the cluster failed too often (exit $status): ending the job"
exit 1
