#!/usr/bin/env bash
# Says whether the HPK cluster runs: its job or service, then the API server and the nodes.
# Exit 0: running and answering; 1: running, API not answering (yet); 3: not running.
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
hpk_not_root
running=0
case $HPK_SUPERVISOR in
  slurm)
    jobs=$(squeue --noheader --user="$(id -un)" --name="$HPK_JOB_NAME" --format='%i %T %M %N')
    if [[ -n $jobs ]]; then
      running=1
      printf 'job: %s\n' "$jobs"
    else echo "job: none"; fi
    ;;
  systemd-user)
    if systemctl --user is-active --quiet "$HPK_UNIT"; then
      running=1
      echo "service: $HPK_UNIT active"
    else echo "service: $HPK_UNIT inactive"; fi
    ;;
esac
((running)) || exit 3
if hpk_api_ready; then
  echo "API server: ready"
  hpk_kubectl get nodes || true
  echo "export KUBECONFIG=$HPK_KUBECONFIG"
  exit 0
fi
echo "API server: not answering yet (logs: $HPK_LOG_DIR)"
exit 1
