#!/usr/bin/env bash
# Starts the HPK cluster: prepare.sh, then the control plane and hpk-kubelet under the site's
# supervisor (a long-running Slurm job, or a systemd user service). Arguments go to sbatch, e.g.
# `hpk/start.sh --test-only` asks Slurm whether it would accept the job, and changes nothing.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
hpk_not_root
"$HPK_DIR/prepare.sh"
case $HPK_SUPERVISOR in
  slurm)
    jobs=$(hpk_jobs | tr '\n' ' ')
    if [[ -n ${jobs// /} ]]; then
      hpk_log "already queued or running: job ${jobs% }"
      exit 0
    fi
    id=$(hpk_submit "$@")
    if [[ -n $id ]]; then hpk_log "submitted job $id (log: $HPK_LOG_DIR/$HPK_JOB_NAME-$id.log)"; fi
    ;;
  systemd-user)
    [[ $HPK_DIR != *[[:space:]]* ]] || hpk_die "the repository path has white space, which a unit's ExecStart cannot take: $HPK_DIR"
    units="${XDG_CONFIG_HOME:-$HOME/.config}/systemd/user"
    mkdir -p "$units"
    cat > "$units/$HPK_UNIT" << UNIT
[Unit]
Description=HPK control plane and hpk-kubelet of $HPK_SITE
After=network-online.target

[Service]
Environment=HPK_DIR=$HPK_DIR
ExecStart=$HPK_DIR/run.sh
Restart=on-failure
RestartSec=10

[Install]
WantedBy=default.target
UNIT
    systemctl --user daemon-reload
    systemctl --user enable --now "$HPK_UNIT"
    hpk_log "started $HPK_UNIT"
    ;;
  *) hpk_die "unknown supervisor $HPK_SUPERVISOR" ;;
esac
hpk_log "then: export KUBECONFIG=$HPK_KUBECONFIG (written once the API server answers; hpk/status.sh tells)"
