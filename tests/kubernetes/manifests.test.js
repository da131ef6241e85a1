// deploy/kubernetes/ without a cluster: the base and the example overlay render with kubectl's
// Kustomize (the one on PATH and Debian's kubectl 1.20 with Kustomize v2.0.3), validate against
// the Kubernetes JSON schemas (kubernetes-validate --strict), meet the restricted Pod Security
// Standard and the rest of what the manifests promise field by field (checks.js, each check
// shown to refuse a mutated copy), and a changed configuration value changes the pod template.
// Needs scripts/kubernetes-tools.sh. Run: node --test tests/kubernetes/

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { accessSync, constants, cpSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { addSidecar, CHECKS, CHECKSUM_ANNOTATION, MUTATIONS, pods } from './checks.js';

const ROOT = resolve(import.meta.dirname, '../..');
const MANIFESTS = join(ROOT, 'deploy/kubernetes');
const TOOLS = join(ROOT, '.tools/kubernetes');
const PYTHON = join(TOOLS, 'venv/bin/python');
const VALIDATE = join(TOOLS, 'venv/bin/kubernetes-validate');
const DEBIAN_KUBECTL = join(TOOLS, 'debian/usr/bin/kubectl');
const SETUP_HINT = 'run scripts/kubernetes-tools.sh';

// Schemas: 1.30, the first release with everything used here on by default (the preStop sleep
// action went beta in 1.30), and 1.37, the newest kubernetes-validate 1.37.0 ships.
const KUBERNETES_VERSIONS = ['1.30.0', '1.37.0'];
const TARGETS = ['base', 'overlays/example'];
// What kubectl may say on stderr: the deprecations the overlay keeps for Kustomize v2.0.3.
const KNOWN_WARNING = /^# Warning: '(bases|patchesStrategicMerge)' is deprecated\. /;

/** Runs a command with a time limit; returns { status, stdout, stderr }. */
function run(command, args, { input, timeout = 60_000 } = {}) {
  const r = spawnSync(command, args, { input, timeout, encoding: 'utf8', maxBuffer: 16 << 20 });
  if (r.error) throw new Error(`${command} ${args.join(' ')}: ${r.error.message}`);
  assert.notEqual(r.signal, 'SIGTERM', `${command} ${args.join(' ')} timed out after ${timeout} ms`);
  return r;
}

function executable(path) {
  try { accessSync(path, constants.X_OK); return true; } catch { return false; }
}

/** The kubectl on PATH (or $KUBECTL) and Debian's unpacked one, each once. */
function findKubectls() {
  const onPath = process.env.KUBECTL
    ?? (process.env.PATH ?? '').split(delimiter).map((d) => join(d, 'kubectl')).find(executable);
  assert.ok(onPath, `no kubectl on PATH: ${SETUP_HINT}`);
  assert.ok(executable(DEBIAN_KUBECTL), `no ${DEBIAN_KUBECTL}: ${SETUP_HINT}`);
  const unique = new Map();
  for (const path of [onPath, DEBIAN_KUBECTL]) {
    const version = run(path, ['version', '--client'], { timeout: 20_000 }).stdout;
    const number = /GitVersion:"([^"]+)"/.exec(version)?.[1] ?? /Client Version: (\S+)/.exec(version)?.[1];
    assert.ok(number, `${path} version --client: ${version}`);
    unique.set(realpathSync(path), `kubectl ${number} (${path})`);
  }
  return [...unique].map(([path, label]) => ({ path, label }));
}

/** Multi-document YAML → objects, with PyYAML from the venv. */
function parseYaml(text) {
  const r = run(PYTHON, ['-c', 'import json, sys, yaml; json.dump([d for d in yaml.safe_load_all(sys.stdin) if d is not None], sys.stdout)'], { input: text, timeout: 30_000 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

/** kubectl kustomize <dir>: the YAML, the objects and the stderr lines. */
function render(kubectl, dir) {
  const r = run(kubectl.path, ['kustomize', dir]);
  assert.equal(r.status, 0, `${kubectl.label} kustomize ${dir}:\n${r.stderr}`);
  return { yaml: r.stdout, objects: parseYaml(r.stdout), warnings: r.stderr.split('\n').filter(Boolean) };
}

let work;
let counter = 0;
let kubectls;
const rendered = new Map(); // `${kubectl.path} ${target}` → render()

function renderTarget(kubectl, target) {
  const key = `${kubectl.path} ${target}`;
  if (!rendered.has(key)) rendered.set(key, render(kubectl, join(MANIFESTS, target)));
  return rendered.get(key);
}

/** kubernetes-validate --strict on these objects (JSON documents are YAML). */
function validate(objects, version) {
  const file = join(work, `validate-${++counter}.yaml`);
  writeFileSync(file, objects.map((o) => JSON.stringify(o)).join('\n---\n'));
  const r = run(VALIDATE, ['--strict', '--quiet', '--kubernetes-version', version, file]);
  return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
}

/** A writable copy of deploy/kubernetes, to edit before rendering. */
function copyOfManifests() {
  const dir = join(work, `manifests-${++counter}`);
  cpSync(MANIFESTS, dir, { recursive: true });
  return dir;
}

function editEnv(file, key, value) {
  const text = readFileSync(file, 'utf8');
  const line = new RegExp(`^${key}=.*$`, 'm');
  const edited = line.test(text) ? text.replace(line, `${key}=${value}`) : `${text}${key}=${value}\n`;
  assert.notEqual(edited, text, `${key} already ${value}`);
  writeFileSync(file, edited);
}

const template = (objects) => objects.find((o) => o.kind === 'Deployment').spec.template;
const configMap = (objects) => objects.find((o) => o.kind === 'ConfigMap');
/** The objects with each Kustomize hash name replaced, and empty maps old Kustomize adds dropped. */
function withoutHashes(objects) {
  const json = JSON.stringify(objects).replace(/gatehouse-config-[a-z0-9]{10}\b/g, 'gatehouse-config-HASH');
  return JSON.parse(json, (key, value) =>
    (key === 'annotations' || key === 'labels') && value && Object.keys(value).length === 0 ? undefined : value);
}

const copy = (objects) => structuredClone(objects);
const passed = [];

before(() => {
  work = mkdtempSync(join(tmpdir(), 'gatehouse-kubernetes-test-'));
  assert.ok(executable(PYTHON) && executable(VALIDATE), `no kubernetes-validate in ${TOOLS}/venv: ${SETUP_HINT}`);
  kubectls = findKubectls();
});
after(() => {
  rmSync(work, { recursive: true, force: true });
  if (passed.length > 0) {
    console.log(`Checks passed on ${TARGETS.join(' and ')} as rendered by ${kubectls.map((k) => k.label).join(' and ')}:`);
    for (const name of passed) console.log(`  ✓ ${name}`);
  }
});

describe('rendering', { timeout: 300_000 }, () => {
  for (const target of TARGETS) {
    test(`${target} renders with every kubectl, warning only of the deprecations kept for Kustomize v2.0.3`, () => {
      for (const kubectl of kubectls) {
        const { objects, warnings } = renderTarget(kubectl, target);
        assert.ok(objects.length >= 7, `${kubectl.label}: ${objects.length} objects`);
        for (const w of warnings) assert.match(w, KNOWN_WARNING, `${kubectl.label}: unexpected stderr`);
      }
    });

    test(`${target}: every kubectl renders the same objects, up to the ConfigMap's hash`, () => {
      const [first, ...others] = kubectls.map((k) => withoutHashes(renderTarget(k, target).objects));
      for (const other of others) assert.deepEqual(other, first);
    });
  }

  test('the overlay sets the image, the namespace and its configuration over the base', () => {
    for (const kubectl of kubectls) {
      const base = renderTarget(kubectl, 'base').objects;
      const overlay = renderTarget(kubectl, 'overlays/example').objects;
      assert.equal(template(base).spec.containers[0].image, 'gatehouse');
      assert.equal(template(overlay).spec.containers[0].image, 'myregistry.azurecr.io/gatehouse:1.0.0');
      assert.ok(base.every((o) => o.metadata.namespace === undefined));
      assert.deepEqual(Object.keys(configMap(overlay).data).sort(), Object.keys(configMap(base).data).sort(),
        'the overlay adds keys the base does not list');
      assert.match(configMap(overlay).data.OAUTH_METADATA_URL, /^https:\/\/login\.microsoftonline\.com\/[0-9a-f-]{36}\/v2\.0\//);
      assert.equal(configMap(base).data.OAUTH_METADATA_URL, '', 'the base configures no provider');
    }
  });
});

describe('Kubernetes schemas (kubernetes-validate --strict)', { timeout: 300_000 }, () => {
  for (const target of TARGETS) {
    for (const version of KUBERNETES_VERSIONS) {
      test(`${target} is valid for Kubernetes ${version}`, () => {
        for (const kubectl of kubectls) {
          const { ok, output } = validate(renderTarget(kubectl, target).objects, version);
          assert.ok(ok, `${kubectl.label}:\n${output}`);
        }
      });
    }
  }

  test('the validator refuses an unknown field, a wrong type and a missing required field', () => {
    const objects = renderTarget(kubectls[0], 'overlays/example').objects;
    const broken = {
      'unknown field': (o) => { template(o).spec.securityContext.runAsNonroot = true; },
      'string port': (o) => { o.find((x) => x.kind === 'Service').spec.ports[0].port = '80'; },
      'container without a name': (o) => { delete template(o).spec.containers[0].name; },
    };
    for (const version of KUBERNETES_VERSIONS) {
      for (const [what, mutate] of Object.entries(broken)) {
        const mutated = copy(objects);
        mutate(mutated);
        const { ok, output } = validate(mutated, version);
        assert.equal(ok, false, `${version} accepted: ${what}`);
        assert.match(output, /did not validate/, output);
      }
    }
  });
});

describe('restricted Pod Security Standard and the rest, field by field', { timeout: 300_000 }, () => {
  for (const { name, check, overlayOnly } of CHECKS) {
    test(name, () => {
      for (const kubectl of kubectls) {
        for (const target of overlayOnly ? ['overlays/example'] : TARGETS) {
          check(renderTarget(kubectl, target).objects);
        }
      }
      passed.push(name);
    });

    test(`${name}: refuses a broken copy`, () => {
      const mutations = Object.entries(MUTATIONS[name] ?? {});
      assert.ok(mutations.length > 0, 'no mutation proves this check');
      const objects = renderTarget(kubectls[0], 'overlays/example').objects;
      check(objects); // the copies below differ from passing objects by one mutation each
      for (const [what, mutate] of mutations) {
        const mutated = copy(objects);
        mutate(mutated);
        assert.notDeepEqual(mutated, objects, `${what} changed nothing`);
        assert.throws(() => check(mutated), assert.AssertionError, `accepted: ${what}`);
      }
    });
  }

  test('every mutation belongs to a check', () => {
    const names = new Set(CHECKS.map((c) => c.name));
    for (const name of Object.keys(MUTATIONS)) assert.ok(names.has(name), `mutations for an unknown check: ${name}`);
  });

  test('a sidecar without a securityContext fails the per-container checks', () => {
    const mutated = copy(renderTarget(kubectls[0], 'overlays/example').objects);
    addSidecar(mutated);
    const refusing = CHECKS.filter(({ check }) => {
      try { check(mutated); return false; } catch (e) { if (e instanceof assert.AssertionError) return true; throw e; }
    }).map((c) => c.name);
    for (const fragment of ['allowPrivilegeEscalation', 'capabilities', 'readOnlyRootFilesystem']) {
      assert.ok(refusing.some((n) => n.includes(fragment)), `the ${fragment} check accepted the sidecar`);
    }
  });
});

describe('a configuration change rolls the pods', { timeout: 300_000 }, () => {
  for (const [target, envFile] of [['overlays/example', 'overlays/example/gatehouse.env'], ['base', 'base/gatehouse.env']]) {
    test(`${target}: changing a value changes the pod template's ${CHECKSUM_ANNOTATION} and ConfigMap`, () => {
      for (const kubectl of kubectls) {
        const dir = copyOfManifests();
        const before = render(kubectl, join(dir, target)).objects;
        const again = render(kubectl, join(dir, target)).objects;
        assert.deepEqual(template(again), template(before), 'rendering is not deterministic');

        editEnv(join(dir, envFile), 'API_NAME', 'the renamed API');
        const after = render(kubectl, join(dir, target)).objects;
        const annotation = (o) => template(o).metadata.annotations[CHECKSUM_ANNOTATION];
        assert.notEqual(annotation(after), annotation(before), `${kubectl.label}: the pod template did not change`);
        assert.equal(configMap(after).metadata.name, annotation(after));
        assert.equal(template(after).spec.containers[0].envFrom[0].configMapRef.name, annotation(after));
        assert.equal(configMap(after).data.API_NAME, 'the renamed API');
        // Nothing else in the pod template moved.
        assert.deepEqual(withoutHashes([template(after)]), withoutHashes([template(before)]));
      }
    });
  }

  test('a change outside the configuration leaves the annotation alone', () => {
    for (const kubectl of kubectls) {
      const dir = copyOfManifests();
      const before = render(kubectl, join(dir, 'overlays/example')).objects;
      const ingress = join(dir, 'overlays/example/ingress.yaml');
      writeFileSync(ingress, readFileSync(ingress, 'utf8').replaceAll('gatehouse.example.com', 'sign-in.example.org'));
      const after = render(kubectl, join(dir, 'overlays/example')).objects;
      assert.notDeepEqual(after.find((o) => o.kind === 'Ingress'), before.find((o) => o.kind === 'Ingress'));
      assert.deepEqual(template(after), template(before));
    }
  });

  test('the pod template names the ConfigMap only by its hashed name', () => {
    for (const kubectl of kubectls) {
      const text = JSON.stringify(template(renderTarget(kubectl, 'overlays/example').objects));
      assert.doesNotMatch(text, /"gatehouse-config"/, 'an unhashed reference would not roll the pods');
      assert.equal(pods(renderTarget(kubectl, 'overlays/example').objects).length, 1);
    }
  });
});
