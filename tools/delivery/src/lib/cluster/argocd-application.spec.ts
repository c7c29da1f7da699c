import {
  applicationMessages,
  applicationVerdict,
  managedDeployments,
  sameRevision,
  type ArgoApplication,
} from './argocd-application';

const commit = 'c'.repeat(40);
const previous = 'd'.repeat(40);

function app(status: ArgoApplication['status']): ArgoApplication {
  return {
    metadata: { name: 'slipway-cluster-gitops', namespace: 'argocd' },
    spec: { destination: { server: 'https://kubernetes.default.svc', namespace: 'slipway-cluster-gitops' } },
    status,
  };
}

describe('applicationVerdict', () => {
  it('is done only when the release commit is Synced and Healthy', () => {
    expect(
      applicationVerdict(
        app({ sync: { status: 'Synced', revision: previous }, health: { status: 'Healthy' } }),
        commit,
      ),
    ).toMatchObject({
      done: false,
      onRevision: false,
      state: 'sync Synced at dddddddddddd, health Healthy',
    });
    expect(
      applicationVerdict(
        app({ sync: { status: 'OutOfSync', revision: commit }, health: { status: 'Healthy' } }),
        commit,
      ).done,
    ).toBe(false);
    expect(
      applicationVerdict(
        app({ sync: { status: 'Synced', revision: commit }, health: { status: 'Progressing' } }),
        commit,
      ).done,
    ).toBe(false);
    expect(
      applicationVerdict(app({ sync: { status: 'Synced', revision: commit }, health: { status: 'Healthy' } }), commit),
    ).toMatchObject({
      done: true,
      onRevision: true,
    });
  });

  it('fails on Degraded only once the commit is applied, with Argo CD resource messages', () => {
    const degraded = {
      health: { status: 'Degraded' },
      resources: [
        {
          group: 'apps',
          kind: 'Deployment',
          namespace: 'ns',
          name: 'catalog',
          status: 'Synced',
          health: { status: 'Degraded', message: 'Deployment "catalog" exceeded its progress deadline' },
        },
        { kind: 'Service', namespace: 'ns', name: 'catalog', status: 'Synced', health: { status: 'Healthy' } },
      ],
    };
    // Compared but not yet applied: the health is that of what ran before (a rollback replacing a failed release).
    expect(
      applicationVerdict(app({ ...degraded, sync: { status: 'OutOfSync', revision: commit } }), commit).failed,
    ).toBeUndefined();
    const verdict = applicationVerdict(app({ ...degraded, sync: { status: 'Synced', revision: commit } }), commit);
    expect(verdict.failed).toBe('application is Degraded on cccccccccccc');
    expect(verdict.messages).toEqual([
      'Deployment ns/catalog: Degraded: Deployment "catalog" exceeded its progress deadline',
    ]);
  });

  it('fails when the sync operation of this commit failed, not one of an older commit', () => {
    const failedOp = (revision: string) =>
      app({
        sync: { status: 'OutOfSync', revision: commit },
        health: { status: 'Healthy' },
        operationState: {
          phase: 'Failed',
          message: 'one or more objects failed to apply',
          syncResult: {
            revision,
            resources: [
              {
                kind: 'Deployment',
                namespace: 'ns',
                name: 'orders',
                status: 'SyncFailed',
                message: 'Deployment.apps "orders" is invalid: spec.template.spec.containers[0].image: Required value',
              },
            ],
          },
        },
      });
    const verdict = applicationVerdict(failedOp(commit), commit);
    expect(verdict.failed).toBe('sync of cccccccccccc Failed: one or more objects failed to apply');
    expect(verdict.messages).toContain(
      'Deployment ns/orders: sync failed: Deployment.apps "orders" is invalid: spec.template.spec.containers[0].image: Required value',
    );
    expect(applicationVerdict(failedOp(previous), commit).failed).toBeUndefined();
  });

  it('reports error conditions and the application health message when no resource explains it', () => {
    const messages = applicationMessages(
      app({
        health: { status: 'Missing', message: 'nothing deployed' },
        conditions: [
          { type: 'ComparisonError', message: 'Failed to load target state: repository not found' },
          { type: 'SharedResourceWarning', message: 'shared' },
        ],
      }),
    );
    expect(messages).toEqual(['ComparisonError: Failed to load target state: repository not found']);
    expect(applicationMessages(app({ health: { status: 'Missing', message: 'nothing deployed' } }))).toEqual([
      'Missing: nothing deployed',
    ]);
  });

  it('compares revisions by prefix of at least 7 characters', () => {
    expect(sameRevision('cccccccc', commit)).toBe(true);
    expect(sameRevision('cccccc', commit)).toBe(false);
    expect(sameRevision(undefined, commit)).toBe(false);
  });

  it('lists the Deployments the application manages, in their namespace', () => {
    expect(
      managedDeployments(
        app({
          resources: [
            { group: 'apps', kind: 'Deployment', namespace: 'ns', name: 'catalog' },
            { group: 'apps', kind: 'Deployment', name: 'web' },
            { kind: 'Service', namespace: 'ns', name: 'catalog' },
          ],
        }),
      ),
    ).toEqual([
      { name: 'catalog', namespace: 'ns' },
      { name: 'web', namespace: 'slipway-cluster-gitops' },
    ]);
  });
});
