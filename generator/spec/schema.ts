// The single definition of site.yaml: a JSON Schema built with TypeBox. The same object
// validates input (ajv), is written out as site.schema.json for editors, and gives the
// TypeScript type of a validated spec (SiteSpec). Static defaults live here, nowhere else.
import { Type, type Static, type TObject, type TOptional } from '@sinclair/typebox';
import { catalog } from '../components/catalog.ts';
import { KUBESPRAY_DEFAULT_RELEASE } from '../model/kubespray.ts';
import { FLUX_DEFAULT_VERSION, FLUX_MANIFESTS_DEFAULT, FLUX_MINIMUM_VERSION } from '../model/flux.ts';
import { BranchName, Cidr, CronSchedule, DistinguishedName, SlurmMemory, SlurmName, SlurmTime, DnsLabel, DnsSubdomain, DnsName, GIT_URL_PATTERN, HostName, HttpUrl, ImageReference, InterfaceName, Ipv4, LabelKey, LabelValue, OneOf, Quantity, SafeAbsolutePath, Taint, UserName } from './formats.ts';

export const API_VERSION = 'siteforge/v1alpha1';
export const KIND = 'Site';

const strict = { additionalProperties: false } as const;

/** A path on the HPC system of the user who runs HPK: absolute, or below the home directory (~/...). */
const UserPath = (o: Record<string, unknown> = {}) =>
  Type.String({
    pattern: '^(~|~?(/(?!\\.\\.?(/|$))[A-Za-z0-9._+@-]+)+)/?$',
    maxLength: 500,
    expected: 'an absolute path or one below the home directory, of letters, digits and . _ + @ - (no "." or ".." components, spaces or shell characters), such as ~/.k8sfs',
    ...o,
  });
/** The Slurm side of one kind of job HPK submits. */
const SlurmJob = (what: string) =>
  Type.Object(
    {
      partition: Type.Optional(SlurmName({ description: `Partition of ${what} (default: the Slurm default partition).` })),
      qos: Type.Optional(SlurmName({ description: `QoS of ${what}.` })),
      constraint: Type.Optional(SlurmName({ description: `Node feature ${what} require (sbatch --constraint), e.g. cpu or gpu.` })),
      time: Type.Optional(SlurmTime({ unlimited: true, description: `Time limit of ${what} (default: the partition\'s).` })),
    },
    { ...strict },
  );

const Hpk = Type.Object(
  {
    runtime: OneOf(['podman-hpc', 'apptainer'], { description: 'Container runtime of the control plane and of every pod: podman-hpc (NERSC) or Apptainer (with --fakeroot).' }),
    controlPlaneImage: ImageReference({ description: 'The control-plane container (etcd, API server, controller manager, scheduler, CoreDNS in one image), pinned by tag or digest, e.g. ghcr.io/tylern4/kubernetes-from-scratch:v1.24.8.' }),
    apiPort: Type.Integer({ default: 6443, minimum: 1024, maximum: 65535, description: 'Port the API server listens on (the user\'s own, above 1023: nothing runs as root).' }),
    kubelet: UserPath({ description: 'The hpk-kubelet binary (built with `make build` from the HPK repository), e.g. ~/hpk/bin/hpk-kubelet.' }),
    dns: Ipv4({ description: 'The site\'s DNS server: CoreDNS in the control plane forwards every name outside the cluster to it.' }),
    stateDir: UserPath({ default: '~/.k8sfs', description: 'The control plane\'s state: certificates, kubeconfig, logs (on a file system the control-plane host and the compute nodes share).' }),
    supervisor: OneOf(['slurm', 'systemd-user'], {
      default: 'slurm',
      description: 'What keeps the control plane and hpk-kubelet running: slurm (one long-running job on the control-plane host, restarting both on failure and handing over to a queued successor before its time limit) or systemd-user (user services with Restart=on-failure; needs lingering for the user).',
    }),
    account: Type.Optional(SlurmName({ description: 'Slurm account every job is charged to: the control plane\'s and every pod\'s.' })),
    controlPlane: Type.Object(
      {
        partition: Type.Optional(SlurmName({ description: 'Partition of the control-plane job (one that holds the control-plane host).' })),
        qos: Type.Optional(SlurmName({ description: 'QoS of the control-plane job (a long-running workflow QoS, where the site has one).' })),
        time: SlurmTime({ unlimited: true, default: '1-00:00:00', description: 'Time limit of one control-plane job; before it ends, the job queues its successor.' }),
        cpus: Type.Integer({ default: 4, minimum: 1, maximum: 256, description: 'CPUs of the control-plane job.' }),
        memory: SlurmMemory({ default: '16G', description: 'Memory of the control-plane job (sbatch --mem).' }),
      },
      { ...strict, default: {}, description: 'The control-plane job (supervisor: slurm).' },
    ),
    pods: Type.Object(
      {
        ...SlurmJob('the pods siteforge renders (workflow steps)').properties,
        gpu: Type.Optional(
          Type.Object(
            {
              ...SlurmJob('GPU pods').properties,
              gres: Type.String({ default: 'gpu', pattern: '^[a-z][a-z0-9_]{0,30}(:[A-Za-z0-9_.-]{1,40})?$', expected: 'a GRES name (and type) such as gpu or gpu:a100', description: 'Slurm GRES a step\'s GPUs are requested as: --gres=<gres>:<count>.' }),
            },
            { ...strict, description: 'How workflow steps that ask for GPUs are submitted: steps with resources.gpus need it.' },
          ),
        ),
      },
      { ...strict, default: {}, description: 'Slurm settings of the pods siteforge renders (carried in their slurm.hpk.io/flags annotation); pods of upstream charts get the account and Slurm\'s defaults.' },
    ),
  },
  {
    ...strict,
    description: 'High-Performance Kubernetes (type: hpk): the control plane in one unprivileged container on the control-plane host (the one spec.nodes entry) and hpk-kubelet turning every pod into a Slurm job; no dedicated nodes.',
  },
);

const Distribution = Type.Object(
  {
    type: OneOf(['rke2', 'k0s', 'kubespray', 'hpk'], {
      description: 'Kubernetes distribution: rke2 or k0s on dedicated nodes, kubespray (kubeadm clusters built by a pinned Kubespray release from the inventory siteforge writes), or hpk (High-Performance Kubernetes: the control plane in a user container and every pod a Slurm job).',
    }),
    hpk: Type.Optional(Hpk),
    kubespray: Type.Object(
      {
        release: Type.String({
          default: KUBESPRAY_DEFAULT_RELEASE,
          pattern: '^v2\\.[0-9]+\\.[0-9]+$',
          expected: 'a Kubespray release tag such as v2.31.0',
          description: 'The Kubespray release that builds the cluster: ansible/requirements.yml installs it as the kubernetes_sigs.kubespray collection from its git tag.',
        }),
      },
      { ...strict, default: {}, description: 'With type kubespray: the Kubespray release.' },
    ),
    version: Type.String({
      pattern: '^v[0-9]+\\.[0-9]+\\.[0-9]+(\\+[a-z0-9.]+)?$',
      expected: 'a pinned release such as v1.31.4+rke2r1 or v1.31.4+k0s.0 (kubespray: a Kubernetes version such as v1.34.3; hpk: the control-plane image\'s Kubernetes version, such as v1.24.8)',
      description: 'Pinned distribution release (kubespray: the Kubernetes version, one the Kubespray release supports; hpk: the Kubernetes version of the control-plane image).',
    }),
    clusterCIDR: Cidr({ description: 'Pod network.' }),
    serviceCIDR: Cidr({ description: 'Service network.' }),
    tlsSANs: Type.Array(Type.String({ minLength: 1, maxLength: 253 }), {
      default: [],
      description: 'Extra API server SANs; every server address and extra address is added too.',
    }),
    profile: Type.Optional(
      OneOf(['cis'], {
        description: 'RKE2 hardening profile: the CIS benchmark (kernel parameters, an etcd user, restricted Pod Security by default with the cluster components\' namespaces exempt).',
      }),
    ),
    apiEndpoint: Type.Optional(
      Type.Object(
        {
          type: OneOf(['kubeVip', 'external'], {
            description: 'kubeVip: a virtual IP that kube-vip (a static pod on every server, ARP) keeps on a healthy server (RKE2, Kubespray); external: a load balancer you run, forwarding 6443 (and 9345 for RKE2) to every server.',
          }),
          address: Ipv4({ description: 'The API address nodes join and kubectl uses; outside node addresses, MetalLB pools and the pod/service ranges.' }),
          hostname: Type.Optional(DnsName({ description: 'DNS name of the address (kubeconfig uses it; added to the TLS SANs).' })),
          interface: Type.Optional(InterfaceName({ description: 'kubeVip: the servers\' interface on the address\'s network (default eth0).' })),
        },
        { ...strict, description: 'An API endpoint that survives the loss of any one server.' },
      ),
    ),
    cni: Type.Optional(
      Type.String({
        pattern: '^[a-z0-9-]+(,[a-z0-9-]+)*$',
        expected: 'a CNI plugin name (rke2: canal, calico, cilium, flannel, none, optionally after multus,; k0s: kuberouter, calico, custom; kubespray: calico, cilium, flannel, kube-router, optionally after multus,)',
        description: 'CNI plugin (default: canal for rke2, kuberouter for k0s, calico for kubespray).',
      }),
    ),
    ingressController: Type.Optional(
      OneOf(['traefik', 'none'], {
        description:
          'rke2: the ingress controller RKE2 itself deploys (its `ingress-controller` setting). Default: traefik (RKE2\'s maintained bundled controller, a DaemonSet on ports 80/443 of every node), the web front ends\' ingress; none when spec.components.ingressNginx runs the ingress instead.',
      }),
    ),
    backup: Type.Object(
      {
        schedule: CronSchedule({
          default: '0 */6 * * *',
          expected: 'a five-field cron schedule such as "0 */6 * * *"',
          description: 'When the servers back the cluster up: RKE2 etcd snapshots (etcd-snapshot-schedule-cron), k0s backup (cron), Kubespray etcd snapshots (a systemd timer siteforge installs).',
        }),
        retention: Type.Integer({ default: 28, minimum: 1, maximum: 1000, description: 'Snapshots (RKE2, Kubespray) or archives (k0s) kept per server.' }),
        s3: Type.Optional(
          Type.Object(
            {
              endpoint: Type.String({ pattern: '^[A-Za-z0-9.-]+(:[0-9]{1,5})?$', maxLength: 260, expected: 'an S3 endpoint host[:port] such as s3.example.edu:9000', description: 'S3-compatible endpoint (HTTPS unless insecure).' }),
              bucket: Type.String({ pattern: '^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$', expected: 'an S3 bucket name: 3-63 lowercase letters, digits, "." and "-"', description: 'Bucket the snapshots go to.' }),
              folder: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$', maxLength: 200, expected: 'a folder such as hpc4/etcd (default: the site name)', description: 'Folder in the bucket (default: the site name).' })),
              region: Type.Optional(Type.String({ pattern: '^[a-z0-9-]{1,40}$', expected: 'an S3 region such as us-east-1', description: 'S3 region, where the service needs one.' })),
              insecure: Type.Boolean({ default: false, description: 'Plain HTTP to the endpoint (never on a shared network).' }),
            },
            { ...strict, description: 'RKE2: also upload every snapshot to this S3-compatible target; the access key pair is generated and SOPS-encrypted (secrets/cluster/kube-system/etcd-s3-config).' },
          ),
        ),
      },
      { ...strict, default: {}, description: 'Scheduled backups on every server; ansible/restore.yml restores one.' },
    ),
    upgrade: Type.Object(
      {
        agentBatch: Type.String({
          default: '25%',
          pattern: '^([1-9][0-9]?%|100%|[1-9][0-9]*)$',
          expected: 'a number of agents or a percentage, such as 2 or 25%',
          description: 'How many agents upgrade.yml drains and changes at once (servers always go one at a time).',
        }),
      },
      { ...strict, default: {}, description: 'Rolling changes with ansible/upgrade.yml.' },
    ),
    airgap: Type.Optional(
      Type.Object(
        {
          artifactsPath: Type.Optional(SafeAbsolutePath({ description: 'Directory on the bastion with the distribution artifacts.' })),
          mirror: Type.Optional(HttpUrl({ description: 'HTTP(S) mirror URL serving the distribution artifacts.' })),
        },
        { ...strict, description: 'Install from local artifacts instead of the internet.' },
      ),
    ),
  },
  { ...strict, description: 'The Kubernetes distribution and its cluster-wide settings.' },
);

const Node = Type.Object(
  {
    name: DnsLabel({ description: 'Host name; also the Kubernetes node name.' }),
    address: Ipv4({ description: 'Address Ansible reaches the node at.' }),
    role: OneOf(['server', 'agent'], {
      description: 'server: control plane (etcd); agent: worker.',
    }),
    extraAddresses: Type.Record(Type.String({ pattern: '^[A-Za-z0-9_-]+$' }), Ipv4(), {
      additionalProperties: false,
      expectedKey: 'a network name of letters, digits, "_" and "-", such as net44',
      default: {},
      description: 'Other interfaces by network name; added to the TLS SANs for servers.',
    }),
    labels: Type.Record(LabelKey(), LabelValue(), {
      additionalProperties: false,
      expectedKey: LabelKey().expected,
      default: {},
      description: 'Kubernetes node labels (key: value).',
    }),
    taints: Type.Array(Taint(), { default: [], description: 'Kubernetes node taints, key[=value]:Effect.' }),
    gpus: Type.Optional(
      Type.Object(
        {
          vendor: OneOf(['nvidia', 'amd'], { description: 'GPU vendor (nvidia: the GPU operator serves these nodes).' }),
          count: Type.Integer({ minimum: 1, description: 'GPUs in the node.' }),
        },
        { ...strict, description: 'GPUs of the node: workflow steps that ask for GPUs run on such nodes.' },
      ),
    ),
  },
  { ...strict, description: 'One machine: its name, address, role, labels, taints and GPUs.' },
);

const Kubelet = Type.Object(
  {
    topologyManagerPolicy: Type.Optional(
      OneOf(['none', 'best-effort', 'restricted', 'single-numa-node'], { description: 'Kubelet topology manager policy: single-numa-node keeps a Guaranteed pod\'s CPUs, memory and devices on one NUMA node.' }),
    ),
    topologyManagerScope: Type.Optional(OneOf(['container', 'pod'], { description: 'Whether NUMA alignment is per container or per pod.' })),
    cpuManagerPolicy: Type.Optional(OneOf(['none', 'static'], { description: 'static: Guaranteed pods with whole CPUs get exclusive cores (workflow steps set requests equal to limits).' })),
    memoryManagerPolicy: Type.Optional(OneOf(['None', 'Static'], { description: 'Static: memory of Guaranteed pods from the NUMA nodes their CPUs are on (needs reserved.memory).' })),
    reserved: Type.Optional(
      Type.Object({ cpu: Type.Optional(Quantity({ description: 'CPU kept for the system and Kubernetes, e.g. 500m.' })), memory: Type.Optional(Quantity({ description: 'Memory kept for the system and Kubernetes, e.g. 1100Mi.' })) }, {
        ...strict,
        description: 'Resources reserved for the system and Kubernetes daemons.',
      }),
    ),
  },
  { ...strict, description: 'NUMA-aware static partitioning for HPC nodes.' },
);

const NodeSetup = Type.Object(
  {
    ansibleUser: UserName({ default: 'root', description: 'Account Ansible connects as (it needs root or sudo).' }),
    adminUser: Type.String({
      default: 'k8sadmin',
      pattern: '^([a-z_][a-z0-9_-]*)?$',
      expected: 'a Linux user name such as k8sadmin, or "" for none',
      description: 'Administrator account created on every node, with sudo; "" skips it.',
    }),
    sshAuthorizedKeys: Type.Array(
      Type.String({
        pattern: '^(ssh-[a-z0-9-]+|ecdsa-sha2-nistp[0-9]+|sk-[A-Za-z0-9@.-]+) [A-Za-z0-9+/]+={0,3}( [^\\u0000-\\u001f\\u007f]{0,200})?$',
        expected: 'one SSH public key line: type, base64 key and an optional comment (ssh-ed25519 AAAA... admin@site)',
      }),
      {
      default: [],
      description: 'SSH public keys of the administrators.',
    }),
    firewall: OneOf(['auto', 'firewalld', 'disabled', 'unmanaged'], {
      default: 'auto',
      description: 'auto: off for RKE2 (it conflicts with canal), firewalld with the needed ports for k0s.',
    }),
    selinux: OneOf(['enforcing', 'permissive', 'disabled', 'keep'], { default: 'enforcing', description: 'SELinux mode on RHEL-family nodes (disabled takes effect at the next reboot; a warning says what is lost).' }),
    timeServers: Type.Array(HostName(), { default: [], description: 'NTP servers for chrony; empty keeps the distribution pools.' }),
  },
  { ...strict, default: {}, description: 'Node preparation (Ansible stage 2).' },
);

const Volume = Type.Object(
  {
    name: DnsLabel({ description: 'Volume name: the PersistentVolumeClaim in each environment namespace and the mount /mnt/<name> in workflow steps.' }),
    type: OneOf(['nfs', 'hostPath'], {
      description: 'nfs: served by an NFS server; hostPath: a parallel filesystem mounted on every node.',
    }),
    server: Type.Optional(Ipv4({ description: 'NFS server (type nfs).' })),
    path: SafeAbsolutePath({ description: 'Exported path (nfs) or the directory on every node (hostPath).' }),
    readOnly: Type.Boolean({ default: false, description: 'Mounted read-only everywhere (e.g. a software stack).' }),
    size: Quantity({ description: 'Capacity of the PersistentVolume (informational for NFS: Kubernetes does not enforce it).' }),
    mountOptions: Type.Array(
      Type.String({ pattern: '^[A-Za-z0-9_.-]+(=[A-Za-z0-9_.:/,-]+)?$', expected: 'one mount option such as nfsvers=4.1, hard or ro' }),
      { default: [], description: 'NFS mount options of the PersistentVolume.' },
    ),
    environments: Type.Optional(
      Type.Array(DnsLabel(), { minItems: 1, description: 'Environments the volume is exposed to (default: every environment).' }),
    ),
  },
  strict,
);

const StorageClass = Type.Object(
  {
    name: DnsSubdomain({ description: 'StorageClass name; components and claims ask for it.' }),
    type: OneOf(['nfs', 'localPath'], {
      default: 'nfs',
      description: 'nfs: dynamic provisioning by csi-driver-nfs, one directory per volume on the share; localPath: a directory per volume on the disk of the node the pod runs on (Rancher\'s local-path-provisioner), for one-node sites.',
    }),
    server: Type.Optional(HostName({ description: 'nfs: the NFS server (required).' })),
    share: Type.Optional(SafeAbsolutePath({ description: 'nfs: the exported directory that holds the provisioned volumes (required).' })),
    path: Type.Optional(SafeAbsolutePath({ description: 'localPath: the directory on each node that holds the volumes (default /var/lib/siteforge/local-path).' })),
    subDir: Type.Optional(
      Type.String({
        pattern: '^[A-Za-z0-9._/-]*(\\$\\{pvc\\.metadata\\.(name|namespace)\\}|\\$\\{pv\\.metadata\\.name\\}|[A-Za-z0-9._/-])*$',
        expected: 'a directory pattern such as ${pvc.metadata.namespace}/${pvc.metadata.name} (csi-driver-nfs variables only)',
        description: 'Directory of each volume below the share (default: one directory per volume name).',
      }),
    ),
    reclaimPolicy: OneOf(['Retain', 'Delete'], { default: 'Retain', description: 'Retain keeps the data when a claim is deleted (safe default).' }),
    mountOptions: Type.Array(
      Type.String({ pattern: '^[A-Za-z0-9_.-]+(=[A-Za-z0-9_.:/,-]+)?$', expected: 'one mount option such as nfsvers=4.1, hard or ro' }),
      { default: [], description: 'NFS mount options of every provisioned volume.' },
    ),
    default: Type.Boolean({ default: false, description: 'The cluster default class: claims that name no class use it.' }),
  },
  strict,
);

/** Text for a container (an argument, a script, an environment value): anything printable, tabs and newlines. */
const ContainerText = (maxLength: number, o: Record<string, unknown> = {}) =>
  Type.String({ maxLength, pattern: '^[^\\u0000-\\u0008\\u000b-\\u001f\\u007f]*$', expected: 'text without control characters (tabs and newlines are fine)', ...o });

/** One step of a build as an object: its own image, command or script, environment, resources, placement and DAG dependencies. */
export const WorkflowStepObject = Type.Object(
  {
    name: DnsLabel({ description: 'Step (DAG task) name, unique in the workflow.' }),
    image: Type.Optional(ImageReference({ description: 'Default: the workflow\'s image.' })),
    command: Type.Optional(Type.Array(ContainerText(4096), { minItems: 1, maxItems: 64, description: 'Entrypoint (default: the image\'s).' })),
    args: Type.Optional(Type.Array(ContainerText(4096), { maxItems: 256, description: 'Arguments (default: the step name, as for a step given by name).' })),
    script: Type.Optional(ContainerText(65536, { description: 'A shell script (Argo script template, run by /bin/bash); instead of command/args.' })),
    env: Type.Record(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$' }), ContainerText(4096), {
      additionalProperties: false,
      default: {},
      expectedKey: 'an environment variable name: letters, digits and "_", not starting with a digit',
      description: 'Environment variables.',
    }),
    dependencies: Type.Array(DnsLabel(), { default: [], description: 'Steps that must finish first; steps without dependencies start at once, in parallel.' }),
    resources: Type.Optional(
      Type.Object(
        {
          cpu: Type.Optional(Quantity({ description: 'CPU request and limit, e.g. 8 or 500m.' })),
          memory: Type.Optional(Quantity({ description: 'Memory request and limit, e.g. 32Gi.' })),
          gpus: Type.Optional(Type.Integer({ minimum: 1, maximum: 64, description: 'NVIDIA GPUs (nvidia.com/gpu); the step then runs on GPU nodes and tolerates their taints.' })),
        },
        { ...strict, description: 'Requests equal to limits (the Guaranteed QoS class, so the static CPU manager pins whole cores).' },
      ),
    ),
    nodeSelector: Type.Record(LabelKey(), LabelValue(), { additionalProperties: false, expectedKey: LabelKey().expected, default: {}, description: 'Node labels the step\'s pod requires.' }),
    tolerations: Type.Array(Taint({ expected: 'a taint to tolerate, key[=value]:Effect, e.g. hpc/pool=gpu:NoSchedule' }), { default: [], description: 'Node taints the step tolerates.' }),
    volumes: Type.Optional(
      Type.Array(Type.Object({ name: DnsLabel({ description: 'A volume of the workflow\'s environment.' }), readOnly: Type.Optional(Type.Boolean({ description: 'Mount it read-only in this step.' })) }, strict), {
        description: 'The environment volumes this step mounts at /mnt/<name> (default: all of them); readOnly: true mounts a writable volume read-only.',
      }),
    ),
    retries: Type.Optional(Type.Integer({ minimum: 0, maximum: 20, description: 'Retries of a failed step.' })),
  },
  strict,
);

/** A step: a name (run with the workflow image, after the step before it) or an object. */
const WorkflowStep = Type.Unsafe<string | Static<typeof WorkflowStepObject>>({ if: { type: 'string' }, then: DnsLabel(), else: WorkflowStepObject });

/** What one environment of a workflow runs instead of the shared definition. */
const WorkflowPin = Type.Object(
  {
    image: Type.Optional(ImageReference({ description: 'This environment\'s image (of the steps given by name, and the default of step objects).' })),
    parameters: Type.Optional(
      Type.Record(Type.String({ pattern: '^[A-Za-z0-9_-]{1,63}$' }), ContainerText(1024), {
        additionalProperties: false,
        expectedKey: 'a parameter name: letters, digits, "_" and "-"',
        description: 'Parameter defaults this environment sets (the others stay shared).',
      }),
    ),
    steps: Type.Optional(Type.Array(WorkflowStep, { minItems: 1, description: 'This environment\'s steps (instead of the shared ones).' })),
  },
  { ...strict, description: 'One environment\'s pin.' },
);

const Workflow = Type.Object(
  {
    name: DnsLabel({ description: 'WorkflowTemplate (and CronWorkflow) name.' }),
    environment: Type.Optional(DnsLabel({ description: 'One of spec.environments: the workflow runs in its namespace, with its volumes (or give environments).' })),
    environments: Type.Optional(
      Type.Array(DnsLabel(), {
        minItems: 1,
        description: 'Instead of environment: every environment the workflow runs in, the order it is promoted in (e.g. [dev, prod]); each may pin its own image, parameters and steps (pins).',
      }),
    ),
    pins: Type.Record(DnsLabel(), WorkflowPin, {
      additionalProperties: false,
      default: {},
      expectedKey: 'one of the workflow\'s environments',
      description: 'Per-environment pins over the shared definition: what an environment runs until `siteforge promote` copies it to the next (e.g. dev tries a new image first).',
    }),
    schedule: Type.Optional(
      CronSchedule({
        description: 'Run on this cron schedule (a CronWorkflow); without it the workflow runs on demand.',
      }),
    ),
    image: ImageReference({ description: 'Image of the steps given by name (and the default of step objects); pin a tag or digest: latest or no tag is a warning, and so is (with Harbor) a registry Harbor does not mirror.' }),
    steps: Type.Array(WorkflowStep, {
      minItems: 1,
      description: 'Steps by name (run in order with the workflow image, the name as argument) or as objects, which make a DAG (the fields below). Unknown dependencies, cycles, GPUs on a site without GPU nodes, a script with args and volumes the environment lacks are validation errors.',
    }),
    parameters: Type.Record(Type.String({ pattern: '^[A-Za-z0-9_-]{1,63}$' }), ContainerText(1024), {
      additionalProperties: false,
      default: {},
      expectedKey: 'a parameter name: letters, digits, "_" and "-"',
      description: 'Workflow parameters with their default values, used in steps as {{workflow.parameters.<name>}} (e.g. image-tag).',
    }),
    concurrencyPolicy: OneOf(['Forbid', 'Allow', 'Replace'], { default: 'Forbid', description: 'Scheduled runs: what a new run does while the previous one still runs.' }),
    ttlSecondsAfterFinished: Type.Optional(Type.Integer({ minimum: 0, maximum: 31536000, description: 'Delete a finished workflow after this many seconds (its logs stay in the artifact repository, if any).' })),
    podGC: Type.Optional(OneOf(['OnPodCompletion', 'OnPodSuccess', 'OnWorkflowCompletion', 'OnWorkflowSuccess'], { description: 'When Argo deletes the step pods.' })),
    retries: Type.Optional(Type.Integer({ minimum: 0, maximum: 20, description: 'Retries of a failed step (a step\'s own retries win).' })),
  },
  strict,
);

const EmailAddress = (o: Record<string, unknown> = {}) =>
  Type.String({ pattern: '^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\\.[A-Za-z0-9-]+)+$', maxLength: 254, expected: 'an e-mail address such as hpc-admins@example.edu', ...o });
const ChatChannel = Type.String({ pattern: '^[#@]?[A-Za-z0-9._-]{1,80}$', expected: 'a channel such as #hpc-alerts', description: 'Channel to post to (default: the webhook\'s own).' });

/** One place alerts go: e-mail, Slack, Mattermost (Slack-compatible webhook) and/or a webhook. */
const AlertReceiver = Type.Object(
  {
    name: DnsLabel({ description: 'Receiver name (Alertmanager receiver).' }),
    severities: Type.Array(OneOf(['critical', 'warning', 'info']), {
      default: ['critical', 'warning'],
      minItems: 1,
      description: 'Alert severities routed to this receiver.',
    }),
    email: Type.Optional(
      Type.Object(
        {
          to: Type.Array(EmailAddress(), { minItems: 1, description: 'Recipients.' }),
          from: EmailAddress({ description: 'Sender address.' }),
          smarthost: Type.String({ pattern: '^[A-Za-z0-9.-]+:[0-9]{1,5}$', expected: 'an SMTP server host:port such as smtp.example.edu:587', description: 'SMTP server.' }),
          username: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9._@+-]{1,128}$', expected: 'an SMTP user name', description: 'SMTP user; its password is a SOPS secret you fill in (alertmanager-credentials).' })),
          requireTLS: Type.Boolean({ default: true, description: 'STARTTLS required (never send credentials in clear).' }),
        },
        { ...strict, description: 'E-mail through an SMTP server.' },
      ),
    ),
    slack: Type.Optional(Type.Object({ channel: Type.Optional(ChatChannel) }, { ...strict, description: 'Slack incoming webhook; its URL is a SOPS secret you fill in (alertmanager-credentials).' })),
    mattermost: Type.Optional(Type.Object({ channel: Type.Optional(ChatChannel) }, { ...strict, description: 'Mattermost incoming webhook (Slack-compatible); its URL is a SOPS secret you fill in.' })),
    webhook: Type.Optional(Type.Object({ url: HttpUrl({ description: 'Endpoint receiving Alertmanager\'s JSON (no token in it: it is in the repository).' }) }, { ...strict, description: 'Generic webhook.' })),
  },
  { ...strict, description: 'One receiver: at least one of email, slack, mattermost, webhook.' },
);

const Alerting = Type.Object(
  {
    receivers: Type.Array(AlertReceiver, { default: [], description: 'Where alerts go (needs spec.components.monitoring); empty: Alertmanager keeps them to itself.' }),
    groupBy: Type.Array(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$', expected: 'a label name such as alertname' }), { default: ['alertname', 'namespace'], description: 'Labels alerts are grouped by in one notification.' }),
    repeatInterval: Type.String({ default: '4h', pattern: '^[0-9]+(m|h|d)$', expected: 'a duration such as 4h', description: 'How often a still-firing alert is sent again.' }),
    siteRules: Type.Boolean({ default: true, description: 'Alert on what this cluster exists for: failed workflow steps, Harbor down, stale NFS mounts (beside the chart\'s default rules for full volumes and NotReady nodes).' }),
  },
  { ...strict, default: {}, description: 'Alerts that reach someone: Alertmanager receivers and routes, the site\'s rules, and (Flux) failed reconciliations sent to Alertmanager.' },
);

/** One release of any chart the site names: a wrapper chart like the built-in ones, with the same ordering and checks. */
const ExtraRelease = Type.Object(
  {
    name: DnsLabel({ description: 'Release name, and its wrapper chart charts/<name>; unique among the site\'s releases.' }),
    namespace: DnsLabel({ description: 'Namespace the release is installed in (created by helmfile, Flux or Argo CD).' }),
    description: Type.Optional(Type.String({ maxLength: 200, pattern: '^[^\\u0000-\\u001f\\u007f]*$', expected: 'one line of text', description: 'What it is, for the release index and Chart.yaml.' })),
    chart: Type.Object(
      {
        repository: Type.String({
          pattern: '^https://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~%+-]+)*/?$',
          maxLength: 500,
          expected: 'the https:// URL of a Helm repository such as https://hub.jupyter.org/helm-chart/',
          description: 'Helm repository (https) the chart comes from.',
        }),
        name: Type.String({ pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', maxLength: 63, expected: 'a chart name such as jupyterhub', description: 'Chart name in that repository.' }),
        version: Type.String({ pattern: '^v?[0-9]+\\.[0-9]+\\.[0-9]+(-[0-9A-Za-z.-]+)?$', expected: 'an exact chart version such as 4.4.0', description: 'Pinned chart version (Renovate proposes updates).' }),
      },
      { ...strict, description: 'The upstream chart, pinned.' },
    ),
    values: Type.Record(Type.String(), Type.Unknown(), { default: {}, description: 'Values for the chart, as its values.yaml takes them (no secrets: use secretValues).' }),
    secretValues: Type.Array(
      Type.Object(
        {
          path: Type.String({ pattern: '^[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+){0,15}$', maxLength: 253, expected: 'a dotted path into the chart\'s values such as hub.config.LDAPAuthenticator.lookup_dn_search_password', description: 'Where in the chart\'s values the secret goes.' }),
          generate: OneOf(['random', 'placeholder'], {
            default: 'random',
            description: 'random: siteforge generates it (alphanumeric, `length` characters); placeholder: a value you replace with `sops` (a password another system issued).',
          }),
          length: Type.Integer({ default: 32, minimum: 16, maximum: 128, description: 'Length of a random value.' }),
        },
        strict,
      ),
      { default: [], description: 'Values kept in SOPS (secrets/cluster/<namespace>/<name>-values): helm-secrets values for helmfile, valuesFrom for Flux, helm-secrets for Argo CD.' },
    ),
    needs: Type.Array(Type.String({ pattern: '^[A-Za-z0-9-]+$', expected: 'a component name (certManager) or a release name (cert-manager, another extra release)' }), {
      default: [],
      description: 'What must be deployed first: components (all their releases) or releases by name.',
    }),
    layer: OneOf(['operators', 'infrastructure', 'apps'], { default: 'apps', description: 'GitOps layer (never before the layers of what it needs).' }),
    images: Type.Array(ImageReference(), { default: [], description: 'Images the chart runs with these values (images.txt, and verify checks them against what renders).' }),
  },
  { ...strict, description: 'A release of a chart siteforge has no component for.' },
);

const ExtraManifests = Type.Object(
  {
    path: Type.String({
      default: 'extra-manifests',
      pattern: '^[A-Za-z0-9_][A-Za-z0-9._-]*(/[A-Za-z0-9_][A-Za-z0-9._-]*)*$',
      maxLength: 200,
      expected: 'a directory of the repository such as extra-manifests (relative, no "..")',
      description: 'The site\'s own kustomize directory (its kustomization.yaml lists the manifests); siteforge creates it once and never writes it again.',
    }),
    namespace: DnsLabel({ default: 'default', description: 'Namespace of its objects: the seeded kustomization.yaml sets it (remove that line to name namespaces in the manifests); helmfile\'s release and Argo CD\'s destination namespace.' }),
    needs: Type.Array(Type.String({ pattern: '^[A-Za-z0-9-]+$', expected: 'a component or release name' }), { default: [], description: 'What must be deployed first (components or releases); default: applied after every release.' }),
  },
  { ...strict, description: 'Manifests the site owns, applied by helmfile, Flux and Argo CD in order with the releases.' },
);

const Identity = Type.Object(
  {
    ldap: Type.Optional(
      Type.Object(
        {
          url: Type.String({
            pattern: '^ldaps?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$',
            maxLength: 260,
            expected: 'an LDAP URL such as ldaps://ldap.hpc4.example.edu or ldap://ldap.hpc4.example.edu:389',
            description: 'The directory: ldaps:// (TLS) or ldap:// (with startTls).',
          }),
          startTls: Type.Boolean({ default: false, description: 'With ldap://: upgrade to TLS with StartTLS before binding.' }),
          userBase: DistinguishedName({ description: 'Where users are searched, e.g. ou=people,dc=hpc4,dc=example,dc=edu.' }),
          userAttribute: Type.String({ default: 'uid', pattern: '^[A-Za-z][A-Za-z0-9-]{0,63}$', expected: 'an attribute name such as uid', description: 'The attribute holding the login name.' }),
          groupBase: Type.Optional(DistinguishedName({ description: 'Where groups are searched (for allowed groups).' })),
          bindDn: Type.Optional(DistinguishedName({ description: 'The service account services search with (its password is a SOPS secret of each service you fill in); without it, users bind directly.' })),
        },
        { additionalProperties: false, description: 'The site\'s LDAP directory (users and groups).' },
      ),
    ),
    oidc: Type.Optional(
      Type.Object(
        { issuer: HttpUrl({ description: 'The site\'s OIDC provider (issuer URL, e.g. https://login.hpc4.example.edu/realms/hpc): the services that log people in through it (Argo Workflows SSO) use it unless they name their own.' }) },
        { additionalProperties: false, description: 'The site\'s OIDC provider.' },
      ),
    ),
  },
  { additionalProperties: false, default: {}, description: 'Who the users are, in one place: the services that authenticate users (JupyterHub) read it.' },
);

type ComponentsShape = { [K in keyof typeof catalog]: TOptional<(typeof catalog)[K]['settings']> };
const componentProperties = Object.fromEntries(
  Object.entries(catalog).map(([name, module]) => [name, Type.Optional(module.settings)]),
) as ComponentsShape;
const Components = Type.Object(componentProperties, {
  ...strict,
  default: {},
  description: 'Each component: enabled (default false unless noted) plus its own settings.',
}) as TObject<ComponentsShape>;

const AgeRecipient = Type.String({
  pattern: '^age1[02-9ac-hj-np-z]{58}$',
  expected: 'an age X25519 public key: "age1" followed by 58 bech32 characters',
});

export const SiteSchema = Type.Object(
  {
    apiVersion: Type.Literal(API_VERSION, { description: 'Version of the site.yaml contract.' }),
    kind: Type.Literal(KIND, { description: 'Always Site.' }),
    metadata: Type.Object({ name: DnsLabel({ description: 'Names the cluster and clusters/<name>.' }) }, { ...strict, description: 'The site.' }),
    spec: Type.Object(
      {
        domain: DnsName({ description: 'Base domain for service host names.' }),
        distribution: Distribution,
        nodes: Type.Array(Node, { minItems: 1, description: 'Every node of the cluster; the first server initialises it. Names and addresses are unique; at least one server (an even count is a warning).' }),
        kubelet: Type.Optional(Kubelet),
        nodeSetup: NodeSetup,
        placement: Type.Object(
          {
            serverTaints: Type.Array(Taint(), {
              default: [],
              description: 'Taints on every server (control-plane) node, e.g. CriticalAddonsOnly=true:NoExecute; the cluster components tolerate them, build pods do not.',
            }),
            tolerations: Type.Array(Taint(), { default: [], description: 'Further node taints every cluster component tolerates (e.g. a dedicated infrastructure pool).' }),
          },
          { ...strict, default: {}, description: 'Where cluster components run.' },
        ),
        storage: Type.Object(
          {
            volumes: Type.Array(Volume, { default: [], description: 'Shared HPC storage: a PersistentVolume and claim per volume and environment, mounted in workflow steps.' }),
            classes: Type.Array(StorageClass, {
              default: [],
              description: 'StorageClasses for dynamic provisioning by csi-driver-nfs; mark one default. Harbor and Prometheus claim from the default class unless their storageClass names another; enabling them with no class is a validation error.',
            }),
          },
          { ...strict, default: {}, description: 'Volumes and StorageClasses.' },
        ),
        environments: Type.Array(DnsLabel(), {
          minItems: 1,
          default: ['prod'],
          description: 'Environments; each gets the namespace <env>-<site> and its own values.',
        }),
        components: Components,
        alerting: Alerting,
        identity: Identity,
        extraReleases: Type.Array(ExtraRelease, { default: [], description: 'Releases of any other chart (repository, name, pinned version, namespace, values, SOPS values, needs), wired into helmfile, Flux and Argo CD like the built-in ones.' }),
        extraManifests: Type.Optional(ExtraManifests),
        workflows: Type.Array(Workflow, { default: [], description: 'Build-factory workflows (Argo WorkflowTemplates, CronWorkflows with a schedule); the generated renovate.json updates their pinned image tags and digests.' }),
        secrets: Type.Object(
          { ageRecipients: Type.Array(AgeRecipient, { minItems: 1, description: 'age public keys; private keys never enter the repository.' }) },
          { ...strict, description: 'Who can decrypt the SOPS files.' },
        ),
        gitops: Type.Object(
          {
            engine: OneOf(['flux', 'argocd'], { default: 'flux', description: 'GitOps engine that applies clusters/<site> (Flux Kustomizations and HelmReleases, or Argo CD Applications with KSOPS).' }),
            repository: Type.String({
              pattern: GIT_URL_PATTERN,
              maxLength: 500,
              expected: 'a git URL such as ssh://git@git.example.edu/hpc/hpc4-gitops.git (ssh, https or git scheme, or user@host:path)',
              description: 'The repository the engine pulls (no credentials in the URL: the deploy key is a SOPS secret).',
            }),
            branch: BranchName({ default: 'main', description: 'Branch the engine follows and pull requests target.' }),
            flux: Type.Object(
              {
                selfManaged: Type.Boolean({
                  default: true,
                  description:
                    'Flux manages its own controllers from this repository (clusters/<site>/flux-system/flux.yaml): the release\'s signed manifests, so a Flux upgrade is a reviewed commit of `version`. Off: Flux is installed and upgraded by hand.',
                }),
                version: Type.String({
                  default: FLUX_DEFAULT_VERSION,
                  pattern: '^v2\\.[0-9]+\\.[0-9]+$',
                  expected: `a Flux release such as ${FLUX_DEFAULT_VERSION}`,
                  description: `The Flux release the cluster runs (${FLUX_MINIMUM_VERSION} or newer): the bootstrap installs it and, self-managed, the repository keeps it.`,
                }),
                manifests: Type.String({
                  default: FLUX_MANIFESTS_DEFAULT,
                  pattern: '^oci://[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?(/[a-z0-9]([a-z0-9._-]*[a-z0-9])?)+$',
                  maxLength: 300,
                  expected: `an OCI repository URL such as ${FLUX_MANIFESTS_DEFAULT}`,
                  description:
                    'Where source-controller pulls the release\'s manifests from (tag = version): Flux\'s own, or a mirror of it that keeps its cosign signature (cosign copy). The signature is checked either way.',
                }),
              },
              { ...strict, default: {}, description: 'With engine flux: the Flux release and whether the repository manages it.' },
            ),
          },
          { ...strict, description: 'Where the generated repository lives.' },
        ),
      },
      { ...strict, description: 'The site itself.' },
    ),
  },
  { ...strict, $id: 'https://siteforge.dev/schemas/site-v1alpha1.json', title: 'siteforge Site' },
);

/** How the schema is validated (ajv), from source and in the validator compiled at build time. */
export const AJV_OPTIONS = { allErrors: true, useDefaults: true, strict: true, verbose: true } as const;
/** Annotation keywords of this schema: messages read them, validation ignores them. */
export const SCHEMA_ANNOTATIONS = ['expected', 'expectedKey'] as const;

/** A spec that passed the schema, with the schema's defaults filled in. */
export type SiteSpec = Static<typeof SiteSchema>;
export type NodeSpec = SiteSpec['spec']['nodes'][number];
export type VolumeSpec = SiteSpec['spec']['storage']['volumes'][number];
export type StorageClassSpec = SiteSpec['spec']['storage']['classes'][number];
export type WorkflowSpec = SiteSpec['spec']['workflows'][number];
export type WorkflowPinSpec = Static<typeof WorkflowPin>;
export type WorkflowStepSpec = Static<typeof WorkflowStepObject>;
export type AlertingSpec = SiteSpec['spec']['alerting'];
export type HpkSpec = Static<typeof Hpk>;
export type IdentitySpec = Static<typeof Identity>;
export type ExtraReleaseSpec = Static<typeof ExtraRelease>;
export type ExtraManifestsSpec = Static<typeof ExtraManifests>;

/**
 * Required in what a person writes: a property with a default is filled in by validation, so it
 * is optional in the file (TypeBox lists it as required because the validated spec always has it).
 */
function withOptionalDefaults(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withOptionalDefaults);
  if (!node || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) out[key] = withOptionalDefaults(value);
  const properties = out.properties as Record<string, { default?: unknown }> | undefined;
  if (Array.isArray(out.required) && properties) {
    const required = (out.required as string[]).filter((name) => properties[name]?.default === undefined);
    if (required.length) out.required = required;
    else delete out.required;
  }
  return out;
}

/**
 * site.schema.json: the schema as editors (yaml-language-server) read it — of what a person
 * writes: fields with defaults optional, descriptions, defaults, enums and patterns as validation
 * enforces them, unknown keys rejected.
 */
export function editorSchema(): Record<string, unknown> {
  return { $schema: 'http://json-schema.org/draft-07/schema#', ...(withOptionalDefaults(JSON.parse(JSON.stringify(SiteSchema))) as object) };
}
