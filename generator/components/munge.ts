// munged beside a Slurm daemon or client in a pod: the cluster's key comes base64-encoded from a
// mounted Secret, and the socket is where Slurm looks for it by default.

/** The directory of munged's socket (an emptyDir shared with the Slurm containers). */
export const MUNGE_SOCKET_DIR = '/run/munge';
export const MUNGE_SOCKET = `${MUNGE_SOCKET_DIR}/munge.socket.2`;
/** Where the munge key Secret is mounted: key munge.key.b64. */
export const MUNGE_SECRET_DIR = '/etc/munge-secret';

/**
 * munged in the foreground (logging to stderr) with the cluster's key, decoded into `dir`;
 * `stateInDir`: its pid and seed files there too (an unprivileged munged has no /var/lib/munge).
 * --force: the socket directory is an emptyDir (mode 0777), which munged otherwise refuses.
 */
export function mungedScript(dir: string, stateInDir: boolean): string {
  const key = `${dir}/munge.key`;
  const state = stateInDir ? ` --pid-file=${dir}/munged.pid --seed-file=${dir}/munged.seed` : '';
  return `umask 077 && base64 -d ${MUNGE_SECRET_DIR}/munge.key.b64 > ${key} && exec munged --foreground --force --key-file=${key} --socket=${MUNGE_SOCKET}${state}`;
}
