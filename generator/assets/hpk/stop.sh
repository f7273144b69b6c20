#!/usr/bin/env bash
# Stops the HPK cluster: cancels its Slurm jobs (a queued successor too) or stops the user service.
# Pods' own jobs end with hpk-kubelet's; the state directory stays.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
hpk_not_root
case $HPK_SUPERVISOR in
  slurm) scancel --user="$(id -un)" --name="$HPK_JOB_NAME" ;;
  systemd-user) systemctl --user disable --now "$HPK_UNIT" ;;
  *) hpk_die "unknown supervisor $HPK_SUPERVISOR" ;;
esac
hpk_log "stopped"
