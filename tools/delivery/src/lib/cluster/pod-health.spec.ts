import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { currentPods, deploymentHealth, logTail, podEvents, type K8sEvent, type K8sItem } from './pod-health';

/**
 * Fixtures recorded from the real cluster (tools/scripts/cluster.sh, Kubernetes v1.33.13): a Deployment
 * per failure kind, `kubectl get deployment,replicaset,pod -l app=<name> -o json` and its events.
 */
function fixture(name: string): { items: K8sItem[]; events: K8sEvent[] } {
  return JSON.parse(readFileSync(path.join(__dirname, '__fixtures__/kubectl', `${name}.json`), 'utf8'));
}
const health = (name: string) => deploymentHealth({ project: name, ...fixture(name) });

describe('deploymentHealth on recorded cluster states', () => {
  it('a healthy Deployment is ready', () => {
    expect(health('healthy')).toEqual({ health: { project: 'healthy', phase: 'ready', restarts: 0 } });
  });

  it('a container that exits on a config error is failing, with exit code, restarts and the container for its logs', () => {
    const { health: h, failing } = health('crash');
    expect(h.phase).toBe('failing');
    expect(h.reason).toMatch(
      /^pod crash-[a-z0-9]+-[a-z0-9]+: crash: (CrashLoopBackOff: exited 3, \d+ restarts|exited 3, \d+ restarts?)$/,
    );
    expect(h.exitCode).toBe(3);
    expect(h.restarts).toBeGreaterThanOrEqual(1);
    expect(failing).toMatchObject({ container: 'crash' });
    expect(failing?.pod).toMatch(/^crash-/);
    expect(h.events?.some((e) => e.startsWith('BackOff: Back-off restarting failed container crash'))).toBe(true);
  });

  it('a missing image is failing with the pull error the node reported', () => {
    const { health: h, failing } = health('missing-image');
    expect(h.phase).toBe('failing');
    expect(h.reason).toMatch(/missing-image: (ErrImagePull|ImagePullBackOff): .*no-such-image:1/);
    expect(failing).toMatchObject({ container: 'missing-image', previous: false });
    expect(h.events?.join('\n')).toMatch(/Failed: Failed to pull image ".*no-such-image:1": .*not found/);
  });

  it('a reference to a missing ConfigMap is a CreateContainerConfigError', () => {
    const { health: h } = health('config-error');
    expect(h.phase).toBe('failing');
    expect(h.reason).toMatch(/config-error: CreateContainerConfigError: configmap "no-such-config" not found$/);
  });

  it('an OOM kill under a small memory limit is failing and says so', () => {
    const { health: h, failing } = health('oom');
    expect(h.phase).toBe('failing');
    expect(h.oomKilled).toBe(true);
    expect(h.exitCode).toBe(137);
    expect(h.reason).toMatch(/OOM/);
    expect(failing).toMatchObject({ container: 'oom' });
  });

  it('a readiness probe that keeps failing after the start is failing with the probe message', () => {
    const { health: h, failing } = health('not-ready');
    expect(h.phase).toBe('failing');
    expect(h.reason).toMatch(
      /not-ready: readiness probe failing \(\d+ failures\): Readiness probe failed: HTTP probe failed with statuscode: 404$/,
    );
    expect(failing).toMatchObject({ container: 'not-ready', previous: false });
  });

  it('a pod the scheduler can not place is failing with the scheduler message', () => {
    const { health: h, failing } = health('unschedulable');
    expect(h.phase).toBe('failing');
    expect(h.reason).toMatch(/unschedulable: 0\/1 nodes are available: 1 Insufficient cpu/);
    expect(failing).toBeUndefined();
  });

  it('a rollout still starting its new pod is starting, with what it waits for', () => {
    const { health: h } = health('rollout-starting');
    expect(h.phase).toBe('starting');
    expect(h.reason).toMatch(/^\d\/1 updated, \d\/1 available/);
  });

  it('judges only the pods of the current revision', () => {
    const { items } = fixture('rollout-crash');
    const deployment = items.find((i) => i.kind === 'Deployment') as K8sItem;
    const pods = currentPods(deployment, items);
    const revision = deployment.metadata?.annotations?.['deployment.kubernetes.io/revision'];
    const set = items.find(
      (i) => i.kind === 'ReplicaSet' && i.metadata?.annotations?.['deployment.kubernetes.io/revision'] === revision,
    );
    expect(pods.length).toBeGreaterThan(0);
    for (const pod of pods)
      expect(pod.metadata?.labels?.['pod-template-hash']).toBe(set?.metadata?.labels?.['pod-template-hash']);
    expect(deploymentHealth({ project: 'oom', items, events: fixture('rollout-crash').events }).health).toMatchObject({
      phase: 'failing',
      exitCode: 1,
    });
  });
});

describe('podEvents and logTail', () => {
  it('keeps the newest warnings about the given pods only', () => {
    const events: K8sEvent[] = [
      {
        type: 'Warning',
        reason: 'A',
        message: 'old',
        involvedObject: { kind: 'Pod', name: 'p' },
        lastTimestamp: '2026-01-01T00:00:01Z',
      },
      {
        type: 'Normal',
        reason: 'Pulled',
        message: 'fine',
        involvedObject: { kind: 'Pod', name: 'p' },
        lastTimestamp: '2026-01-01T00:00:02Z',
      },
      {
        type: 'Warning',
        reason: 'B',
        message: 'new',
        count: 4,
        involvedObject: { kind: 'Pod', name: 'p' },
        lastTimestamp: '2026-01-01T00:00:03Z',
      },
      {
        type: 'Warning',
        reason: 'C',
        message: 'other pod',
        involvedObject: { kind: 'Pod', name: 'q' },
        lastTimestamp: '2026-01-01T00:00:04Z',
      },
    ];
    expect(podEvents(events, ['p'])).toEqual(['A: old', 'B: new (x4)']);
    expect(podEvents(events, ['p'], 1)).toEqual(['B: new (x4)']);
  });

  it('keeps the last 30 lines', () => {
    const text = Array.from({ length: 40 }, (_, i) => `line ${i + 1}`).join('\n') + '\n';
    expect(logTail(text)).toHaveLength(30);
    expect(logTail(text)[0]).toBe('line 11');
    expect(logTail('')).toEqual([]);
  });
});
