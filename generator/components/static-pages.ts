// Static web pages (Sandia): nginx serving a directory of the HPC storage read-only — the user
// documentation, the centre's status pages — through the site's ingress (TLS from the site issuer)
// or a MetalLB address, with nginx's own status page for a Prometheus exporter when monitoring runs.
import { Type } from '@sinclair/typebox';
import { DnsLabel, DnsName, Enabled, Ipv4, SafeAbsolutePath, HostName } from '../spec/formats.ts';
import { defineComponent, type ReleaseDef } from './types.ts';
import { helmObject, helmUnprivilegedDeployment, RESTRICTED_CONTAINER_SECURITY } from './labels.ts';
import { ingressFor } from './web.ts';
import { PoolChoice, reportAddressOutsidePools, reportUnknownPool } from './metallb.ts';
import { tolerationFor } from '../model/taints.ts';
import { isString, list, loadBalancerBeforeIngress, siteIngressOf } from '../spec/guards.ts';
import type { SiteModel } from '../model/site.ts';

/** nginx stable at the pin (official image; its nginx user is uid 101). */
export const NGINX_IMAGE = 'docker.io/library/nginx:1.28.0';
const NGINX_UID = 101;
/** The NGINX Prometheus exporter (reads the stub_status page). */
export const NGINX_EXPORTER_IMAGE = 'docker.io/nginx/nginx-prometheus-exporter:1.3.0';
const HTTP_PORT = 8080;
const STATUS_PORT = 8081;
const DOCUMENT_ROOT = '/srv/pages';

/**
 * nginx.conf for an unprivileged, read-only container: pid and temporary files under /tmp, the
 * pages under `root`, only GET and HEAD, the stub_status page on its own port for the exporter.
 */
export function nginxConfig(opts: { root: string; port: number; statusPort: number; autoindex: boolean; tmp?: string }): string {
  const tmp = opts.tmp ?? '/tmp';
  return [
    'worker_processes auto;',
    `pid ${tmp}/nginx.pid;`,
    'error_log stderr warn;',
    'events { worker_connections 1024; }',
    'http {',
    '  include /etc/nginx/mime.types;',
    '  default_type application/octet-stream;',
    '  access_log /dev/stdout;',
    '  sendfile on;',
    '  server_tokens off;',
    ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${tmp}/${t};`),
    '  server {',
    `    listen ${opts.port};`,
    `    root ${opts.root};`,
    '    index index.html;',
    `    autoindex ${opts.autoindex ? 'on' : 'off'};`,
    '    location / {',
    // Read-only pages: anything but GET and HEAD is refused.
    '      limit_except GET { deny all; }',
    '      try_files $uri $uri/ =404;',
    '    }',
    '  }',
    '  server {',
    `    listen 127.0.0.1:${opts.statusPort};`,
    '    location = /stub_status { stub_status; }',
    '  }',
    '}',
    '',
  ].join('\n');
}

const TEMPLATE = `${helmObject('v1', 'ConfigMap', { name: 'static-pages', namespace: '{{ .Release.Namespace | quote }}' })}
data:
  nginx.conf: {{ .Values.config | quote }}
---
${helmObject('v1', 'PersistentVolume', { name: '{{ .Values.volumeName | quote }}' })}
spec:
  capacity:
    storage: {{ .Values.size | quote }}
  accessModes: ["ReadOnlyMany"]
  persistentVolumeReclaimPolicy: Retain
  storageClassName: ""
  claimRef:
    namespace: {{ .Release.Namespace | quote }}
    name: static-pages
  {{- if .Values.nfs }}
  mountOptions:
    {{- toYaml .Values.nfs.mountOptions | nindent 4 }}
  nfs:
    server: {{ .Values.nfs.server | quote }}
    path: {{ .Values.nfs.path | quote }}
    readOnly: true
  {{- else }}
  hostPath:
    path: {{ .Values.hostPath | quote }}
    type: Directory
  {{- end }}
---
${helmObject('v1', 'PersistentVolumeClaim', { name: 'static-pages', namespace: '{{ .Release.Namespace | quote }}' })}
spec:
  accessModes: ["ReadOnlyMany"]
  storageClassName: ""
  volumeName: {{ .Values.volumeName | quote }}
  resources:
    requests:
      storage: {{ .Values.size | quote }}
---
${helmUnprivilegedDeployment('static-pages')}
      containers:
        - name: nginx
          image: {{ .Values.image | quote }}
          args: ["nginx", "-g", "daemon off;", "-c", "/etc/nginx/site/nginx.conf"]
          ports:
            - name: http
              containerPort: {{ .Values.port }}
          readinessProbe:
            tcpSocket:
              port: http
          securityContext: &restricted
${RESTRICTED_CONTAINER_SECURITY}
          resources:
            requests:
              cpu: 20m
              memory: 32Mi
            limits:
              memory: 128Mi
          volumeMounts:
            - name: config
              mountPath: /etc/nginx/site
              readOnly: true
            - name: pages
              mountPath: {{ .Values.root | quote }}
              readOnly: true
            - name: tmp
              mountPath: /tmp
        {{- if .Values.exporter }}
        - name: exporter
          image: {{ .Values.exporter.image | quote }}
          args: [{{ printf "--nginx.scrape-uri=http://127.0.0.1:%v/stub_status" .Values.statusPort | quote }}]
          ports:
            - name: metrics
              containerPort: 9113
          securityContext: *restricted
          resources:
            requests:
              cpu: 10m
              memory: 16Mi
            limits:
              memory: 64Mi
        {{- end }}
      volumes:
        - name: config
          configMap:
            name: static-pages
        - name: pages
          persistentVolumeClaim:
            claimName: static-pages
            readOnly: true
        - name: tmp
          emptyDir: {}
---
${helmObject('v1', 'Service', { name: 'static-pages', namespace: '{{ .Release.Namespace | quote }}', labels: { 'app.kubernetes.io/name': 'static-pages' } })}
  {{- with .Values.pool }}
  annotations:
    metallb.io/address-pool: {{ . | quote }}
  {{- end }}
spec:
  type: {{ .Values.serviceType }}
  {{- with .Values.loadBalancerIP }}
  loadBalancerIP: {{ . | quote }}
  {{- end }}
  selector:
    app.kubernetes.io/name: static-pages
  ports:
    - name: http
      port: {{ if eq .Values.serviceType "LoadBalancer" }}80{{ else }}{{ .Values.port }}{{ end }}
      targetPort: http
    {{- if .Values.exporter }}
    - name: metrics
      port: 9113
      targetPort: metrics
    {{- end }}
{{- with .Values.ingress }}
---
${helmObject('networking.k8s.io/v1', 'Ingress', { name: 'static-pages', namespace: '{{ $.Release.Namespace | quote }}', inRange: true })}
  {{- with .annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  ingressClassName: {{ .ingressClassName | quote }}
  {{- with .tls }}
  tls:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  rules:
    {{- range .hosts }}
    - host: {{ . | quote }}
      http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service:
                name: static-pages
                port:
                  name: http
    {{- end }}
{{- end }}
{{- if .Values.serviceMonitor }}
---
${helmObject('monitoring.coreos.com/v1', 'ServiceMonitor', { name: 'static-pages', namespace: '{{ .Release.Namespace | quote }}' })}
spec:
  selector:
    matchLabels:
      app.kubernetes.io/name: static-pages
  endpoints:
    - port: metrics
{{- end }}
`;

export const staticPages = defineComponent({
  name: 'staticPages',
  title: 'Static web pages: nginx serving a directory of the HPC storage, read-only',
  dependsOn: ['namespaces', 'ingressNginx', 'certManager', 'metallb', 'monitoring'],
  notUnderHpk: 'it serves through a LoadBalancer or Ingress address, and an HPK cluster has neither (every Service is headless)',
  settings: Type.Object(
    {
      enabled: Enabled(false),
      hostname: Type.Optional(DnsName({ description: 'Host name of the pages (default www.<domain>); served through the ingress with TLS from the site issuer.' })),
      volume: Type.Optional(DnsLabel({ description: 'The spec.storage.volumes entry holding the pages (nfs or hostPath), mounted read-only.' })),
      nfs: Type.Optional(Type.Object({ server: HostName({ description: 'NFS server.' }), path: SafeAbsolutePath({ description: 'Exported directory with the pages.' }) }, { additionalProperties: false, description: 'Instead of volume: an NFS export of its own.' })),
      autoindex: Type.Boolean({ default: false, description: 'List directories without an index.html.' }),
      exporter: Type.Boolean({ default: true, description: 'With monitoring: a Prometheus exporter of nginx\'s status and a ServiceMonitor.' }),
      pool: PoolChoice(),
      loadBalancerIP: Type.Optional(Ipv4({ description: 'Without the ingress: the MetalLB address the pages are served at on port 80.' })),
      replicas: Type.Integer({ minimum: 1, maximum: 10, default: 2, description: 'nginx pods.' }),
    },
    { additionalProperties: false },
  ),
  check(ctx, settings) {
    const at = ['spec', 'components', 'staticPages'];
    const volumes = list<any>(ctx.spec.spec?.storage?.volumes);
    const name = settings?.volume;
    if ((name === undefined) === (settings?.nfs === undefined)) {
      ctx.report('error', at, 'static pages need exactly one source: volume or nfs', { expected: 'volume: <a spec.storage.volumes name>, or nfs: {server, path}', hint: 'name the volume that holds the pages' });
    } else if (isString(name) && !volumes.some((v) => v?.name === name)) {
      ctx.report('error', [...at, 'volume'], `volume "${name}" is not in spec.storage.volumes`, { expected: `one of ${volumes.map((v) => v?.name).filter(isString).join(', ') || 'no volume'}` });
    }
    const components = ctx.spec.spec?.components as Record<string, { enabled?: unknown } | undefined> | undefined;
    const metallb = components?.metallb?.enabled === true;
    const controller = siteIngressOf(ctx.spec);
    const ingress = controller !== null && !loadBalancerBeforeIngress(controller, metallb);
    if (!ingress && !metallb) {
      ctx.report('error', at, 'the pages would be reachable only inside the cluster: neither an ingress controller nor MetalLB is enabled', { hint: 'enable ingressNginx (with certManager for TLS), or metallb for an address of their own' });
    }
    if (typeof settings?.loadBalancerIP === 'string') {
      if (ingress) ctx.report('error', [...at, 'loadBalancerIP'], 'loadBalancerIP is set, and the pages are served through the ingress', { hint: 'drop loadBalancerIP' });
      else reportAddressOutsidePools(ctx, [...at, 'loadBalancerIP'], settings.loadBalancerIP, typeof settings?.pool === 'string' ? settings.pool : undefined);
    }
    if (typeof settings?.pool === 'string') {
      if (ingress) ctx.report('error', [...at, 'pool'], 'pool is set, and the pages are served through the ingress', { hint: 'drop pool (the ingress controller\'s address serves them)' });
      else reportUnknownPool(ctx, [...at, 'pool'], settings.pool);
    }
  },
  releases(site: SiteModel, settings): ReleaseDef[] {
    const volume = settings.volume !== undefined ? site.volumes.find((v) => v.name === settings.volume) : undefined;
    const source = volume
      ? volume.type === 'nfs'
        ? { nfs: { server: volume.server!, path: volume.path, mountOptions: [...new Set([...volume.mountOptions, 'ro'])] } }
        : { hostPath: volume.path }
      : { nfs: { server: settings.nfs!.server, path: settings.nfs!.path, mountOptions: ['ro'] } };
    const host = settings.hostname ?? `www.${site.domain}`;
    const ingress = ingressFor(site, host, 'static-pages-tls', { orLoadBalancer: true });
    const exporter = settings.exporter && site.componentSettings.monitoring.enabled;
    return [
      {
        name: 'static-pages',
        layer: 'infrastructure',
        description: 'nginx serving the site\'s static pages read-only',
        scope: 'cluster',
        namespace: 'static-pages',
        templates: { 'static-pages.yaml': TEMPLATE },
        images: [NGINX_IMAGE, ...(exporter ? [NGINX_EXPORTER_IMAGE] : [])],
        values: {
          image: NGINX_IMAGE,
          uid: NGINX_UID,
          port: HTTP_PORT,
          statusPort: STATUS_PORT,
          root: DOCUMENT_ROOT,
          replicas: settings.replicas,
          config: nginxConfig({ root: DOCUMENT_ROOT, port: HTTP_PORT, statusPort: STATUS_PORT, autoindex: settings.autoindex }),
          volumeName: `static-pages-${site.name}`,
          size: volume?.size ?? '1Gi',
          ...source,
          serviceType: ingress ? 'ClusterIP' : 'LoadBalancer',
          ...(settings.loadBalancerIP && !ingress ? { loadBalancerIP: settings.loadBalancerIP } : {}),
          ...(settings.pool && !ingress ? { pool: settings.pool } : {}),
          // The site's one way to reach a web front end (ingressFor): class, issuer and TLS as for Grafana or Argo.
          ...(ingress ? { ingress } : {}),
          ...(exporter ? { exporter: { image: NGINX_EXPORTER_IMAGE }, serviceMonitor: true } : {}),
          ...(site.clusterTolerations.length ? { tolerations: site.clusterTolerations.map(tolerationFor) } : {}),
        },
        valuesSchema: { type: 'object' },
      },
    ];
  },
});
