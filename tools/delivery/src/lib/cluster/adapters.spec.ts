import type { RunOptions, RunResult } from '../shared/process';
import { GitOpsCluster, argocdVerdict } from './gitops';
import { KubectlCluster, PRUNE_KINDS, differingProjects, pruneCandidates } from './kubectl';
import { PodmanCluster } from './podman';
import { LABEL_INSTANCE, LABEL_PROJECT, LABEL_SPEC, shapeForHost } from './render';
import { parseObjects } from '../manifests/kubernetes';

type Call = {
  program: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
};

function fakeRunner(answer: (call: Call) => Partial<RunResult>) {
  const calls: Call[] = [];
  const run = async (program: string, args: readonly string[], options: RunOptions): Promise<RunResult> => {
    const call = {
      program,
      args: [...args],
      env: options.env,
      timeoutMs: options.timeoutMs,
    };
    calls.push(call);
    return {
      code: 0,
      stdout: '',
      stderr: '',
      timedOut: false,
      ...answer(call),
    };
  };
  return { run, calls };
}

const rendered = `apiVersion: apps/v1
kind: Deployment
metadata: { name: catalog, namespace: ns, labels: { app.kubernetes.io/name: catalog } }
spec: { template: { metadata: { labels: { app.kubernetes.io/name: catalog } }, spec: { containers: [{ name: c, image: "r/catalog:h-a@sha256:${'a'.repeat(64)}" }] } } }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: orders, namespace: ns, labels: { app.kubernetes.io/name: orders } }
spec: { template: { metadata: { labels: { app.kubernetes.io/name: orders } }, spec: { containers: [{ name: o, image: "r/orders:h-b@sha256:${'b'.repeat(64)}" }] } } }
`;

const deployItems = (name: string, ready: boolean, waiting?: { reason: string; message?: string }) => ({
  items: [
    {
      kind: 'Deployment',
      metadata: { name, generation: 2, annotations: { 'deployment.kubernetes.io/revision': '2' } },
      spec: { replicas: 1 },
      status: ready
        ? { observedGeneration: 2, replicas: 1, updatedReplicas: 1, readyReplicas: 1, availableReplicas: 1 }
        : { observedGeneration: 2, replicas: 2, updatedReplicas: 1, availableReplicas: 1 },
    },
    {
      kind: 'ReplicaSet',
      metadata: {
        name: `${name}-new`,
        labels: { 'pod-template-hash': 'new' },
        annotations: { 'deployment.kubernetes.io/revision': '2' },
        ownerReferences: [{ kind: 'Deployment', name }],
      },
    },
    {
      kind: 'Pod',
      metadata: { name: `${name}-new-1`, labels: { 'pod-template-hash': 'new' } },
      status: {
        phase: ready ? 'Running' : 'Pending',
        containerStatuses: [
          { name, ready, restartCount: waiting ? 2 : 0, state: waiting ? { waiting } : { running: {} } },
        ],
      },
    },
  ],
});

describe('KubectlCluster', () => {
  const renderedWithSelectors = `apiVersion: apps/v1
kind: Deployment
metadata: { name: catalog, namespace: ns, labels: { app.kubernetes.io/name: catalog, app.kubernetes.io/instance: i } }
spec: { selector: { matchLabels: { app.kubernetes.io/name: catalog } }, template: { metadata: { labels: { app.kubernetes.io/name: catalog } }, spec: { containers: [{ name: c, image: "r/catalog:h-a@sha256:${'a'.repeat(64)}" }] } } }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: orders, namespace: ns, labels: { app.kubernetes.io/name: orders, app.kubernetes.io/instance: i } }
spec: { selector: { matchLabels: { app.kubernetes.io/name: orders } }, template: { metadata: { labels: { app.kubernetes.io/name: orders } }, spec: { containers: [{ name: o, image: "r/orders:h-b@sha256:${'b'.repeat(64)}" }] } } }
`;
  const base = (call: Call): Partial<RunResult> | undefined => {
    if (call.args.includes('kustomize')) return { stdout: renderedWithSelectors };
    if (call.args.includes('get-contexts')) return { stdout: 'other\nslipway-cluster\n' };
    if (call.args.includes('/readyz')) return { stdout: 'ok' };
    if (call.args.includes('events')) return { stdout: JSON.stringify({ items: [] }) };
    if (call.args.includes(PRUNE_KINDS.join(','))) return { stdout: JSON.stringify({ items: live }) };
    return undefined;
  };
  const applied = (manager: string) => [{ manager, operation: 'Apply' }];
  let live: unknown[] = [];
  beforeEach(() => {
    live = [];
  });

  it('server-side applies with its field manager, prunes what it no longer renders, and waits on pod states', async () => {
    let polls = 0;
    live = [
      { kind: 'Deployment', metadata: { name: 'catalog', managedFields: applied('slipway-deploy') } },
      { kind: 'ConfigMap', metadata: { name: 'gone', managedFields: applied('slipway-deploy') } },
      { kind: 'ConfigMap', metadata: { name: 'someone-elses', managedFields: applied('kubectl') } },
    ];
    const { run, calls } = fakeRunner((call) => {
      const answer = base(call);
      if (answer) return answer;
      if (call.args[4] === 'apply') return { stdout: 'deployment.apps/catalog serverside-applied' };
      if (call.args.includes('deployment,replicaset,pod')) {
        const name = call.args[call.args.indexOf('-l') + 1]?.split('=')[1] as string;
        polls += 1;
        return { stdout: JSON.stringify(deployItems(name, polls > 2)) };
      }
      return {};
    });
    const cluster = new KubectlCluster({
      context: 'slipway-cluster',
      kubeconfig: '/k/config',
      kubectl: '/bin/kubectl-1.33',
      rolloutTimeoutSeconds: 100,
      run,
      sleep: async () => undefined,
    });
    const result = await cluster.apply({ overlayDir: '/o', projects: ['catalog', 'orders'], log: () => undefined });
    const apply = calls.find((c) => c.args.includes('--server-side')) as Call;
    expect(apply.program).toBe('/bin/kubectl-1.33');
    expect(apply.args.slice(0, 9)).toEqual([
      '--kubeconfig',
      '/k/config',
      '--context',
      'slipway-cluster',
      'apply',
      '--server-side',
      '--field-manager=slipway-deploy',
      '--force-conflicts',
      '-f',
    ]);
    const listed = calls.find((c) => c.args.includes(PRUNE_KINDS.join(','))) as Call;
    expect(listed.args.slice(4)).toEqual([
      'get',
      PRUNE_KINDS.join(','),
      '-n',
      'ns',
      '-l',
      'app.kubernetes.io/instance=i',
      '-o',
      'json',
    ]);
    const deletes = calls.filter((c) => c.args.includes('delete')).map((c) => c.args.slice(4).join(' '));
    expect(deletes).toEqual(['delete configmap/gone -n ns --ignore-not-found --wait=false']);
    expect(result.notes).toEqual(['pruned configmap/gone', 'catalog: rolled out', 'orders: rolled out']);
    expect(polls).toBe(4);
  });

  it('drift: maps the objects kubectl diff reports to their projects; a shared object concerns all', () => {
    const objects = parseObjects(`apiVersion: v1
kind: Service
metadata: { name: catalog, namespace: ns, labels: { app.kubernetes.io/name: catalog } }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: orders, namespace: ns, labels: { app.kubernetes.io/name: orders } }
---
apiVersion: v1
kind: Namespace
metadata: { name: ns }
`);
    const header = (id: string) => `diff -u -N /tmp/LIVE-1/${id} /tmp/MERGED-2/${id}\n--- a\n+++ b\n`;
    const projects = ['catalog', 'orders', 'web'];
    expect(differingProjects(header('v1.Service.ns.catalog'), objects, projects)).toEqual(['catalog']);
    expect(differingProjects(header('apps.v1.Deployment.ns.orders'), objects, projects)).toEqual(['orders']);
    expect(differingProjects(header('v1.Namespace.ns'), objects, projects)).toEqual(projects);
    expect(differingProjects('', objects, projects)).toEqual([]);
  });

  it('prunes only objects our field manager applied', () => {
    const rendered = [{ kind: 'ConfigMap', metadata: { name: 'kept', namespace: 'ns' } }];
    expect(
      pruneCandidates(
        [
          { kind: 'ConfigMap', metadata: { name: 'kept', namespace: 'ns', managedFields: applied('m') } },
          { kind: 'ConfigMap', metadata: { name: 'kept', namespace: 'other', managedFields: applied('m') } },
          {
            kind: 'ConfigMap',
            metadata: { name: 'edited', namespace: 'ns', managedFields: [{ manager: 'm', operation: 'Update' }] },
          },
        ],
        rendered,
        'm',
      ).map((o) => `${o.metadata?.namespace}/${o.metadata?.name}`),
    ).toEqual(['other/kept']);
  });

  it('stops the wait at the first failing pod, with its reason, events and last log lines', async () => {
    const { run } = fakeRunner((call) => {
      const answer = base(call);
      if (answer) return answer;
      if (call.args.includes('deployment,replicaset,pod'))
        return {
          stdout: JSON.stringify(
            deployItems('orders', false, { reason: 'CreateContainerConfigError', message: 'secret "db" not found' }),
          ),
        };
      if (call.args.includes('logs')) return { stdout: 'line 1\nconnecting to postgres://app:hunter22@db/x\n' };
      return {};
    });
    await expect(
      new KubectlCluster({ rolloutTimeoutSeconds: 100, run, sleep: async () => undefined }).apply({
        overlayDir: '/o',
        projects: ['orders'],
        log: () => undefined,
      }),
    ).rejects.toThrow(
      'orders will not become ready: pod orders-new-1: orders: CreateContainerConfigError: secret "db" not found\n  last log lines:\n    line 1\n    connecting to postgres://***@db/x',
    );
  });

  it('a readiness probe failing while a sibling still starts is waited on; alone, it fails the wait', async () => {
    let polls = 0;
    const notReady = (name: string) => {
      const items = deployItems(name, false);
      const pod = items.items[2] as { status: { containerStatuses: Record<string, unknown>[] } };
      pod.status.containerStatuses[0] = { name, ready: false, started: true, restartCount: 0, state: { running: {} } };
      return items;
    };
    const readinessEvents = {
      items: [
        {
          type: 'Warning',
          reason: 'Unhealthy',
          message: 'Readiness probe failed: HTTP probe failed with statuscode: 503',
          count: 12,
          involvedObject: { kind: 'Pod', name: 'orders-new-1' },
        },
      ],
    };
    const { run } = fakeRunner((call) => {
      if (call.args.includes('events')) return { stdout: JSON.stringify(readinessEvents) };
      const answer = base(call);
      if (answer) return answer;
      if (call.args.includes('deployment,replicaset,pod')) {
        const name = call.args[call.args.indexOf('-l') + 1]?.split('=')[1] as string;
        if (name === 'catalog') {
          polls += 1;
          return { stdout: JSON.stringify(deployItems('catalog', polls > 3)) };
        }
        return { stdout: JSON.stringify(notReady('orders')) };
      }
      return {};
    });
    let clock = 0;
    let catalogReadyAt: number | undefined;
    const failed = new KubectlCluster({
      rolloutTimeoutSeconds: 100,
      run,
      now: () => clock,
      sleep: async (ms) => {
        if (polls > 3 && catalogReadyAt === undefined) catalogReadyAt = clock;
        clock += ms;
      },
    }).apply({ overlayDir: '/o', projects: ['catalog', 'orders'], log: () => undefined });
    await expect(failed).rejects.toThrow(
      'orders will not become ready: pod orders-new-1: orders: readiness probe failing (12 failures): Readiness probe failed: HTTP probe failed with statuscode: 503',
    );
    // catalog was waited for until it rolled out; orders was judged 30 s of failing later.
    expect(polls).toBe(4);
    expect(clock - (catalogReadyAt ?? 0)).toBe(30_000);
  });

  it('fails naming the project and what it waits for when the deadline passes', async () => {
    let clock = 0;
    const { run } = fakeRunner((call) => {
      const answer = base(call);
      if (answer) return answer;
      if (call.args.includes('deployment,replicaset,pod'))
        return { stdout: JSON.stringify(deployItems('orders', false)) };
      return {};
    });
    await expect(
      new KubectlCluster({
        rolloutTimeoutSeconds: 5,
        run,
        now: () => clock,
        sleep: async (ms) => {
          clock += ms;
        },
      }).apply({ overlayDir: '/o', projects: ['orders'], log: () => undefined }),
    ).rejects.toThrow(
      'rollout of orders (deployment/orders) did not finish within the deadline of 5 s: 1/1 updated, 1/1 available, 1 old still running',
    );
  });

  it('refuses before applying when the kubeconfig lacks the context or the API server does not answer', async () => {
    const noContext = fakeRunner((call) => base(call) ?? {});
    await expect(
      new KubectlCluster({ context: 'prod', kubeconfig: '/k', rolloutTimeoutSeconds: 5, run: noContext.run }).apply({
        overlayDir: '/o',
        projects: ['orders'],
        log: () => undefined,
      }),
    ).rejects.toThrow("the kubeconfig /k has no context 'prod' (it has: other, slipway-cluster)");
    expect(noContext.calls.some((c) => c.args.includes('apply'))).toBe(false);
    const down = fakeRunner((call) =>
      call.args.includes('/readyz')
        ? { code: 1, stderr: 'The connection to the server 127.0.0.1:6443 was refused' }
        : (base(call) ?? {}),
    );
    await expect(
      new KubectlCluster({ rolloutTimeoutSeconds: 5, run: down.run }).apply({
        overlayDir: '/o',
        projects: ['orders'],
        log: () => undefined,
      }),
    ).rejects.toThrow(
      /does not answer \(The connection to the server 127.0.0.1:6443 was refused\): start it \(on this machine: bash tools\/scripts\/cluster.sh start\)/,
    );
    expect(down.calls.some((c) => c.args.includes('apply'))).toBe(false);
  });
});

describe('GitOpsCluster', () => {
  const commit = 'c'.repeat(40);
  it('judges the pushed revision, not just any Synced state', () => {
    expect(
      argocdVerdict(
        {
          status: {
            sync: { status: 'Synced', revision: 'd'.repeat(40) },
            health: { status: 'Healthy' },
          },
        },
        commit,
      ).done,
    ).toBe(false);
    expect(
      argocdVerdict(
        {
          status: {
            sync: { status: 'Synced', revision: commit },
            health: { status: 'Healthy' },
          },
        },
        commit,
      ).done,
    ).toBe(true);
    expect(
      argocdVerdict(
        {
          status: {
            sync: { status: 'Synced', revision: commit },
            health: { status: 'Degraded' },
          },
        },
        commit,
      ).failed,
    ).toMatch(/Degraded/);
  });

  it('without argocd credentials leaves the waiting to the smoke version gate', async () => {
    const { run, calls } = fakeRunner(() => ({}));
    const result = await new GitOpsCluster({
      app: 'slipway-staging',
      timeoutSeconds: 10,
      env: {},
      run,
    }).apply({ projects: ['catalog'], commit, log: () => undefined });
    expect(calls).toEqual([]);
    expect(result.notes[0]).toMatch(/the smoke version gate waits for the new version/);
  });

  it('with argocd polls until the pushed revision is Synced and Healthy, bounded', async () => {
    const answers = [
      {
        status: {
          sync: { status: 'Synced', revision: 'd'.repeat(40) },
          health: { status: 'Healthy' },
        },
      },
      {
        status: {
          sync: { status: 'OutOfSync', revision: commit },
          health: { status: 'Progressing' },
        },
      },
      {
        status: {
          sync: { status: 'Synced', revision: commit },
          health: { status: 'Healthy' },
        },
      },
    ];
    const { run, calls } = fakeRunner((call) =>
      call.args[0] === 'version' ? {} : { stdout: JSON.stringify(answers.shift()) },
    );
    const env = {
      ARGOCD_SERVER: 'argocd.example',
      ARGOCD_AUTH_TOKEN: 'tok-secret',
    };
    const result = await new GitOpsCluster({
      app: 'slipway-staging',
      timeoutSeconds: 60,
      env,
      run,
      sleep: async () => undefined,
      now: () => 0,
    }).apply({ projects: ['catalog'], commit, log: () => undefined });
    expect(result.notes[0]).toContain('sync Synced');
    expect(calls.filter((c) => c.args[0] === 'app')).toHaveLength(3);
    let t = 0;
    const never = fakeRunner((call) =>
      call.args[0] === 'version'
        ? {}
        : {
            stdout: JSON.stringify({
              status: {
                sync: { status: 'OutOfSync', revision: 'e'.repeat(40) },
              },
            }),
          },
    );
    await expect(
      new GitOpsCluster({
        app: 'a',
        timeoutSeconds: 3,
        env,
        run: never.run,
        sleep: async (ms) => void (t += ms),
        now: () => t,
        pollMs: 1000,
      }).apply({ projects: [], commit, log: () => undefined }),
    ).rejects.toThrow(/did not sync cccccccccccc within 3 s \(last: sync OutOfSync at eeeeeeeeeeee/);
  });
});

describe('PodmanCluster', () => {
  const manifests = shapeForHost(parseObjects(rendered), {
    instance: 'e2e',
    ports: {},
  });
  const pod = (project: string, spec: string, status = 'Running', container = 'running') => ({
    Name: `e2e-${project}-pod-0`,
    Status: status,
    Labels: {
      [LABEL_INSTANCE]: 'e2e',
      [LABEL_PROJECT]: project,
      [LABEL_SPEC]: spec,
    },
    Containers: [
      { Names: 'abc-infra', Status: 'running' },
      { Names: `e2e-${project}-pod-0-c`, Status: container },
    ],
  });

  function cluster(pods: unknown[], playCode = 0) {
    const fake = fakeRunner((call) => {
      if (call.args.includes('ps')) return { stdout: JSON.stringify(pods) };
      if (call.args.includes('play'))
        return {
          code: playCode,
          stderr:
            'time="x" level=error msg="unable to get systemd connection to add healthchecks"\nError: image not known',
        };
      return {};
    });
    const adapter = new PodmanCluster({
      instance: 'e2e',
      ports: {},
      storageDriver: 'vfs',
      insecureRegistries: ['127.0.0.1:5000'],
      workDir: require('node:os').tmpdir() + '/slipway-podman-spec',
      run: fake.run,
      render: async () => rendered,
    });
    return { adapter, calls: fake.calls };
  }

  it('drift: missing pods, stopped containers and older specs need a re-apply; matching running pods do not', async () => {
    const [catalog, orders] = manifests;
    expect(
      await cluster([
        pod('catalog', catalog?.specHash as string),
        pod('orders', orders?.specHash as string),
      ]).adapter.drift('/o', ['catalog', 'orders']),
    ).toEqual([]);
    expect(await cluster([pod('catalog', 'old')]).adapter.drift('/o', ['catalog', 'orders'])).toEqual([
      'catalog',
      'orders',
    ]);
    expect(
      await cluster([pod('catalog', catalog?.specHash as string, 'Degraded', 'exited')]).adapter.drift('/o', [
        'catalog',
      ]),
    ).toEqual(['catalog']);
  });

  it('plays each project with the flags this machine needs, and reports failures without the systemd noise', async () => {
    const { adapter, calls } = cluster([]);
    await adapter.apply({
      overlayDir: '/o',
      projects: ['orders'],
      log: () => undefined,
    });
    const play = calls.find((c) => c.args.includes('play'));
    expect(play?.args.slice(0, 6)).toEqual([
      '--storage-driver',
      'vfs',
      '--cgroup-manager',
      'cgroupfs',
      '--runtime',
      'runc',
    ]);
    expect(play?.args.slice(6, 11)).toEqual(['kube', 'play', '--replace', '--network', 'host']);
    expect(play?.args[11]).toMatch(/e2e-orders\.yaml$/);
    expect(play?.env?.['CONTAINERS_CONF']).toMatch(/containers\.conf$/);
    expect(require('node:fs').readFileSync(play?.env?.['CONTAINERS_REGISTRIES_CONF'], 'utf8')).toContain(
      'location = "127.0.0.1:5000"\ninsecure = true',
    );
    const failing = cluster([], 125).adapter;
    const error = await failing
      .apply({ overlayDir: '/o', projects: ['catalog'], log: () => undefined })
      .catch((e: Error) => e);
    expect((error as Error).message).toBe('podman kube play of catalog failed (exit 125):\nError: image not known');
  });
});
