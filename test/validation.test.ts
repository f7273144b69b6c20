// The invalid-spec corpus: every fixture under test/fixtures/invalid is run through the real
// CLI. Each must exit 1, print exactly the listed diagnostics (position, field path, message),
// a hint or expectation where one helps, and leave the output directory untouched.
import t from 'tap';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { inBatches, siteforge, snapshotTree, tempDir, ROOT } from './helpers/cli.ts';

const DIR = 'test/fixtures/invalid';

/** fixture → every diagnostic as "line:col severity path: message", in output order. */
const expected: Record<string, string[]> = {
  'api-endpoint-rules': ['12:43 error spec.distribution.apiEndpoint.address: 172.16.0.201 lies inside the MetalLB pool 172.16.0.200-172.16.0.210 (t1-pool)'],
  'api-endpoint-node-address': [
    '12:25 error spec.distribution.apiEndpoint.type: kubeVip is generated for RKE2 only',
    '12:43 error spec.distribution.apiEndpoint.address: 172.16.0.10 is the address of node "node1"',
  ],
  'bad-cidr-prefix': ['11:18 error spec.distribution.serviceCIDR: the string "10.43.0.0/33" is not valid'],
  'bad-cron': [
    '17:5 warning spec.workflows: workflows are defined but argoWorkflows is not enabled, so nothing runs them',
    '17:52 error spec.workflows[0].schedule: schedule "daily": has 1 field, not five',
    '17:68 warning spec.workflows[0].image: image "spack:latest" is not pinned (latest): each run may build with a different image',
  ],
  'bad-enum-distribution': ['8:11 error spec.distribution.type: the string "k3s" is not allowed'],
  'bad-ip': ['14:30 error spec.nodes[1].address: the string "172.16.0.300" is not valid'],
  'bad-recipient-checksum': [
    '17:21 error spec.secrets.ageRecipients[0]: "age1m2eemtx2jfdk9g298kg4f76fgdzypna5czpxheh2dpqvyzsktptsfaljk3" has an invalid bech32 checksum',
  ],
  'bad-role': ['14:49 error spec.nodes[1].role: the string "worker" is not allowed'],
  'bad-site-name': ['4:9 error metadata.name: the string "T1_site" is not valid'],
  'cidr-host-bits': ['10:18 error spec.distribution.clusterCIDR: "10.42.1.0/16" has host bits set'],
  'cidr-overlap': ['11:18 error spec.distribution.serviceCIDR: 10.42.128.0/17 overlaps clusterCIDR 10.42.0.0/16'],
  'duplicate-environment': ['15:29 error spec.environments[2]: duplicate environment "prod"'],
  'duplicate-extra-address': ['14:77 error spec.nodes[1].extraAddresses.ib: duplicate node address "172.16.0.10"'],
  'duplicate-node-address': ['14:30 error spec.nodes[1].address: duplicate node address "172.16.0.10"'],
  'duplicate-node-name': ['14:14 error spec.nodes[1].name: duplicate node name "node1"'],
  'empty-file': ['1:1 error the file is empty'],
  'extra-release-fields': [
    '18:27 error spec.extraReleases[0].chart.repository: the string "oci://registry.example.net/charts" is not valid',
    '18:91 error spec.extraReleases[0].chart.version: the string "latest" is not valid',
    '21:18 error spec.extraReleases[0].secretValues[1].path: duplicate secret value path "proxy.secretToken"',
    '22:18 error spec.extraReleases[0].secretValues[2].path: the string "hub.config; rm -rf /" is not valid',
    '23:14 error spec.extraReleases[1].name: the name extra-manifests is the site\'s own manifests\' (spec.extraManifests)',
    '23:65 error spec.extraReleases[1].chart.repository: the string "http://charts.example.net/" is not valid',
    '23:101 error spec.extraReleases[1].chart.name: the string "Other" is not valid',
    '24:26 error spec.extraManifests.path: "charts/mine" is inside charts/, which siteforge writes',
  ],
  'extra-release-needs': [
    '18:14 error spec.extraReleases[0].name: release "cert-manager" is already the certManager component\'s',
    '19:137 error spec.extraReleases[1].needs[0]: needs "certmanager", which is neither a component nor a release of the site',
    '19:150 error spec.extraReleases[1].needs[1]: needs component harbor, which is not enabled',
    '21:28 error spec.extraManifests.needs[0]: needs "hubb", which is neither a component nor a release of the site',
    '19:136 error spec.extraReleases[1].needs: extra releases need each other in a cycle: hub → portal → hub',
  ],
  'harbor-unreachable': ['20:13 error spec.components.harbor: Harbor would be reachable only inside the cluster (ClusterIP), while the nodes pull through its mirrors and builds push to it'],
  'harbor-address-outside-pool': ['20:67 error spec.components.harbor.loadBalancerIP: 172.16.0.250 is outside every MetalLB pool (172.16.0.200-172.16.0.210)'],
  'hpk-bad-slurm-values': [
    '13:7 error spec.distribution.hpk: distribution.hpk is read only with type: hpk, and this site is rke2',
    '13:16 error spec.distribution.hpk.runtime: the string "podman" is not allowed',
    '15:16 error spec.distribution.hpk.kubelet: the string "~alice/hpk-kubelet" is not valid',
    '17:17 error spec.distribution.hpk.stateDir: the string "~/.k8sfs; rm -rf ~" is not valid',
    '18:16 error spec.distribution.hpk.account: the string "m3792 --uid=0" is not valid',
    '19:28 error spec.distribution.hpk.controlPlane.time: the string "2 days" is not valid',
    '20:25 error spec.distribution.hpk.pods.partition: the string "gpu$(id)" is not valid',
    '20:49 error spec.distribution.hpk.pods.gpu.gres: the string "gpu:a100 --exclusive" is not valid',
  ],
  'hpk-unsupported': [
    '9:14 error spec.distribution.version: "v1.24.8+k0s.0" is a distribution release, and HPK runs plain Kubernetes',
    '12:18 error spec.distribution.apiEndpoint: distribution.apiEndpoint cannot be used with distribution.type hpk: the API server is the control-plane container on its one host, at the host\'s address',
    '13:50 error spec.distribution.hpk.controlPlaneImage: the control-plane image "docker.io/chazapis/kubernetes-from-scratch:latest" is not pinned (latest): each restart could run another Kubernetes',
    '15:64 error spec.nodes[0].gpus: node GPUs cannot be used with distribution.type hpk: GPUs are Slurm\'s, requested per job',
    '16:7 error spec.nodes[1]: node "node2": HPK has no nodes of its own: spec.nodes holds one entry, the host that runs the control plane, and the compute nodes are Slurm\'s',
    '17:12 error spec.kubelet: kubelet settings cannot be used with distribution.type hpk: hpk-kubelet is not a node kubelet: Slurm places and confines every pod\'s job',
    '17:31 error spec.kubelet.cpuManagerPolicy: the static CPU manager needs CPU reserved for the system',
    '20:28 error spec.storage.volumes[0].type: NFS volume "home" cannot be used with distribution.type hpk: a pod is a Slurm job, and it sees what its compute node has mounted',
    '22:7 error spec.storage.classes: StorageClasses cannot be used with distribution.type hpk: dynamic provisioning needs a node-level CSI driver (csi-driver-nfs runs a DaemonSet on every node), and HPK has no nodes of its own',
    '25:24 error spec.components.metallb.enabled: metallb cannot be used with distribution.type hpk: its speakers announce LoadBalancer addresses from every node (a host-network DaemonSet), and HPK has no nodes and no LoadBalancer Services: every Service is headless',
    '26:28 error spec.components.gpuOperator.enabled: gpuOperator cannot be used with distribution.type hpk: it is a DaemonSet-based operator: drivers, container toolkit and device plugin on every Kubernetes node, and HPK has no nodes of its own. GPUs are Slurm\'s there: steps ask with resources.gpus and get them as GRES (distribution.hpk.pods.gpu)',
    '33:42 error spec.workflows[0].steps[0].resources.gpus: step "test" asks for GPUs, and the HPK site does not say how Slurm hands them out',
    '33:60 error spec.workflows[0].steps[0].nodeSelector: step nodeSelector cannot be used with distribution.type hpk: Slurm places every pod\'s job, not Kubernetes',
  ],
  'harbor-auth-rules': [
    '17:29 warning spec.components.ingressNginx.enabled: ingress-nginx was retired upstream in March 2026: it gets no security fixes, and it is the front door of every web UI here',
    '18:42 error spec.components.harbor.auth.mode: Harbor would send passwords to ldap://ldap.t1.example.net in clear: it speaks ldaps://, not StartTLS',
    '18:63 error spec.components.harbor.auth.ldap.filter: the string "objectClass=person" is not valid',
  ],
  'harbor-auth-oidc': [
    '15:29 warning spec.components.ingressNginx.enabled: ingress-nginx was retired upstream in March 2026: it gets no security fixes, and it is the front door of every web UI here',
    '16:42 error spec.components.harbor.auth.mode: Harbor signs people in through OIDC, and neither auth.oidc.issuer nor spec.identity.oidc is set',
    '16:72 error spec.components.harbor.auth.oidc.scopes[1]: the string "groups offline" is not valid',
  ],
  'storage-class-types': [
    '13:9 error spec.storage.classes[0]: NFS class "nfs" has no share',
    '13:47 error spec.storage.classes[0].path: path belongs to a localPath class',
    '14:9 warning spec.storage.classes[1]: class "local" keeps each volume on the disk of one of the 2 nodes: a pod that moves to another node loses its data, and the node\'s loss loses it',
    '14:48 error spec.storage.classes[1].server: server belongs to an NFS class',
    '14:74 error spec.storage.classes[1].mountOptions: a localPath volume is a directory, with no mount options',
  ],
  'network-ranges': [
    '15:59 error spec.components.networkOperator.networks[0].subnet: 10.146.18.100-10.146.18.120 includes 10.146.18.105, node "node1"\'s roce address: nv-ipam would give it to a pod',
    '16:109 error spec.components.networkOperator.networks[1].rangeEnd: rangeEnd 10.147.0.10 comes before rangeStart 10.147.0.50',
    '16:132 error spec.components.networkOperator.networks[1].exclude[0]: 10.148.0.1 is outside 10.147.0.0/24',
    '16:144 error spec.components.networkOperator.networks[1].exclude[1]: 10.147.0.30-10.147.0.20: the last address comes before the first',
    '16:169 error spec.components.networkOperator.networks[1].exclude[2]: the string "10.147.0.1-" is not valid',
    '17:87 error spec.components.networkOperator.networks[2].rangeStart: rangeStart 10.150.0.1 is outside 10.149.0.0/24',
  ],
  'kubespray-rules': [
    '9:14 error spec.distribution.version: "v1.31.4+rke2r1" is not a Kubernetes version',
    '12:10 error spec.distribution.cni: "weave" is not a kubespray CNI',
    '13:14 error spec.distribution.profile: the CIS profile is generated for RKE2 only',
    '14:18 error spec.distribution.backup.s3: S3 upload of backups is generated for RKE2 only',
    '15:13 error spec.distribution.airgap: an air-gapped Kubespray install is not generated yet',
    '17:5 warning spec.nodes: 2 server nodes: etcd needs a majority, so an even count adds no fault tolerance',
    '17:5 error spec.nodes: 2 servers: Kubespray runs etcd on the servers and refuses an even number of etcd members',
  ],
  'flux-release': [
    '19:21 error spec.gitops.flux.version: Flux v2.5.1 does not serve every API version this repository uses (OCIRepository v1 came with Flux 2.6)',
    '19:40 error spec.gitops.flux.manifests: the string "https://ghcr.io/fluxcd/flux-manifests" is not valid',
  ],
  'ingress-controller-k0s': ['10:24 error spec.distribution.ingressController: ingressController chooses the controller RKE2 bundles, and k0s bundles none'],
  'ingress-controller-twice': [
    '10:24 error spec.distribution.ingressController: RKE2\'s Traefik and siteforge\'s ingress-nginx would both serve the web front ends',
    '21:29 warning spec.components.ingressNginx.enabled: ingress-nginx was retired upstream in March 2026: it gets no security fixes, and it is the front door of every web UI here',
  ],
  'kubespray-release': ['9:26 error spec.distribution.kubespray.release: siteforge does not know what Kubespray v2.20.0 builds'],
  'harbor-projects': [
    '12:24 error spec.environments[1]: Harbor takes no robot account named siteforge-test--a for environment "test--a" (no two separators in a row)',
    '20:18 error spec.components.harbor.projects[1].name: project "spack" is listed twice',
    '20:40 error spec.components.harbor.projects[1].environments[0]: environment "dev" is not in spec.environments',
    '21:18 error spec.components.harbor.projects[2].name: "dockerhub" is the proxy cache of docker.io, which harbor-setup keeps',
    '22:18 error spec.components.harbor.projects[3].name: the string "Spack_Images" is not valid',
    '23:22 error spec.components.harbor.setup.image: "docker.io/curlimages/curl:latest" is not pinned',
  ],
  'slurm-bad-values': [
    '20:41 error spec.components.slurm.accountingEnforce[1]: the string "everything" is not allowed',
    '22:30 error spec.components.slurm.nodeSets[0].nodes: the string "cn[001-128] State=DOWN" is not valid',
    '23:18 error spec.components.slurm.nodeSets[1].name: the string "gpu;x" is not valid',
    '23:53 error spec.components.slurm.nodeSets[1].cpus: must be >= 1',
    '23:97 error spec.components.slurm.nodeSets[1].gpus.type: the string "a100 Weight=1" is not valid',
    '25:51 error spec.components.slurm.partitions[0].maxTime: the string "2 days" is not valid',
  ],
  'slurm-rules': [
    '14:7 error spec.components.slurm: slurm stores the controller state and the accounting database on persistent volumes, and the site has no StorageClass to provision them',
    '14:7 error spec.components.slurm: slurmd on the nodes and the clients reach the controller by name, and hostname is not set',
    '14:7 error spec.components.slurm: the Slurm control plane needs the site\'s Slurm image (slurmctld, slurmdbd and munged at the nodes\' Slurm release)',
    '15:28 error spec.components.slurm.databaseDaemonImage: "registry.t1.example.net/slurmdbd" is not pinned: the controller must not change Slurm release on a restart',
    '16:23 error spec.components.slurm.loadBalancerIP: 172.16.1.5 is outside every MetalLB pool (172.16.0.200-172.16.0.210)',
    '18:51 error spec.components.slurm.nodeSets[0].cpus: cpus 128 is not sockets × coresPerSocket × threadsPerCore (2 × 32 × 1)',
    '19:18 error spec.components.slurm.nodeSets[1].name: node set "cpu" is listed twice',
    '19:30 error spec.components.slurm.nodeSets[1].nodes: node cn120 is in nodeSets[0] ("cpu") already',
    '22:34 error spec.components.slurm.partitions[1].nodeSets[0]: partition "gpu" names node set "gpus", which nodeSets does not define',
    '22:50 error spec.components.slurm.partitions[1].default: a second default partition',
    '23:18 error spec.components.slurm.partitions[2].name: partition "batch" is listed twice',
    '24:23 error spec.components.slurm.accountingSync: the accounting sync reads LDAP groups, and spec.identity.ldap is not set',
    '24:23 error spec.components.slurm.accountingSync.groups: the accounting sync has no LDAP groups to make accounts of',
    '24:49 error spec.components.slurm.accountingSync.schedule: schedule "61 * * * *": the minute field "61" is not valid (allowed: *, 0-59, lists, ranges and /steps)',
  ],
  'hpk-without-settings': [
    '8:11 error spec.distribution.type: type hpk needs distribution.hpk: the runtime, the control-plane image, the hpk-kubelet binary and the site\'s DNS server',
  ],
  'many-errors': [
    '8:11 error spec.distribution.type: the string "rke" is not allowed',
    '11:18 error spec.distribution.serviceCIDR: 10.42.0.0/24 overlaps clusterCIDR 10.42.0.0/16',
    '14:14 error spec.nodes[1].name: duplicate node name "node1"',
  ],
  'metallb-overlaps-node': ['17:42 error spec.components.metallb.addresses[0]: "172.16.0.5-172.16.0.20" includes node address 172.16.0.10'],
  'metallb-without-addresses': ['17:14 error spec.components.metallb: MetalLB is enabled but has no addresses'],
  'missing-required': ['6:3 error spec.domain: missing required field `domain`'],
  'nfs-without-server': ['17:9 error spec.storage.volumes[0]: NFS volume "software" has no server'],
  'no-recipients': ['17:20 error spec.secrets.ageRecipients: needs at least 1 entry'],
  'no-server': ['13:5 error spec.nodes: no node has role: server'],
  'node-in-cluster-cidr': ['14:30 error spec.nodes[1].address: node address 10.42.7.1 lies inside clusterCIDR 10.42.0.0/16'],
  'private-key-as-recipient': ['17:21 error the spec contains an age PRIVATE key (AGE-SECRET-KEY-…); siteforge reads nothing further and writes nothing'],
  'syntax-duplicate-key': ['7:3 error YAML syntax error: map keys must be unique; "domain" appears twice'],
  'syntax-tab-indent': ['6:1 error YAML syntax error: Tabs are not allowed as indentation'],
  'syntax-unclosed-flow': ['15:3 error YAML syntax error: Flow map in block collection must be sufficiently indented and end with a }'],
  'unknown-component': ['17:5 error spec.components.argoWorkflow: unknown field `argoWorkflow`'],
  'unknown-node-field': ['14:56 error spec.nodes[1].ip: unknown field `ip`'],
  'unknown-top-level-key': ['5:1 error spce: unknown field `spce`'],
  'version-wrong-distribution': ['9:14 error spec.distribution.version: "v1.31.4+k0s.0" is not a rke2 release'],
  'workflow-unknown-environment': [
    '17:5 warning spec.workflows: workflows are defined but argoWorkflows is not enabled, so nothing runs them',
    '17:36 error spec.workflows[0].environment: environment "prdo" is not in spec.environments',
    '17:49 warning spec.workflows[0].image: image "spack:latest" is not pinned (latest): each run may build with a different image',
  ],
  'workflow-step-unknown-dependency': ['27:39 error spec.workflows[0].steps[1].dependencies[0]: step "test" depends on "biuld", which is not a step of workflow "nightly"'],
  'workflow-step-cycle': ['26:9 error spec.workflows[0].steps: the steps of workflow "nightly" depend on each other in a cycle: a → c → b → a'],
  'workflow-step-rules': [
    '26:48 error spec.workflows[0].steps[0].resources.gpus: step "cuda-tests" asks for GPUs, and no node of the site has any, so it never schedules',
    '27:33 error spec.workflows[0].steps[1].script: step "probe" has a script and a command or args',
    '28:64 error spec.workflows[0].steps[2].volumes[0].readOnly: volume "software" is read-only (spec.storage.volumes), so a step cannot mount it read-write',
    '28:79 error spec.workflows[0].steps[2].volumes[1].name: step "install" mounts volume "scratch", which is not exposed to environment "prod"',
    '30:18 error spec.workflows[0].steps[4].name: duplicate step name "build"',
  ],
  'wrong-api-version': ['1:13 error apiVersion: the string "siteforge/v1" is not allowed'],
  'wrong-kind': ['2:7 error kind: the string "Cluster" is not allowed'],
  'wrong-type-enabled': ['17:23 error spec.components.harbor.enabled: expected true or false, got the string "yes please"'],
  'wrong-type-nodes': ['12:10 error spec.nodes: expected a list, got the string "node1"'],
};

/** Hints and expectations users rely on, checked on top of the positions above. */
const guidance: Record<string, string[]> = {
  'extra-release-needs': ['did you mean `certManager`?', 'did you mean `hub`?', 'set spec.components.harbor.enabled: true, or drop it from needs'],
  'extra-release-fields': ['expected: the https:// URL of a Helm repository', 'use a directory of its own, such as extra-manifests'],
  'hpk-unsupported': ['mount the share on the compute nodes and use type: hostPath', 'pin a version tag or a digest', 'keep only the control-plane host in spec.nodes', 'set spec.distribution.hpk.pods.gpu'],
  'hpk-bad-slurm-values': ['expected: a Slurm time limit such as 30 (minutes), 04:00:00 or 7-00:00:00', 'drop distribution.hpk, or set type: hpk'],
  'hpk-without-settings': ['expected: distribution.hpk: {runtime: podman-hpc'],
  'harbor-auth-rules': ['expected: an LDAP filter such as (objectClass=posixAccount)', 'hint: give spec.identity.ldap an ldaps:// URL'],
  'storage-class-types': ['expected: share: the exported directory', 'hint: use localPath on one-node sites'],
  'network-ranges': ['hint: narrow the pods\' range (rangeStart, rangeEnd) or exclude the address', 'expected: an address such as 10.146.18.110, or a range such as 10.146.18.110-10.146.18.115'],
  'kubespray-rules': ['expected: a Kubernetes version from v1.33.0 to v1.35.4', 'expected: one of calico, cilium, flannel, kube-router (or multus,<one of them>)', 'hint: give the site 1, 3 or 5 servers', 'hint: for kubespray, copy /var/lib/etcd-snapshots off the servers'],
  'flux-release': ['expected: a Flux release v2.6.0 or newer, such as v2.9.4', 'expected: an OCI repository URL such as oci://ghcr.io/fluxcd/flux-manifests'],
  'ingress-controller-twice': ['expected: one ingress controller', 'hint: drop spec.components.ingressNginx (Traefik is maintained, ingress-nginx retired), or set ingressController: none', 'hint: drop ingressNginx: RKE2\'s maintained Traefik is then the ingress'],
  'kubespray-release': ['expected: one of v2.31.0', 'hint: use a release siteforge knows'],
  'harbor-projects': ['expected: a Harbor project name: lower-case letters and digits', 'expected: one of prod, test--a', 'hint: rename the environment without "--"', 'hint: pin a version tag or digest'],
  'harbor-auth-oidc': ['expected: an OIDC scope such as openid', 'hint: set spec.identity.oidc.issuer'],
  'slurm-bad-values': ['expected: a Slurm host list such as cn[001-128] or gn[01-04],gn10', 'expected: one of associations, limits, qos, safe, wckeys, nojobs, nosteps'],
  'slurm-rules': ['hint: node sets: cpu', 'hint: partition "batch" is the default already', 'hint: each node belongs to one node set', 'expected: hostname: slurm.hpc4.example.edu'],
  'unknown-component': ['hint: did you mean `argoWorkflows`?'],
  'unknown-top-level-key': ['hint: did you mean `spec`?'],
  'bad-enum-distribution': ['expected: one of rke2, k0s', 'hint: did you mean `k0s`?'],
  'cidr-host-bits': ['hint: did you mean 10.42.0.0/16?'],
  'workflow-unknown-environment': ['expected: one of prod', 'hint: did you mean `prod`?'],
  'private-key-as-recipient': ['hint: remove it now, and treat the key as leaked'],
  'duplicate-node-name': ['first used at spec.nodes[0].name'],
  'bad-ip': ['expected: an IPv4 address such as 10.40.0.11'],
  'missing-required': ['expected: a lowercase DNS name such as hpc4.example.edu', 'hint: add `domain:` under `spec`'],
  'unknown-node-field': ['hint: known fields here: name, address, role, extraAddresses, labels, taints, gpus'],
  'version-wrong-distribution': ['expected: a rke2 release such as v1.31.4+rke2r1'],
  'syntax-tab-indent': ['hint: YAML indentation must use spaces, not tabs'],
  'workflow-step-unknown-dependency': ['expected: one of build', 'hint: did you mean `build`?'],
  'workflow-step-rules': ['first used at spec.workflows[0].steps[3]', 'expected: one of software'],
};

const DIAGNOSTIC = /^(\S+):(\d+):(\d+): (error|warning): (.*)$/;

t.test('the corpus has a fixture for every expectation and vice versa', async (t) => {
  const files = (await readdir(join(ROOT, DIR))).filter((f) => f.endsWith('.yaml')).map((f) => f.slice(0, -5)).sort();
  t.ok(files.length >= 25, `at least 25 invalid specs (${files.length})`);
  t.same(files, Object.keys(expected).sort());
});

t.test('each invalid spec: exact diagnostics, exit 1, output directory untouched', async (t) => {
  const names = Object.keys(expected).sort();
  const runs = await inBatches(names, 4, async (name) => {
    const out = await tempDir();
    await writeFile(join(out, 'keep.txt'), 'a file of the user\n');
    const before = await snapshotTree(out);
    const result = await siteforge(['generate', `${DIR}/${name}.yaml`, '--out', out]);
    return { name, result, before, after: await snapshotTree(out) };
  });
  for (const { name, result, before, after } of runs) {
    t.test(name, async (t) => {
      t.equal(result.code, 1, 'exit code 1');
      t.equal(result.stdout, '', 'nothing on stdout');
      t.notMatch(result.stderr, /\n\s+at .*\(.*:\d+:\d+\)/, 'no stack trace');
      const diagnostics = result.stderr
        .split('\n')
        .map((line) => DIAGNOSTIC.exec(line))
        .filter((m): m is RegExpExecArray => m !== null)
        .map((m) => {
          t.equal(m[1], `${DIR}/${name}.yaml`, 'names the file as given');
          return `${m[2]}:${m[3]} ${m[4]} ${m[5]}`;
        });
      t.same(diagnostics, expected[name], 'diagnostics');
      for (const text of guidance[name] ?? []) t.match(result.stderr, text);
      t.match(result.stderr, /error(s)?: nothing was written/);
      t.same([...after.entries()], [...before.entries()], 'output directory unchanged');
    });
  }
});
