#!/bin/sh
# local-path-provisioner's helper pod, before a volume is used: its directory on this node.
# VOL_DIR is the volume's directory under the class's path; VOL_MODE Filesystem or Block.
set -eu
case "${VOL_DIR:?}" in
  /*/*) ;;
  *) echo "refusing to make $VOL_DIR: not a directory below the class's path" >&2; exit 1 ;;
esac
# Only the volume's own directory is world-writable (any pod's user may write it); its parents keep their mode.
# shellcheck disable=SC2174
mkdir -m 0777 -p "$VOL_DIR"
