// The Pod Security Standards (https://kubernetes.io/docs/concepts/security/pod-security-standards/)
// as the PodSecurity admission controller applies them to a pod spec: the baseline level's
// checks, and the restricted level's on top. Each violation is one sentence naming the field.

export type PodSecurityLevel = 'privileged' | 'baseline' | 'restricted';

type Spec = Record<string, any>;

/** Capabilities baseline allows a container to add. */
const BASELINE_CAPABILITIES = new Set(['AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD', 'NET_BIND_SERVICE', 'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT']);
/** Sysctls baseline allows (the "safe" set). */
const SAFE_SYSCTLS = new Set([
  'kernel.shm_rmid_forced', 'net.ipv4.ip_local_port_range', 'net.ipv4.ip_unprivileged_port_start', 'net.ipv4.tcp_syncookies', 'net.ipv4.ping_group_range',
  'net.ipv4.ip_local_reserved_ports', 'net.ipv4.tcp_keepalive_time', 'net.ipv4.tcp_fin_timeout', 'net.ipv4.tcp_keepalive_intvl', 'net.ipv4.tcp_keepalive_probes',
]);
const SELINUX_TYPES = new Set(['', 'container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t']);
/** Volume types restricted allows. */
const RESTRICTED_VOLUMES = new Set(['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret']);

const containersOf = (pod: Spec): Spec[] => [...(pod.initContainers ?? []), ...(pod.containers ?? []), ...(pod.ephemeralContainers ?? [])];

/** What in a pod spec the namespace's Pod Security level refuses (empty: admitted). */
export function podSecurityViolations(pod: Spec, level: PodSecurityLevel): string[] {
  if (level === 'privileged') return [];
  const out: string[] = [];
  const podContext: Spec = pod.securityContext ?? {};
  const containers = containersOf(pod);
  const each = (test: (c: Spec, ctx: Spec) => string | null) => {
    for (const c of containers) {
      const message = test(c, c.securityContext ?? {});
      if (message) out.push(`container ${c.name ?? '?'}: ${message}`);
    }
  };
  // baseline
  for (const field of ['hostNetwork', 'hostPID', 'hostIPC'] as const) if (pod[field] === true) out.push(`${field}: true shares the node's namespaces`);
  each((_c, ctx) => (ctx.privileged === true ? 'privileged: true' : null));
  each((_c, ctx) => {
    const added = ((ctx.capabilities?.add ?? []) as string[]).filter((cap) => !BASELINE_CAPABILITIES.has(String(cap).replace(/^CAP_/, '')));
    return added.length ? `adds capabilities ${added.join(', ')}` : null;
  });
  for (const v of (pod.volumes ?? []) as Spec[]) if (v.hostPath) out.push(`volume ${v.name}: hostPath ${v.hostPath.path ?? ''} mounts the node's file system`);
  each((c) => {
    const ports = ((c.ports ?? []) as Spec[]).filter((p) => p.hostPort && p.hostPort !== 0).map((p) => p.hostPort);
    return ports.length ? `hostPort ${ports.join(', ')}` : null;
  });
  const unconfined = (ctx: Spec) => ctx.seccompProfile?.type === 'Unconfined' || ctx.appArmorProfile?.type === 'Unconfined';
  if (unconfined(podContext)) out.push('pod securityContext: an Unconfined seccomp or AppArmor profile');
  each((_c, ctx) => (unconfined(ctx) ? 'an Unconfined seccomp or AppArmor profile' : null));
  const badSelinux = (ctx: Spec) => ctx.seLinuxOptions && (!SELINUX_TYPES.has(ctx.seLinuxOptions.type ?? '') || ctx.seLinuxOptions.user || ctx.seLinuxOptions.role);
  if (badSelinux(podContext)) out.push('pod securityContext: custom SELinux user, role or type');
  each((_c, ctx) => (badSelinux(ctx) ? 'custom SELinux user, role or type' : null));
  each((_c, ctx) => (ctx.procMount && ctx.procMount !== 'Default' ? `procMount ${ctx.procMount}` : null));
  for (const s of (podContext.sysctls ?? []) as Spec[]) if (!SAFE_SYSCTLS.has(s.name)) out.push(`sysctl ${s.name} is not in the safe set`);
  if (level === 'baseline') return out;
  // restricted
  for (const v of (pod.volumes ?? []) as Spec[]) {
    const type = Object.keys(v).find((k) => k !== 'name');
    if (type && !RESTRICTED_VOLUMES.has(type) && type !== 'hostPath') out.push(`volume ${v.name}: type ${type} is not allowed`);
  }
  each((_c, ctx) => (ctx.allowPrivilegeEscalation !== false ? 'allowPrivilegeEscalation must be false' : null));
  each((_c, ctx) => ((ctx.runAsNonRoot ?? podContext.runAsNonRoot) !== true ? 'runAsNonRoot must be true (pod or container)' : null));
  if (podContext.runAsUser === 0) out.push('pod securityContext: runAsUser 0');
  each((_c, ctx) => (ctx.runAsUser === 0 ? 'runAsUser 0' : null));
  each((_c, ctx) => {
    const type = ctx.seccompProfile?.type ?? podContext.seccompProfile?.type;
    return type === 'RuntimeDefault' || type === 'Localhost' ? null : 'seccompProfile must be RuntimeDefault or Localhost (pod or container)';
  });
  each((_c, ctx) => {
    const caps = ctx.capabilities ?? {};
    if (!((caps.drop ?? []) as string[]).includes('ALL')) return 'capabilities must drop ALL';
    const added = ((caps.add ?? []) as string[]).filter((cap) => cap !== 'NET_BIND_SERVICE');
    return added.length ? `adds capabilities ${added.join(', ')} (only NET_BIND_SERVICE)` : null;
  });
  return out;
}
