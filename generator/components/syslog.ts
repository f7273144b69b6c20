// Log aggregation (Sandia): a syslog receiver (rsyslog) on a MetalLB address, UDP and TCP 514,
// writing one file per sending host and day to a persistent volume, keeping them `retentionDays`,
// and optionally forwarding everything to the centre's collector. The nodes' own rsyslog forwards
// to it (the Ansible prepare role writes the drop-in), queued on disk while the receiver is away.
import { Type } from '@sinclair/typebox';
import { DnsSubdomain, Enabled, HostName, ImageReference, Ipv4, OneOf, Quantity } from '../spec/formats.ts';
import { defineComponent, type ReleaseDef } from './types.ts';
import { helmClaimSpec, helmLoadBalancerService, helmObject, helmUnprivilegedDeployment, RESTRICTED_CONTAINER_SECURITY } from './labels.ts';
import { PoolChoice, reportAddressOutsidePools, reportUnknownPool } from './metallb.ts';
import { requireStorageClass, storageClassFor } from './storage.ts';
import { tolerationFor } from '../model/taints.ts';
import type { SiteModel } from '../model/site.ts';

/** rsyslog, the project's own container image (Alpine), at the pin; siteforge runs rsyslogd with its own configuration. */
export const RSYSLOG_IMAGE = 'docker.io/rsyslog/syslog_appliance_alpine:8.2402.0';
const RSYSLOG_UID = 10514;
/** Where rsyslogd listens in the pod (unprivileged); the Service maps port 514 to it. */
export const SYSLOG_POD_PORT = 5514;
export const SYSLOG_PORT = 514;
const LOG_DIR = '/var/log/remote';

export interface Forward {
  readonly host: string;
  readonly port: number;
  readonly protocol: 'tcp' | 'udp';
}

/** An omfwd action: to `to`, queued on disk (up to maxDiskSpace) and retried for ever while the far end is away. */
function forwardAction(to: Forward, queue: string): string {
  return [
    `action(type="omfwd" target="${to.host}" port="${to.port}" protocol="${to.protocol}"`,
    `       queue.type="LinkedList" queue.filename="${queue}" queue.maxDiskSpace="1g" queue.saveOnShutdown="on"`,
    `       action.resumeRetryCount="-1" action.resumeInterval="30")`,
  ].join('\n');
}

/**
 * The receiver's rsyslog.conf: UDP and TCP inputs on `port`, one file per sending host and day
 * under `logDir` (the host name made safe as a path: a sender cannot write outside its directory),
 * and, with `forward`, every message on to the collector. Host names and ports are validated
 * (letters, digits, dots, hyphens), so nothing in them is rsyslog syntax.
 */
export function receiverConfig(opts: { port: number; logDir: string; workDir: string; forward?: Forward }): string {
  return [
    `global(workDirectory="${opts.workDir}" maxMessageSize="64k")`,
    'module(load="imudp")',
    'module(load="imtcp" maxSessions="2000")',
    `input(type="imudp" port="${opts.port}" ruleset="remote")`,
    `input(type="imtcp" port="${opts.port}" ruleset="remote")`,
    `template(name="perHostDay" type="string" string="${opts.logDir}/%HOSTNAME:::secpath-replace%/%$YEAR%-%$MONTH%-%$DAY%.log")`,
    'ruleset(name="remote") {',
    '  action(type="omfile" dynaFile="perHostDay" dirCreateMode="0750" fileCreateMode="0640" dynaFileCacheSize="1000")',
    ...(opts.forward ? [forwardAction(opts.forward, 'forward').replace(/^/gm, '  ')] : []),
    '}',
    '',
  ].join('\n');
}

/** A node's rsyslog drop-in: every message also to the site's receiver, queued on disk while it is away. */
export function nodeForwardConfig(to: Forward): string {
  return ['# Every message also to the site\'s syslog receiver (siteforge), queued on disk while it is away.', `*.* ${forwardAction(to, 'siteforge_forward')}`, ''].join('\n');
}

const TEMPLATE = `${helmObject('v1', 'ConfigMap', { name: 'syslog', namespace: '{{ .Release.Namespace | quote }}' })}
data:
  rsyslog.conf: {{ .Values.config | quote }}
---
${helmObject('v1', 'PersistentVolumeClaim', { name: 'syslog', namespace: '{{ .Release.Namespace | quote }}' })}
spec:
${helmClaimSpec('.Values.size', 2)}
---
${helmUnprivilegedDeployment('syslog', { singleWriter: true })}
      containers:
        - name: rsyslog
          image: {{ .Values.image | quote }}
          command: ["rsyslogd", "-n", "-i", "/tmp/rsyslogd.pid", "-f", "/etc/siteforge-syslog/rsyslog.conf"]
          ports:
            - name: syslog-udp
              containerPort: {{ .Values.port }}
              protocol: UDP
            - name: syslog-tcp
              containerPort: {{ .Values.port }}
              protocol: TCP
          readinessProbe:
            tcpSocket:
              port: syslog-tcp
          securityContext:
${RESTRICTED_CONTAINER_SECURITY}
          resources:
            requests:
              cpu: 100m
              memory: 128Mi
            limits:
              memory: 1Gi
          volumeMounts:
            - name: config
              mountPath: /etc/siteforge-syslog
              readOnly: true
            - name: logs
              mountPath: ${LOG_DIR}
            - name: work
              mountPath: /var/lib/rsyslog
            - name: tmp
              mountPath: /tmp
        # Keeps retentionDays of files: removes older ones once an hour.
        - name: retention
          image: {{ .Values.image | quote }}
          command: ["sh", "-c", "while true; do find ${LOG_DIR} -type f -name '*.log' -mtime +{{ .Values.retentionDays }} -delete; sleep 3600; done"]
          securityContext:
${RESTRICTED_CONTAINER_SECURITY}
          resources:
            requests:
              cpu: 10m
              memory: 16Mi
            limits:
              memory: 64Mi
          volumeMounts:
            - name: logs
              mountPath: ${LOG_DIR}
      volumes:
        - name: config
          configMap:
            name: syslog
        - name: logs
          persistentVolumeClaim:
            claimName: syslog
        - name: work
          emptyDir: {}
        - name: tmp
          emptyDir: {}
---
${helmLoadBalancerService('syslog', 'rsyslog sees each sender\'s own address (fromhost-ip).')}
  ports:
    - name: syslog-udp
      port: ${SYSLOG_PORT}
      targetPort: syslog-udp
      protocol: UDP
    - name: syslog-tcp
      port: ${SYSLOG_PORT}
      targetPort: syslog-tcp
      protocol: TCP
`;

/** Where the nodes send their syslog: the receiver's name, else its address (validation makes sure there is one). */
export function syslogTarget(site: SiteModel): Forward | undefined {
  const s = site.componentSettings.syslog;
  if (!s.enabled || !s.nodes) return undefined;
  const host = s.hostname ?? s.loadBalancerIP;
  return host ? { host, port: SYSLOG_PORT, protocol: s.nodeProtocol } : undefined;
}

export const syslog = defineComponent({
  name: 'syslog',
  title: 'Log aggregation: a syslog receiver (rsyslog) on a MetalLB address, one file per host and day on a volume, optionally forwarding',
  dependsOn: ['namespaces', 'metallb', 'storage'],
  notUnderHpk: 'it receives on a LoadBalancer address (MetalLB), and every Service under HPK is headless',
  settings: Type.Object(
    {
      enabled: Enabled(false),
      image: ImageReference({ default: RSYSLOG_IMAGE, description: 'An image with rsyslogd and sh (siteforge runs rsyslogd with its own configuration, as an unprivileged user).' }),
      pool: PoolChoice(),
      loadBalancerIP: Type.Optional(Ipv4({ description: 'The address senders use (inside a MetalLB pool); the nodes send to it unless hostname is set.' })),
      hostname: Type.Optional(DnsSubdomain({ description: 'A DNS name of that address (e.g. syslog.hpc4.example.edu), which the nodes then send to.' })),
      size: Quantity({ default: '100Gi', description: 'Size of the volume the logs are written to.' }),
      storageClass: Type.Optional(DnsSubdomain({ description: 'StorageClass of that volume (default: the site\'s default class).' })),
      retentionDays: Type.Integer({ minimum: 1, maximum: 3650, default: 90, description: 'Days a host\'s daily file is kept.' }),
      nodes: Type.Boolean({ default: true, description: 'Every node\'s rsyslog forwards to the receiver (the Ansible prepare role).' }),
      nodeProtocol: OneOf(['tcp', 'udp'], { default: 'tcp', description: 'How the nodes send: tcp (no loss while the receiver is up; queued on disk while it is not) or udp.' }),
      forward: Type.Optional(
        Type.Object(
          {
            host: HostName({ description: 'The centre\'s collector (SIEM, another rsyslog).' }),
            port: Type.Integer({ minimum: 1, maximum: 65535, default: 514, description: 'Its port.' }),
            protocol: OneOf(['tcp', 'udp'], { default: 'tcp', description: 'How to send to it.' }),
          },
          { additionalProperties: false, description: 'Also send every message on to an external collector, queued on disk while it is away.' },
        ),
      ),
    },
    { additionalProperties: false },
  ),
  check(ctx, settings) {
    const at = ['spec', 'components', 'syslog'];
    const metallb = ctx.spec.spec?.components?.metallb as { enabled?: unknown } | undefined;
    if (metallb?.enabled !== true) {
      ctx.report('error', at, 'the syslog receiver needs an address the nodes and devices send to: spec.components.metallb is not enabled', { hint: 'enable metallb with a few addresses on the HPC network' });
    }
    if (settings?.nodes !== false && typeof settings?.loadBalancerIP !== 'string' && typeof settings?.hostname !== 'string') {
      ctx.report('error', at, 'the nodes forward their syslog to the receiver, but it has neither loadBalancerIP nor hostname to send to', {
        hint: 'set loadBalancerIP (an address in a MetalLB pool) or hostname, or nodes: false',
      });
    }
    if (typeof settings?.pool === 'string') reportUnknownPool(ctx, [...at, 'pool'], settings.pool);
    if (typeof settings?.loadBalancerIP === 'string') reportAddressOutsidePools(ctx, [...at, 'loadBalancerIP'], settings.loadBalancerIP, typeof settings?.pool === 'string' ? settings.pool : undefined);
    requireStorageClass(ctx, 'syslog', settings, 'the received logs');
  },
  releases(site: SiteModel, settings): ReleaseDef[] {
    const storageClass = storageClassFor(site, settings.storageClass);
    return [
      {
        name: 'syslog',
        layer: 'infrastructure',
        description: 'rsyslog receiving syslog on UDP and TCP 514, one file per host and day',
        scope: 'cluster',
        namespace: 'syslog',
        templates: { 'syslog.yaml': TEMPLATE },
        valuesSchema: {
          type: 'object',
          additionalProperties: false,
          required: ['image', 'uid', 'port', 'config', 'size', 'retentionDays'],
          properties: {
            image: { type: 'string' },
            uid: { type: 'integer' },
            port: { type: 'integer' },
            config: { type: 'string' },
            size: { type: 'string' },
            storageClass: { type: 'string' },
            retentionDays: { type: 'integer', minimum: 1 },
            loadBalancerIP: { type: 'string' },
            pool: { type: 'string' },
            tolerations: { type: 'array' },
          },
        },
        images: [settings.image],
        values: {
          image: settings.image,
          uid: RSYSLOG_UID,
          port: SYSLOG_POD_PORT,
          config: receiverConfig({ port: SYSLOG_POD_PORT, logDir: LOG_DIR, workDir: '/var/lib/rsyslog', ...(settings.forward ? { forward: settings.forward as Forward } : {}) }),
          size: settings.size,
          ...(storageClass ? { storageClass } : {}),
          retentionDays: settings.retentionDays,
          ...(settings.loadBalancerIP ? { loadBalancerIP: settings.loadBalancerIP } : {}),
          ...(settings.pool ? { pool: settings.pool } : {}),
          ...(site.clusterTolerations.length ? { tolerations: site.clusterTolerations.map(tolerationFor) } : {}),
        },
      },
    ];
  },
});
