# shellcheck shell=bash disable=SC2034
# Shared by the HPK scripts beside it: the site's settings (hpk.env), logging, the checks every
# script makes first, job submission and the restart loop. Sourced, never run.
HPK_DIR=${HPK_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}
export HPK_DIR
# shellcheck source=hpk.env
. "$HPK_DIR/hpk.env"

HPK_KUBE_DIR="$HPK_STATE_DIR/kubernetes"
HPK_ADMIN_CONF="$HPK_KUBE_DIR/admin.conf"
HPK_KUBECONFIG="$HPK_STATE_DIR/kubeconfig"
HPK_LOG_DIR="$HPK_STATE_DIR/log"
HPK_UNIT="hpk-$HPK_SITE.service"
# How long kubelet.sh waits for a starting API server, and how many quick failures in a row end the restart loop.
HPK_API_TIMEOUT=${HPK_API_TIMEOUT:-600}
HPK_MAX_QUICK_RESTARTS=${HPK_MAX_QUICK_RESTARTS:-5}

hpk_log() { printf '%s hpk-%s: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$HPK_SITE" "$*" >&2; }
hpk_die() {
  hpk_log "error: $*"
  exit 1
}
# HPK needs no privilege: every script refuses to run as root.
hpk_not_root() {
  [[ $(id -u) -ne 0 ]] || hpk_die "run this as the user who owns the HPK cluster, never as root (HPK needs no privilege)"
}

hpk_kubectl() { kubectl --kubeconfig "$HPK_ADMIN_CONF" "$@"; }
# The API server of this start of the control plane answers (admin.conf is written anew at each start).
hpk_api_ready() { [[ -s $HPK_ADMIN_CONF ]] && hpk_kubectl get --raw=/readyz > /dev/null 2>&1; }

# The user's queued and running HPK jobs of this site (job ids, one per line).
hpk_jobs() { squeue --noheader --user="$(id -un)" --name="$HPK_JOB_NAME" --format='%i'; }

# Submits hpk.sbatch (its directives hold the spec's partition, QoS, limits and host); arguments go to sbatch.
hpk_submit() {
  mkdir -p "$HPK_LOG_DIR"
  sbatch --parsable --export=ALL --chdir="$HPK_STATE_DIR" --output="$HPK_LOG_DIR/$HPK_JOB_NAME-%j.log" "$@" "$HPK_DIR/hpk.sbatch"
}

# supervise COMMAND...: runs COMMAND again whenever it ends, after a pause that grows with quick
# failures; gives up (returns 1) after HPK_MAX_QUICK_RESTARTS runs in a row that each lasted under
# a minute. TERM or INT stops COMMAND and the loop.
supervise() {
  local child=0 status started quick=0
  trap '[[ $child -gt 0 ]] && kill -TERM "$child" 2> /dev/null; wait "$child" 2> /dev/null; exit 0' TERM INT
  while :; do
    started=$SECONDS
    "$@" &
    child=$!
    status=0
    wait "$child" || status=$?
    child=0
    if ((SECONDS - started < 60)); then quick=$((quick + 1)); else quick=0; fi
    if ((quick > HPK_MAX_QUICK_RESTARTS)); then
      hpk_log "$1 ended $quick times in a row within a minute of starting (last exit $status): giving up"
      return 1
    fi
    hpk_log "$1 ended (exit $status): restarting in $((quick * 5)) s"
    sleep "$((quick * 5))" &
    child=$!
    wait "$child" || true
    child=0
  done
}
