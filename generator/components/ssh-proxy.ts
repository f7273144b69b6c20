// SSH reverse proxy to the login nodes (Sandia): HAProxy in TCP mode behind a MetalLB address on
// port 22, round-robin over the login nodes of the spec, each checked by reading its SSH banner so
// an unresponsive node drops out of the rotation; optionally the PROXY protocol towards them.
// HAProxy only forwards bytes: the SSH session, and so the host keys users verify, is between the
// client and the login node.
import { Type } from '@sinclair/typebox';
import { DnsLabel, Enabled, HostName, Ipv4, OneOf } from '../spec/formats.ts';
import { defineComponent, type ReleaseDef } from './types.ts';
import { helmLoadBalancerService, helmObject, helmUnprivilegedDeployment, RESTRICTED_CONTAINER_SECURITY } from './labels.ts';
import { PoolChoice, reportAddressOutsidePools, reportUnknownPool } from './metallb.ts';
import type { SiteModel } from '../model/site.ts';
import { tolerationFor } from '../model/taints.ts';

/** HAProxy, the LTS release at the pin (official image: runs as the unprivileged user haproxy, uid 99). */
export const HAPROXY_IMAGE = 'docker.io/library/haproxy:3.4.8';
const HAPROXY_UID = 99;
/** Where HAProxy listens in the pod (unprivileged); the Service maps port 22 to it. */
export const SSH_PROXY_PORT = 2222;

const TEMPLATE = `${helmObject('v1', 'ConfigMap', { name: 'ssh-proxy', namespace: '{{ .Release.Namespace | quote }}' })}
data:
  haproxy.cfg: {{ .Values.config | quote }}
---
${helmUnprivilegedDeployment('ssh-proxy')}
      affinity:
        podAntiAffinity:
          preferredDuringSchedulingIgnoredDuringExecution:
            - weight: 100
              podAffinityTerm:
                topologyKey: kubernetes.io/hostname
                labelSelector:
                  matchLabels:
                    app.kubernetes.io/name: ssh-proxy
      containers:
        - name: haproxy
          image: {{ .Values.image | quote }}
          args: ["-W", "-db", "-f", "/usr/local/etc/haproxy/haproxy.cfg"]
          ports:
            - name: ssh
              containerPort: {{ .Values.port }}
          readinessProbe:
            tcpSocket:
              port: ssh
          securityContext:
${RESTRICTED_CONTAINER_SECURITY}
          resources:
            requests:
              cpu: 50m
              memory: 64Mi
            limits:
              memory: 256Mi
          volumeMounts:
            - name: config
              mountPath: /usr/local/etc/haproxy
              readOnly: true
            - name: run
              mountPath: /var/run
      volumes:
        - name: config
          configMap:
            name: ssh-proxy
        - name: run
          emptyDir: {}
---
${helmLoadBalancerService('ssh-proxy', 'HAProxy sees (and logs, and passes on with PROXY) the client\'s own address.')}
  ports:
    - name: ssh
      port: 22
      targetPort: ssh
      protocol: TCP
---
${helmObject('policy/v1', 'PodDisruptionBudget', { name: 'ssh-proxy', namespace: '{{ .Release.Namespace | quote }}' })}
spec:
  maxUnavailable: 1
  selector:
    matchLabels:
      app.kubernetes.io/name: ssh-proxy
`;

type Settings = { loginNodes: { name: string; address: string; port: number }[]; proxyProtocol: 'none' | 'v1' | 'v2'; healthCheck: { intervalSeconds: number; fall: number; rise: number }; timeoutHours: number };

/**
 * haproxy.cfg: TCP mode, round-robin, each login node checked by its SSH banner. Names and
 * addresses are DNS labels and host names (no character HAProxy's config reads specially).
 */
export function haproxyConfig(settings: Settings, bindPort = SSH_PROXY_PORT): string {
  const { intervalSeconds, fall, rise } = settings.healthCheck;
  const send = settings.proxyProtocol === 'v1' ? ' send-proxy' : settings.proxyProtocol === 'v2' ? ' send-proxy-v2' : '';
  return [
    'global',
    '  log stdout format raw local0',
    '  maxconn 4096',
    '',
    'defaults',
    '  mode tcp',
    '  log global',
    '  option tcplog',
    '  timeout connect 5s',
    // An idle interactive session stays up this long before HAProxy closes it.
    `  timeout client ${settings.timeoutHours}h`,
    `  timeout server ${settings.timeoutHours}h`,
    '',
    'frontend ssh',
    `  bind :${bindPort}`,
    '  default_backend login-nodes',
    '',
    'backend login-nodes',
    '  balance roundrobin',
    // A node counts as up while it answers with an SSH banner (sshd alive, not just the port open).
    '  option tcp-check',
    '  tcp-check connect',
    '  tcp-check expect rstring ^SSH-2\\.0-',
    `  default-server inter ${intervalSeconds}s fall ${fall} rise ${rise}`,
    ...settings.loginNodes.map((n) => `  server ${n.name} ${n.address}:${n.port} check${send}`),
    '',
  ].join('\n');
}

export const sshProxy = defineComponent({
  name: 'sshProxy',
  title: 'SSH reverse proxy to the login nodes (HAProxy, TCP, behind a MetalLB address)',
  dependsOn: ['namespaces', 'metallb'],
  notUnderHpk: 'it listens on a LoadBalancer address (MetalLB), and every Service under HPK is headless',
  settings: Type.Object(
    {
      enabled: Enabled(false),
      loginNodes: Type.Array(
        Type.Object(
          {
            name: DnsLabel({ description: 'Login node name (HAProxy server name, in its logs).' }),
            address: HostName({ description: 'Where the proxy reaches its sshd.' }),
            port: Type.Integer({ minimum: 1, maximum: 65535, default: 22, description: 'Its sshd port.' }),
          },
          { additionalProperties: false },
        ),
        { default: [], description: 'The login nodes users are spread over, round-robin.' },
      ),
      pool: PoolChoice(),
      loadBalancerIP: Type.Optional(Ipv4({ description: 'The address users ssh to (inside a MetalLB pool; default: one MetalLB picks). Point the login DNS name at it.' })),
      proxyProtocol: OneOf(['none', 'v1', 'v2'], {
        default: 'none',
        description: 'Pass the client address to the login nodes with the PROXY protocol; OpenSSH cannot read it, so only with a PROXY-aware listener in front of sshd (e.g. go-mmproxy).',
      }),
      healthCheck: Type.Object(
        {
          intervalSeconds: Type.Integer({ minimum: 1, maximum: 300, default: 5, description: 'Seconds between checks of each login node.' }),
          fall: Type.Integer({ minimum: 1, maximum: 20, default: 3, description: 'Failed checks before a node leaves the rotation.' }),
          rise: Type.Integer({ minimum: 1, maximum: 20, default: 2, description: 'Good checks before it comes back.' }),
        },
        { additionalProperties: false, default: {}, description: 'How the proxy notices an unresponsive login node (it reads the SSH banner).' },
      ),
      timeoutHours: Type.Integer({ minimum: 1, maximum: 720, default: 12, description: 'Hours an idle session stays open through the proxy.' }),
      replicas: Type.Integer({ minimum: 1, maximum: 10, default: 2, description: 'HAProxy pods (on different nodes where possible).' }),
    },
    { additionalProperties: false },
  ),
  check(ctx, settings) {
    const at = ['spec', 'components', 'sshProxy'];
    const nodes = Array.isArray(settings?.loginNodes) ? settings.loginNodes : [];
    if (!nodes.length) {
      ctx.report('error', [...at, 'loginNodes'], 'the SSH proxy has no login nodes to send users to', { expected: 'loginNodes: [{name: login1, address: 10.40.1.10}, ...]', hint: 'list the login nodes' });
    }
    const names = nodes.map((n) => n?.name);
    names.forEach((name, i) => {
      if (typeof name === 'string' && names.indexOf(name) !== i) ctx.report('error', [...at, 'loginNodes', i, 'name'], `login node "${name}" is listed twice`, { hint: 'each login node once' });
    });
    const metallb = ctx.spec.spec?.components?.metallb as { enabled?: unknown; addresses?: unknown } | undefined;
    if (metallb?.enabled !== true) {
      ctx.report('error', at, 'the SSH proxy needs an address users reach: spec.components.metallb is not enabled', { hint: 'enable metallb with a few addresses on the HPC network' });
    }
    if (typeof settings?.pool === 'string') reportUnknownPool(ctx, [...at, 'pool'], settings.pool);
    if (typeof settings?.loadBalancerIP === 'string') reportAddressOutsidePools(ctx, [...at, 'loadBalancerIP'], settings.loadBalancerIP, typeof settings?.pool === 'string' ? settings.pool : undefined);
  },
  releases(site: SiteModel, settings): ReleaseDef[] {
    return [
      {
        name: 'ssh-proxy',
        layer: 'infrastructure',
        description: 'HAProxy forwarding SSH (port 22) to the login nodes',
        scope: 'cluster',
        namespace: 'ssh-proxy',
        templates: { 'ssh-proxy.yaml': TEMPLATE },
        valuesSchema: {
          type: 'object',
          additionalProperties: false,
          required: ['image', 'uid', 'port', 'replicas', 'config'],
          properties: {
            image: { type: 'string' },
            uid: { type: 'integer' },
            port: { type: 'integer' },
            replicas: { type: 'integer', minimum: 1 },
            config: { type: 'string' },
            loadBalancerIP: { type: 'string' },
            pool: { type: 'string' },
            tolerations: { type: 'array' },
          },
        },
        images: [HAPROXY_IMAGE],
        values: {
          image: HAPROXY_IMAGE,
          uid: HAPROXY_UID,
          port: SSH_PROXY_PORT,
          replicas: settings.replicas,
          config: haproxyConfig(settings),
          ...(settings.loadBalancerIP ? { loadBalancerIP: settings.loadBalancerIP } : {}),
          ...(settings.pool ? { pool: settings.pool } : {}),
          ...(site.clusterTolerations.length ? { tolerations: site.clusterTolerations.map(tolerationFor) } : {}),
        },
      },
    ];
  },
});
