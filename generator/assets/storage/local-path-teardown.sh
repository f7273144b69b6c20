#!/bin/sh
# local-path-provisioner's helper pod, after a volume's claim is deleted (reclaimPolicy Delete):
# the volume's directory and everything in it.
set -eu
case "${VOL_DIR:?}" in
  /*/*) ;;
  *) echo "refusing to remove $VOL_DIR: not a directory below the class's path" >&2; exit 1 ;;
esac
rm -rf -- "$VOL_DIR"
