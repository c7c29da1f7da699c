import type { RunResult } from '../shared/process';
import { GitOpsCluster, WorkloadFailure } from './gitops';

/**
 * The gitops adapter's kubectl access with a scripted kubectl (the real one runs in
 * *.argocd.cluster-spec.ts): which calls it makes, in which order, and what it concludes.
 */
const commit = 'a'.repeat(40);
const image = '127.0.0.1:5000/slipway/catalog:h-222@sha256:' + '2'.repeat(64);

type Answer = Partial<RunResult> | ((args: string[]) => Partial<RunResult>);

function scripted(answers: Record<string, Answer[]>) {
  const calls: string[] = [];
  const run = async (_program: string, args: readonly string[]): Promise<RunResult> => {
    const line = args.join(' ');
    calls.push(line);
    const key = Object.keys(answers).find((k) => line.includes(k));
    const queue = key ? answers[key] : undefined;
    const next = queue && (queue.length > 1 ? queue.shift() : queue[0]);
    const answer = typeof next === 'function' ? next([...args]) : (next ?? {});
    return { code: 0, stdout: '', stderr: '', timedOut: false, ...answer };
  };
  return { run, calls };
}

const app = (sync: string, revision: string, health: string, extra: object = {}) => ({
  stdout: JSON.stringify({
    metadata: { name: 'slipway-cluster-gitops', namespace: 'argocd' },
    spec: { destination: { server: 'https://kubernetes.default.svc', namespace: 'ns' } },
    status: {
      sync: { status: sync, revision },
      health: { status: health },
      resources: [
        {
          group: 'apps',
          version: 'v1',
          kind: 'Deployment',
          namespace: 'ns',
          name: 'catalog',
          status: sync,
          health: {
            status: health,
            message:
              health === 'Healthy'
                ? undefined
                : 'Waiting for rollout to finish: 1 old replicas are pending termination...',
          },
        },
      ],
      ...extra,
    },
  }),
});

const crashing = {
  stdout: JSON.stringify({
    items: [
      {
        kind: 'Deployment',
        metadata: {
          name: 'catalog',
          namespace: 'ns',
          generation: 2,
          annotations: { 'deployment.kubernetes.io/revision': '2' },
        },
        spec: { replicas: 1, template: { spec: { containers: [{ name: 'catalog', image }] } } },
        status: { observedGeneration: 2, replicas: 2, updatedReplicas: 1, availableReplicas: 1 },
      },
      {
        kind: 'ReplicaSet',
        metadata: {
          name: 'catalog-new',
          annotations: { 'deployment.kubernetes.io/revision': '2' },
          labels: { 'pod-template-hash': 'new' },
          ownerReferences: [{ kind: 'Deployment', name: 'catalog' }],
        },
      },
      {
        kind: 'Pod',
        metadata: { name: 'catalog-new-x', labels: { 'pod-template-hash': 'new' } },
        status: {
          phase: 'Running',
          containerStatuses: [
            {
              name: 'catalog',
              image,
              ready: false,
              restartCount: 2,
              state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 20s' } },
              lastState: { terminated: { reason: 'Error', exitCode: 1 } },
            },
          ],
        },
      },
    ],
  }),
};

describe('GitOpsCluster through kubectl', () => {
  const options = {
    app: 'slipway-cluster-gitops',
    timeoutSeconds: 60,
    access: 'kubectl' as const,
    kubeconfig: '/k/kubeconfig',
    argocdNamespace: 'argocd',
    sleep: async () => undefined,
  };

  it('asks for a hard refresh, then waits for the commit to be Synced and Healthy', async () => {
    const { run, calls } = scripted({
      'get applications.argoproj.io': [
        app('Synced', 'b'.repeat(40), 'Healthy'),
        app('OutOfSync', commit, 'Healthy'),
        app('Synced', commit, 'Progressing'),
        app('Synced', commit, 'Healthy'),
      ],
      'get deployment,replicaset,pod': [{ stdout: '{"items":[]}' }],
      'get events': [{ stdout: '{"items":[]}' }],
    });
    const logs: string[] = [];
    const result = await new GitOpsCluster({ ...options, run }).apply({
      projects: ['catalog'],
      commit,
      log: (l) => logs.push(l),
    });
    expect(calls[0]).toBe(
      '--kubeconfig /k/kubeconfig annotate applications.argoproj.io slipway-cluster-gitops -n argocd argocd.argoproj.io/refresh=hard --overwrite',
    );
    expect(calls.filter((c) => c.includes('get applications.argoproj.io'))).toHaveLength(4);
    expect(result.notes[0]).toMatch(
      /^Argo CD slipway-cluster-gitops: Synced at aaaaaaaaaaaa, Healthy after \d+\.\d s$/,
    );
    expect(logs).toContain(
      'waiting for Argo CD application slipway-cluster-gitops to be Synced at aaaaaaaaaaaa and Healthy (up to 60 s)',
    );
  });

  it('fails as soon as a pod of the synced revision crash-loops: Argo CD message, pod reason, log tail', async () => {
    const { run } = scripted({
      'get applications.argoproj.io': [app('Synced', commit, 'Progressing')],
      'get deployment,replicaset,pod': [crashing],
      'get events': [{ stdout: '{"items":[]}' }],
      'logs catalog-new-x': [
        {
          stdout:
            'starting\nInvalid configuration: 1 problem in environment variables\n  - RATE_LIMIT_MAX: not an integer\n',
        },
      ],
    });
    const logs: string[] = [];
    const error = await new GitOpsCluster({ ...options, run })
      .apply({ projects: ['catalog'], commit, log: (l) => logs.push(l) })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkloadFailure);
    const failure = error as WorkloadFailure;
    expect(failure.message).toBe(
      'Argo CD slipway-cluster-gitops: aaaaaaaaaaaa will not become Healthy: pods of its revision fail (Argo CD: Progressing) — ' +
        'Deployment ns/catalog: Progressing: Waiting for rollout to finish: 1 old replicas are pending termination...; ' +
        'catalog: pod catalog-new-x: catalog: CrashLoopBackOff: exited 1, 2 restarts — last log line:   - RATE_LIMIT_MAX: not an integer',
    );
    expect(failure.failing).toEqual([
      expect.objectContaining({
        project: 'catalog',
        phase: 'failing',
        exitCode: 1,
        logTail: expect.arrayContaining(['  - RATE_LIMIT_MAX: not an integer']),
      }),
    ]);
    expect(logs).toContain('  | Invalid configuration: 1 problem in environment variables');
  });

  it('keeps waiting while a running pod only fails its readiness probe (it may wait for another service)', async () => {
    const notReady = JSON.parse(crashing.stdout) as { items: { kind: string; status?: Record<string, unknown> }[] };
    const pod = notReady.items.find((i) => i.kind === 'Pod') as { status: Record<string, unknown> };
    pod.status = {
      phase: 'Running',
      containerStatuses: [
        { name: 'catalog', image, ready: false, started: true, restartCount: 0, state: { running: {} } },
      ],
    };
    const unhealthy = {
      type: 'Warning',
      reason: 'Unhealthy',
      message: 'Readiness probe failed: HTTP probe failed with statuscode: 503',
      count: 5,
      involvedObject: { kind: 'Pod', name: 'catalog-new-x' },
    };
    const { run, calls } = scripted({
      'get applications.argoproj.io': [app('Synced', commit, 'Progressing'), app('Synced', commit, 'Healthy')],
      'get deployment,replicaset,pod': [{ stdout: JSON.stringify(notReady) }],
      'get events': [{ stdout: JSON.stringify({ items: [unhealthy] }) }],
    });
    const result = await new GitOpsCluster({ ...options, run }).apply({
      projects: ['catalog'],
      commit,
      log: () => undefined,
    });
    expect(result.notes[0]).toMatch(/Synced at aaaaaaaaaaaa, Healthy/);
    expect(calls.filter((c) => c.includes('get deployment,replicaset,pod'))).toHaveLength(1);
  });

  it('does not judge pods before the commit is applied (the health then is that of the release before)', async () => {
    const { run, calls } = scripted({
      'get applications.argoproj.io': [app('OutOfSync', commit, 'Degraded'), app('Synced', commit, 'Healthy')],
      'get deployment,replicaset,pod': [crashing],
      'get events': [{ stdout: '{"items":[]}' }],
    });
    await new GitOpsCluster({ ...options, run }).apply({ projects: ['catalog'], commit, log: () => undefined });
    expect(calls.some((c) => c.includes('get deployment,replicaset,pod'))).toBe(false);
  });

  it('fails naming the last state when the deadline passes', async () => {
    let t = 0;
    const { run } = scripted({ 'get applications.argoproj.io': [app('Synced', 'b'.repeat(40), 'Healthy')] });
    await expect(
      new GitOpsCluster({
        ...options,
        timeoutSeconds: 5,
        run,
        now: () => t,
        sleep: async (ms) => void (t += ms),
      }).apply({
        projects: ['catalog'],
        commit,
        log: () => undefined,
      }),
    ).rejects.toThrow(
      'Argo CD application slipway-cluster-gitops was not Synced at aaaaaaaaaaaa and Healthy within 5 s (last: sync Synced at bbbbbbbbbbbb, health Healthy)',
    );
  });
});
