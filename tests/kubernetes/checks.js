// The properties deploy/kubernetes/ promises, checked field by field on rendered objects: the
// restricted Pod Security Standard, the read-only root with its one writable folder, probes,
// resources, scaling, disruption budget, network policy, configuration and (overlays) TLS.
// Each check throws an AssertionError naming what is wrong; MUTATIONS break each one.

import assert from 'node:assert/strict';

export const PORT = 8080;
export const RUNTIME_DIR = '/run/gatehouse';
export const CHECKSUM_ANNOTATION = 'config-checksum';

/** Volume types the restricted profile allows. */
const RESTRICTED_VOLUMES = new Set([
  'configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret',
]);

const POD_TEMPLATE_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job']);

/** Every pod spec in the objects, with the labels its pods get; at least one. */
export function pods(objects) {
  const found = [];
  for (const o of objects) {
    if (POD_TEMPLATE_KINDS.has(o.kind)) {
      found.push({ owner: o, labels: o.spec?.template?.metadata?.labels ?? {}, meta: o.spec?.template?.metadata ?? {}, spec: o.spec?.template?.spec });
    } else if (o.kind === 'CronJob') {
      const t = o.spec?.jobTemplate?.spec?.template;
      found.push({ owner: o, labels: t?.metadata?.labels ?? {}, meta: t?.metadata ?? {}, spec: t?.spec });
    } else if (o.kind === 'Pod') {
      found.push({ owner: o, labels: o.metadata?.labels ?? {}, meta: o.metadata ?? {}, spec: o.spec });
    }
  }
  assert.ok(found.length > 0, 'no pod template rendered');
  for (const p of found) assert.ok(p.spec, `${p.owner.kind}/${p.owner.metadata?.name} has no pod spec`);
  return found;
}

/** Every container of a pod spec, init and ephemeral ones too. */
function containers(spec) {
  return [...(spec.initContainers ?? []), ...(spec.containers ?? []), ...(spec.ephemeralContainers ?? [])];
}

function eachContainer(objects, fn) {
  for (const pod of pods(objects)) {
    assert.ok((pod.spec.containers ?? []).length > 0, `${pod.owner.kind}/${pod.owner.metadata.name} has no container`);
    for (const c of containers(pod.spec)) fn(c, pod, `${pod.owner.kind}/${pod.owner.metadata.name} container ${c.name}`);
  }
}

function one(objects, kind) {
  const found = objects.filter((o) => o.kind === kind);
  assert.equal(found.length, 1, `expected one ${kind}, found ${found.length}`);
  return found[0];
}

/** A matchLabels selector (no matchExpressions) that selects pods with these labels. */
function selects(selector, labels, what) {
  assert.ok(selector && Object.keys(selector).length > 0, `${what}: no selector`);
  assert.equal(selector.matchExpressions, undefined, `${what}: matchExpressions are not checked here`);
  const match = selector.matchLabels ?? selector; // a Service's selector is the map itself
  assert.ok(Object.keys(match).length > 0, `${what}: empty selector selects everything`);
  for (const [k, v] of Object.entries(match)) assert.equal(labels[k], v, `${what}: selector ${k}=${v} does not match the pods`);
}

/** The port number a probe or Service names, resolving a container port name. */
function portNumber(container, port) {
  if (typeof port === 'number') return port;
  const named = (container.ports ?? []).find((p) => p.name === port);
  assert.ok(named, `port ${port} is not a port of container ${container.name}`);
  return named.containerPort;
}

function mainContainer(objects) {
  const [pod] = pods(objects);
  const c = pod.spec.containers.find((x) => x.name === 'gatehouse');
  assert.ok(c, 'no container named gatehouse');
  return { pod, c };
}

/** name → check(objects, { overlay }). `overlayOnly` checks run on the example overlay. */
export const CHECKS = [
  {
    name: 'runAsNonRoot: true (pod level, not overridden by any container)',
    check(objects) {
      eachContainer(objects, (c, pod, where) => {
        const value = c.securityContext?.runAsNonRoot ?? pod.spec.securityContext?.runAsNonRoot;
        assert.equal(value, true, `${where}: runAsNonRoot is ${value}`);
      });
    },
  },
  {
    name: 'runAsUser is not 0 (pod or container)',
    check(objects) {
      eachContainer(objects, (c, pod, where) => {
        const value = c.securityContext?.runAsUser ?? pod.spec.securityContext?.runAsUser;
        assert.notEqual(value, 0, `${where}: runs as UID 0`);
      });
    },
  },
  {
    name: 'allowPrivilegeEscalation: false on every container',
    check(objects) {
      eachContainer(objects, (c, _pod, where) => {
        assert.equal(c.securityContext?.allowPrivilegeEscalation, false, `${where}: allowPrivilegeEscalation is not false`);
      });
    },
  },
  {
    name: 'capabilities: drop ALL, add none, on every container',
    check(objects) {
      eachContainer(objects, (c, _pod, where) => {
        const caps = c.securityContext?.capabilities ?? {};
        assert.ok((caps.drop ?? []).includes('ALL'), `${where}: capabilities.drop lacks ALL`);
        assert.deepEqual(caps.add ?? [], [], `${where}: adds capabilities`);
      });
    },
  },
  {
    name: 'seccompProfile RuntimeDefault (pod level, or on every container)',
    check(objects) {
      eachContainer(objects, (c, pod, where) => {
        const type = c.securityContext?.seccompProfile?.type ?? pod.spec.securityContext?.seccompProfile?.type;
        assert.equal(type, 'RuntimeDefault', `${where}: seccompProfile is ${type}`);
      });
    },
  },
  {
    name: 'readOnlyRootFilesystem: true on every container',
    check(objects) {
      eachContainer(objects, (c, _pod, where) => {
        assert.equal(c.securityContext?.readOnlyRootFilesystem, true, `${where}: root filesystem is writable`);
      });
    },
  },
  {
    name: 'no privileged container',
    check(objects) {
      eachContainer(objects, (c, _pod, where) => {
        assert.notEqual(c.securityContext?.privileged, true, `${where}: privileged`);
        assert.equal(c.securityContext?.windowsOptions?.hostProcess, undefined, `${where}: hostProcess`);
      });
    },
  },
  {
    name: 'no hostNetwork, hostPID, hostIPC, hostPort',
    check(objects) {
      for (const pod of pods(objects)) {
        for (const field of ['hostNetwork', 'hostPID', 'hostIPC']) {
          assert.notEqual(pod.spec[field], true, `${pod.owner.metadata.name}: ${field}`);
        }
      }
      eachContainer(objects, (c, _pod, where) => {
        for (const p of c.ports ?? []) assert.ok(!p.hostPort, `${where}: hostPort ${p.hostPort}`);
      });
    },
  },
  {
    name: 'no hostPath volume; only the volume types the restricted profile allows',
    check(objects) {
      for (const pod of pods(objects)) {
        for (const v of pod.spec.volumes ?? []) {
          const types = Object.keys(v).filter((k) => k !== 'name');
          assert.equal(types.length, 1, `volume ${v.name}: ${types.join(', ')}`);
          assert.ok(RESTRICTED_VOLUMES.has(types[0]), `volume ${v.name} is ${types[0]}`);
        }
      }
    },
  },
  {
    name: `an emptyDir with a sizeLimit mounted at ${RUNTIME_DIR}`,
    check(objects) {
      const { pod, c } = mainContainer(objects);
      const mount = (c.volumeMounts ?? []).find((m) => m.mountPath === RUNTIME_DIR);
      assert.ok(mount, `nothing mounted at ${RUNTIME_DIR}`);
      assert.notEqual(mount.readOnly, true, `${RUNTIME_DIR} is mounted read-only`);
      const volume = (pod.spec.volumes ?? []).find((v) => v.name === mount.name);
      assert.ok(volume?.emptyDir, `${RUNTIME_DIR} is not an emptyDir`);
      assert.ok(volume.emptyDir.sizeLimit, `${RUNTIME_DIR} has no sizeLimit`);
    },
  },
  {
    name: 'automountServiceAccountToken: false and enableServiceLinks: false',
    check(objects) {
      for (const pod of pods(objects)) {
        assert.equal(pod.spec.automountServiceAccountToken, false, 'the pod mounts a service account token');
        assert.equal(pod.spec.enableServiceLinks, false, 'service links would add *_PORT variables');
      }
    },
  },
  {
    name: `readiness and liveness probes GET /healthz on port ${PORT}; PORT=${PORT}`,
    check(objects) {
      const { c } = mainContainer(objects);
      for (const probe of ['readinessProbe', 'livenessProbe']) {
        const get = c[probe]?.httpGet;
        assert.ok(get, `${probe}: no httpGet`);
        assert.equal(get.path, '/healthz', `${probe}: path ${get.path}`);
        assert.equal(portNumber(c, get.port), PORT, `${probe}: port ${get.port}`);
      }
      assert.ok((c.ports ?? []).some((p) => p.containerPort === PORT), `container port ${PORT} missing`);
      const env = (c.env ?? []).find((e) => e.name === 'PORT');
      assert.equal(env?.value, String(PORT), `PORT is ${env?.value}, the container would listen elsewhere`);
    },
  },
  {
    name: 'CPU and memory requests and limits on every container',
    check(objects) {
      eachContainer(objects, (c, _pod, where) => {
        for (const kind of ['requests', 'limits']) {
          for (const resource of ['cpu', 'memory']) {
            assert.ok(c.resources?.[kind]?.[resource], `${where}: no ${resource} ${kind}`);
          }
        }
      });
    },
  },
  {
    name: 'a HorizontalPodAutoscaler on the Deployment, minReplicas >= 2',
    check(objects) {
      const hpa = one(objects, 'HorizontalPodAutoscaler');
      const deployment = one(objects, 'Deployment');
      assert.equal(hpa.spec.scaleTargetRef.kind, 'Deployment');
      assert.equal(hpa.spec.scaleTargetRef.name, deployment.metadata.name, 'the HPA scales another Deployment');
      assert.ok(hpa.spec.minReplicas >= 2, `minReplicas ${hpa.spec.minReplicas}`);
      assert.ok(hpa.spec.maxReplicas >= hpa.spec.minReplicas, 'maxReplicas below minReplicas');
      assert.equal(deployment.spec.replicas, undefined, 'the Deployment sets replicas, which apply would reset');
    },
  },
  {
    name: 'a PodDisruptionBudget selecting the pods',
    check(objects) {
      const pdb = one(objects, 'PodDisruptionBudget');
      selects(pdb.spec.selector, pods(objects)[0].labels, 'PodDisruptionBudget');
      const limit = pdb.spec.maxUnavailable ?? pdb.spec.minAvailable;
      assert.ok(limit !== undefined, 'neither maxUnavailable nor minAvailable');
      if (pdb.spec.maxUnavailable !== undefined) assert.notEqual(pdb.spec.maxUnavailable, 0, 'maxUnavailable 0 blocks every drain');
    },
  },
  {
    name: `a NetworkPolicy on the pods: Egress with no rule, Ingress only to ${PORT}`,
    check(objects) {
      const policy = one(objects, 'NetworkPolicy');
      selects(policy.spec.podSelector, pods(objects)[0].labels, 'NetworkPolicy');
      assert.ok(policy.spec.policyTypes?.includes('Egress'), 'Egress is not in policyTypes: egress would be open');
      assert.ok(policy.spec.policyTypes?.includes('Ingress'), 'Ingress is not in policyTypes');
      assert.deepEqual(policy.spec.egress ?? [], [], 'egress rules allow traffic out');
      assert.ok((policy.spec.ingress ?? []).length > 0, 'no ingress rule: nothing could reach the pods');
      for (const rule of policy.spec.ingress) {
        assert.ok((rule.from ?? []).length > 0, 'an ingress rule from anywhere');
        for (const peer of rule.from) assert.equal(peer.ipBlock, undefined, 'an ingress rule from an IP block');
        assert.deepEqual(rule.ports, [{ protocol: 'TCP', port: PORT }], `ingress ports ${JSON.stringify(rule.ports)}`);
      }
    },
  },
  {
    name: `a Service selecting the pods, to port ${PORT}`,
    check(objects) {
      const service = one(objects, 'Service');
      const { pod, c } = mainContainer(objects);
      selects(service.spec.selector, pod.labels, 'Service');
      for (const p of service.spec.ports) assert.equal(portNumber(c, p.targetPort ?? p.port), PORT, `Service port ${p.port} targets ${p.targetPort}`);
    },
  },
  {
    name: `configuration from a rendered ConfigMap, named in the ${CHECKSUM_ANNOTATION} annotation`,
    check(objects) {
      const { pod, c } = mainContainer(objects);
      const refs = (c.envFrom ?? []).map((e) => e.configMapRef?.name).filter(Boolean);
      assert.equal(refs.length, 1, `envFrom names ${refs.length} ConfigMaps`);
      const map = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === refs[0]);
      assert.ok(map, `ConfigMap ${refs[0]} is not rendered`);
      assert.match(refs[0], /^gatehouse-config-[a-z0-9]{10}$/, 'the ConfigMap name carries no content hash');
      assert.equal(pod.meta.annotations?.[CHECKSUM_ANNOTATION], refs[0], `${CHECKSUM_ANNOTATION} does not follow the ConfigMap`);
    },
  },
  {
    name: 'Ingress with TLS for every host, and HSTS=always in the configuration',
    overlayOnly: true,
    check(objects) {
      const ingress = one(objects, 'Ingress');
      const tlsHosts = (ingress.spec.tls ?? []).flatMap((t) => {
        assert.ok(t.secretName, 'a TLS entry without a certificate Secret');
        return t.hosts ?? [];
      });
      assert.ok(tlsHosts.length > 0, 'the Ingress has no TLS');
      for (const rule of ingress.spec.rules) assert.ok(tlsHosts.includes(rule.host), `${rule.host} is served without TLS`);
      const service = one(objects, 'Service');
      for (const path of ingress.spec.rules.flatMap((r) => r.http.paths)) {
        assert.equal(path.backend.service.name, service.metadata.name, 'the Ingress sends to another Service');
      }
      const { c } = mainContainer(objects);
      const map = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === c.envFrom[0].configMapRef.name);
      assert.equal(map?.data?.HSTS, 'always', `HSTS is ${map?.data?.HSTS}: TLS ends at the Ingress`);
    },
  },
  {
    name: 'the namespace enforces the restricted Pod Security Standard',
    overlayOnly: true,
    check(objects) {
      const namespace = one(objects, 'Namespace');
      assert.equal(namespace.metadata.labels?.['pod-security.kubernetes.io/enforce'], 'restricted');
      for (const o of objects.filter((x) => x.kind !== 'Namespace')) {
        assert.equal(o.metadata.namespace, namespace.metadata.name, `${o.kind}/${o.metadata.name} is in another namespace`);
      }
    },
  },
];

// Mutations of a rendered copy, each of which one check must refuse. Each receives a deep copy.
const podSpec = (objects) => pods(objects)[0].spec;
const main = (objects) => podSpec(objects).containers[0];
const sidecar = { name: 'sidecar', image: 'busybox', resources: { requests: { cpu: '1m', memory: '1Mi' }, limits: { cpu: '1m', memory: '1Mi' } } };
const byKind = (objects, kind) => objects.find((o) => o.kind === kind);

export const MUTATIONS = {
  'runAsNonRoot: true (pod level, not overridden by any container)': {
    'pod runAsNonRoot removed': (o) => { delete podSpec(o).securityContext.runAsNonRoot; },
    'a container sets runAsNonRoot false': (o) => { main(o).securityContext.runAsNonRoot = false; },
  },
  'runAsUser is not 0 (pod or container)': {
    'container runAsUser 0': (o) => { main(o).securityContext.runAsUser = 0; },
    'pod runAsUser 0': (o) => { podSpec(o).securityContext.runAsUser = 0; },
  },
  'allowPrivilegeEscalation: false on every container': {
    'allowPrivilegeEscalation true': (o) => { main(o).securityContext.allowPrivilegeEscalation = true; },
    'an init container without a securityContext': (o) => { podSpec(o).initContainers = [{ ...sidecar }]; },
  },
  'capabilities: drop ALL, add none, on every container': {
    'drop only NET_RAW': (o) => { main(o).securityContext.capabilities.drop = ['NET_RAW']; },
    'add NET_ADMIN': (o) => { main(o).securityContext.capabilities.add = ['NET_ADMIN']; },
  },
  'seccompProfile RuntimeDefault (pod level, or on every container)': {
    'pod profile Unconfined': (o) => { podSpec(o).securityContext.seccompProfile.type = 'Unconfined'; },
    'pod profile removed': (o) => { delete podSpec(o).securityContext.seccompProfile; },
    'a container overrides with Unconfined': (o) => { main(o).securityContext.seccompProfile = { type: 'Unconfined' }; },
  },
  'readOnlyRootFilesystem: true on every container': {
    'readOnlyRootFilesystem false': (o) => { main(o).securityContext.readOnlyRootFilesystem = false; },
    'readOnlyRootFilesystem removed': (o) => { delete main(o).securityContext.readOnlyRootFilesystem; },
  },
  'no privileged container': {
    'privileged true': (o) => { main(o).securityContext.privileged = true; },
  },
  'no hostNetwork, hostPID, hostIPC, hostPort': {
    hostNetwork: (o) => { podSpec(o).hostNetwork = true; },
    hostPID: (o) => { podSpec(o).hostPID = true; },
    hostIPC: (o) => { podSpec(o).hostIPC = true; },
    hostPort: (o) => { main(o).ports[0].hostPort = 8080; },
  },
  'no hostPath volume; only the volume types the restricted profile allows': {
    'a hostPath volume': (o) => { podSpec(o).volumes.push({ name: 'host', hostPath: { path: '/' } }); },
    'an nfs volume': (o) => { podSpec(o).volumes.push({ name: 'nfs', nfs: { server: 'nfs', path: '/' } }); },
  },
  [`an emptyDir with a sizeLimit mounted at ${RUNTIME_DIR}`]: {
    'mounted elsewhere': (o) => { main(o).volumeMounts[0].mountPath = '/tmp'; },
    'no sizeLimit': (o) => { delete podSpec(o).volumes[0].emptyDir.sizeLimit; },
    'a configMap instead': (o) => { podSpec(o).volumes[0] = { name: podSpec(o).volumes[0].name, configMap: { name: 'x' } }; },
  },
  'automountServiceAccountToken: false and enableServiceLinks: false': {
    'token mounted': (o) => { podSpec(o).automountServiceAccountToken = true; },
    'service links on (default)': (o) => { delete podSpec(o).enableServiceLinks; },
  },
  [`readiness and liveness probes GET /healthz on port ${PORT}; PORT=${PORT}`]: {
    'readiness on /': (o) => { main(o).readinessProbe.httpGet.path = '/'; },
    'no liveness probe': (o) => { delete main(o).livenessProbe; },
    'liveness on port 9090': (o) => { main(o).livenessProbe.httpGet.port = 9090; },
    'PORT 9090': (o) => { main(o).env.find((e) => e.name === 'PORT').value = '9090'; },
  },
  'CPU and memory requests and limits on every container': {
    'no limits': (o) => { delete main(o).resources.limits; },
    'no memory request': (o) => { delete main(o).resources.requests.memory; },
  },
  'a HorizontalPodAutoscaler on the Deployment, minReplicas >= 2': {
    'minReplicas 1': (o) => { byKind(o, 'HorizontalPodAutoscaler').spec.minReplicas = 1; },
    'scales another Deployment': (o) => { byKind(o, 'HorizontalPodAutoscaler').spec.scaleTargetRef.name = 'other'; },
    'Deployment sets replicas': (o) => { byKind(o, 'Deployment').spec.replicas = 2; },
  },
  'a PodDisruptionBudget selecting the pods': {
    'selects other pods': (o) => { byKind(o, 'PodDisruptionBudget').spec.selector.matchLabels = { app: 'other' }; },
    'no PodDisruptionBudget': (o) => { o.splice(o.indexOf(byKind(o, 'PodDisruptionBudget')), 1); },
  },
  [`a NetworkPolicy on the pods: Egress with no rule, Ingress only to ${PORT}`]: {
    'Egress not in policyTypes': (o) => { byKind(o, 'NetworkPolicy').spec.policyTypes = ['Ingress']; },
    'egress to anywhere': (o) => { byKind(o, 'NetworkPolicy').spec.egress = [{}]; },
    'DNS allowed out': (o) => { byKind(o, 'NetworkPolicy').spec.egress = [{ ports: [{ protocol: 'UDP', port: 53 }] }]; },
    'ingress from anywhere': (o) => { delete byKind(o, 'NetworkPolicy').spec.ingress[0].from; },
    'ingress to another port': (o) => { byKind(o, 'NetworkPolicy').spec.ingress[0].ports[0].port = 9090; },
    'selects other pods': (o) => { byKind(o, 'NetworkPolicy').spec.podSelector.matchLabels = { app: 'other' }; },
  },
  [`a Service selecting the pods, to port ${PORT}`]: {
    'targets port 80': (o) => { byKind(o, 'Service').spec.ports[0].targetPort = 80; },
    'selects other pods': (o) => { byKind(o, 'Service').spec.selector = { app: 'other' }; },
  },
  [`configuration from a rendered ConfigMap, named in the ${CHECKSUM_ANNOTATION} annotation`]: {
    'annotation removed': (o) => { delete pods(o)[0].meta.annotations[CHECKSUM_ANNOTATION]; },
    'annotation left at the unsuffixed name': (o) => { pods(o)[0].meta.annotations[CHECKSUM_ANNOTATION] = 'gatehouse-config'; },
    'ConfigMap without a hash suffix': (o) => {
      byKind(o, 'ConfigMap').metadata.name = 'gatehouse-config';
      main(o).envFrom[0].configMapRef.name = 'gatehouse-config';
      pods(o)[0].meta.annotations[CHECKSUM_ANNOTATION] = 'gatehouse-config';
    },
    'ConfigMap missing': (o) => { o.splice(o.indexOf(byKind(o, 'ConfigMap')), 1); },
  },
  'Ingress with TLS for every host, and HSTS=always in the configuration': {
    'HSTS auto': (o) => { byKind(o, 'ConfigMap').data.HSTS = 'auto'; },
    'HSTS unset': (o) => { byKind(o, 'ConfigMap').data.HSTS = ''; },
    'no TLS': (o) => { delete byKind(o, 'Ingress').spec.tls; },
    'a host without TLS': (o) => { byKind(o, 'Ingress').spec.rules.push({ ...byKind(o, 'Ingress').spec.rules[0], host: 'plain.example.com' }); },
  },
  'the namespace enforces the restricted Pod Security Standard': {
    'baseline': (o) => { byKind(o, 'Namespace').metadata.labels['pod-security.kubernetes.io/enforce'] = 'baseline'; },
    'a resource elsewhere': (o) => { byKind(o, 'Service').metadata.namespace = 'default'; },
  },
};

/** A sidecar without any securityContext, which several checks must refuse. */
export function addSidecar(objects) {
  podSpec(objects).containers.push({ ...sidecar });
}
