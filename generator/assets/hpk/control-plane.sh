#!/usr/bin/env bash
# Runs the Kubernetes control plane (etcd, API server, controller manager, scheduler, CoreDNS) in
# one unprivileged container, in the foreground. CoreDNS forwards outside names to the site's DNS.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
hpk_not_root
mkdir -p "$HPK_KUBE_DIR" "$HPK_LOG_DIR"
# The image writes new keys and admin.conf at every start: the old ones must not be mistaken for them.
rm -f "$HPK_ADMIN_CONF"
case $HPK_RUNTIME in
  podman-hpc)
    exec podman-hpc run --rm --replace --name "$HPK_JOB_NAME-control-plane" --net=host --dns "$HPK_DNS" \
      --env K8SFS_MOCK_KUBELET=0 \
      -v "$HPK_STATE_DIR:/usr/local/etc" -v "$HPK_LOG_DIR:/var/log" \
      "$HPK_IMAGE" "$HPK_API_PORT"
    ;;
  apptainer)
    exec apptainer run --net --dns "$HPK_DNS" --fakeroot --cleanenv --pid --containall \
      --no-init --no-umask --no-eval --no-mount tmp,home --unsquash --writable \
      --env K8SFS_MOCK_KUBELET=0 \
      --bind "$HPK_STATE_DIR:/usr/local/etc" --bind "$HPK_LOG_DIR:/var/log" \
      "docker://$HPK_IMAGE" "$HPK_API_PORT"
    ;;
  *) hpk_die "unknown runtime $HPK_RUNTIME" ;;
esac
