#!/usr/bin/env bash
# Prepares the user environment for HPK, without privilege: checks that the runtime, Slurm and
# the hpk-kubelet binary are there, creates the state directory (mode 700), and fetches the
# control-plane image. Changes nothing outside the user's own files; run again at any time.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
hpk_not_root

missing=()
need() { command -v "$1" > /dev/null 2>&1 || missing+=("$1 ($2)"); }
need "$HPK_RUNTIME" "the container runtime of the control plane and the pods"
need openssl "signs hpk-kubelet's certificate with the cluster CA"
need kubectl "registers hpk-kubelet's webhooks"
need base64 "encodes the cluster CA for the webhooks"
for tool in sbatch squeue scancel; do need "$tool" "Slurm: hpk-kubelet submits every pod as a job"; done
if [[ $HPK_SUPERVISOR == systemd-user ]]; then need systemctl "runs the control plane as a user service"; fi
[[ -x $HPK_KUBELET_BIN ]] || missing+=("$HPK_KUBELET_BIN (hpk-kubelet: build it with \`make build\` in the HPK repository and copy bin/hpk-kubelet there)")
if ((${#missing[@]})); then
  printf '  - %s\n' "${missing[@]}" >&2
  hpk_die "missing ${#missing[@]} prerequisite(s) above"
fi

# Rootless containers map the user's IDs through /etc/subuid and /etc/subgid (podman-hpc, and Apptainer's --fakeroot).
user=$(id -un)
if [[ -r /etc/subuid ]] && ! grep -q "^$user:" /etc/subuid && ! grep -q "^$(id -u):" /etc/subuid; then
  hpk_log "warning: /etc/subuid has no range for $user: rootless containers need one (the admins add it; for Apptainer: apptainer config fakeroot --add $user)"
fi
if [[ $HPK_SUPERVISOR == systemd-user ]] && command -v loginctl > /dev/null 2>&1; then
  [[ $(loginctl show-user "$user" --property=Linger --value 2> /dev/null) == yes ]] ||
    hpk_log "warning: lingering is off for $user: the user service stops at logout (the admins run loginctl enable-linger $user)"
fi

mkdir -p "$HPK_STATE_DIR" "$HPK_KUBE_DIR" "$HPK_LOG_DIR"
chmod 700 "$HPK_STATE_DIR"

# podman-hpc pull also converts the image for the compute nodes; Apptainer caches docker:// images at first run.
if [[ $HPK_RUNTIME == podman-hpc ]]; then
  podman-hpc pull "$HPK_IMAGE" > /dev/null
fi
hpk_log "ready: state in $HPK_STATE_DIR, runtime $HPK_RUNTIME, image $HPK_IMAGE"
