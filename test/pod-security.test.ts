// The Pod Security Standards as admission applies them: what baseline and restricted refuse.
import t from 'tap';
import { podSecurityViolations } from '../generator/verify/pod-security.ts';

const restrictedPod = {
  securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } },
  volumes: [{ name: 'work', emptyDir: {} }, { name: 'builds', persistentVolumeClaim: { claimName: 'builds' } }],
  containers: [{ name: 'main', image: 'x', securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] } } }],
};

t.test('a pod written for restricted passes every level', async (t) => {
  for (const level of ['privileged', 'baseline', 'restricted'] as const) t.same(podSecurityViolations(restrictedPod, level), [], level);
});

t.test('baseline refuses host namespaces, privilege, host paths and ports, extra capabilities', async (t) => {
  const pod = {
    hostNetwork: true,
    volumes: [{ name: 'root', hostPath: { path: '/' } }],
    containers: [{ name: 'c', ports: [{ containerPort: 80, hostPort: 80 }], securityContext: { privileged: true, capabilities: { add: ['SYS_ADMIN', 'CHOWN'] }, seccompProfile: { type: 'Unconfined' } } }],
    securityContext: { sysctls: [{ name: 'kernel.msgmax', value: '1' }] },
  };
  t.same(podSecurityViolations(pod, 'baseline'), [
    "hostNetwork: true shares the node's namespaces",
    'container c: privileged: true',
    'container c: adds capabilities SYS_ADMIN',
    "volume root: hostPath / mounts the node's file system",
    'container c: hostPort 80',
    'container c: an Unconfined seccomp or AppArmor profile',
    'sysctl kernel.msgmax is not in the safe set',
  ]);
  t.same(podSecurityViolations(pod, 'privileged'), [], 'privileged admits everything');
});

t.test('restricted also wants non-root, no escalation, a seccomp profile, dropped capabilities and plain volume types', async (t) => {
  const pod = { volumes: [{ name: 'n', nfs: { server: 'x', path: '/' } }], containers: [{ name: 'root', image: 'x' }] };
  t.same(podSecurityViolations(pod, 'baseline'), [], 'a plain root pod is baseline');
  t.same(podSecurityViolations(pod, 'restricted'), [
    'volume n: type nfs is not allowed',
    'container root: allowPrivilegeEscalation must be false',
    'container root: runAsNonRoot must be true (pod or container)',
    'container root: seccompProfile must be RuntimeDefault or Localhost (pod or container)',
    'container root: capabilities must drop ALL',
  ]);
});
