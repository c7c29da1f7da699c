import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { planImageTarget, readImageTarget, type ImageChange } from './image-targets';

const fixture = (name: string) => readFileSync(path.join(__dirname, '__fixtures__', name), 'utf8');
const hex = (c: string) => c.repeat(64);
const change = (project: string, repository: string, tag: string, digestChar: string): ImageChange => ({
  project,
  reference: { repository, tag, digest: `sha256:${hex(digestChar)}` },
});

describe('kustomize images: targets', () => {
  it('golden: a commented, oddly formatted kustomization keeps every other byte', () => {
    const { plan, handled } = planImageTarget(
      { kind: 'kustomize', file: 'odd.yaml' },
      fixture('odd-kustomization.yaml'),
      [
        {
          project: 'catalog',
          reference: {
            repository: '127.0.0.1:5000/slipway/catalog',
            tag: 'h-0123456789ab',
            digest: `sha256:${'ab'.repeat(32)}`,
          },
        },
        {
          project: 'orders',
          reference: {
            repository: '127.0.0.1:5000/slipway/orders',
            tag: 'h-5d6e7f8a9b0c',
            digest: `sha256:${'cd'.repeat(32)}`,
          },
        },
        {
          project: 'web',
          reference: {
            repository: '127.0.0.1:5000/slipway/web',
            tag: 'h-0000000000ff',
            digest: `sha256:${'ef'.repeat(32)}`,
          },
        },
        {
          project: 'legacy',
          reference: { repository: 'ghcr.io/acme/legacy', tag: 'v1.2.3', digest: `sha256:${hex('9')}` },
        },
      ],
    );
    expect(plan.after).toBe(fixture('odd-kustomization.golden.yaml'));
    expect([...handled].sort()).toEqual(['catalog', 'legacy', 'orders', 'web']);
    expect(plan.occurrences.every((o) => o.changed)).toBe(true);
  });

  it('changes only the bytes of the edited scalars', () => {
    const before = fixture('odd-kustomization.yaml');
    const { plan } = planImageTarget({ kind: 'kustomize', file: 'odd.yaml' }, before, [
      change('orders', '127.0.0.1:5000/slipway/orders', 'h-bbbbbbbbbbbb', '3'),
    ]);
    const a = before.split('\n');
    const b = plan.after.split('\n');
    expect(b).toHaveLength(a.length);
    const differing = a.map((line, i) => (line === b[i] ? -1 : i)).filter((i) => i >= 0);
    expect(differing).toHaveLength(1);
    expect(b[differing[0]]).toBe(`      digest:    sha256:${hex('3')}`);
  });

  it('reports previous values and an unchanged entry as up to date', () => {
    const source = fixture('odd-kustomization.yaml');
    const { plan } = planImageTarget({ kind: 'kustomize', file: 'odd.yaml' }, source, [
      change('catalog', '127.0.0.1:5000/slipway/catalog', 'h-aaaaaaaaaaaa', '1'),
    ]);
    expect(plan.after).toBe(source);
    expect(plan.occurrences[0]).toMatchObject({
      changed: false,
      previous: { repository: '127.0.0.1:5000/slipway/catalog', tag: 'h-aaaaaaaaaaaa', digest: `sha256:${hex('1')}` },
    });
  });

  it('quotes a tag that would otherwise read back as a number', () => {
    const source = 'images:\n  - name: slipway/catalog\n    newTag: h-1\n';
    const { plan } = planImageTarget({ kind: 'kustomize', file: 'k.yaml' }, source, [
      { project: 'catalog', reference: { repository: 'slipway/catalog', tag: '1.10', digest: `sha256:${hex('a')}` } },
    ]);
    expect(parse(plan.after).images[0].newTag).toBe('1.10');
    expect(plan.after).toContain('newTag: "1.10"');
  });

  it('leaves projects it does not know unhandled (the caller reports them)', () => {
    const { handled } = planImageTarget({ kind: 'kustomize', file: 'k.yaml' }, fixture('odd-kustomization.yaml'), [
      change('payments', 'r/payments', 'h-0123456789ab', '1'),
    ]);
    expect(handled.size).toBe(0);
  });

  it('refuses anchors and aliases in the images list, naming the line', () => {
    const source = 'images:\n  - &cat\n    name: slipway/catalog\n    newTag: h-1\n  - *cat\n';
    expect(() =>
      planImageTarget({ kind: 'kustomize', file: 'k.yaml' }, source, [
        change('catalog', 'slipway/catalog', 'h-0123456789ab', '1'),
      ]),
    ).toThrow(/k\.yaml:\d+: the images: list uses a YAML anchor \(&cat\)/);
  });

  it('refuses duplicate keys, naming file, line and key', () => {
    const source = 'images:\n  - name: slipway/catalog\n    newTag: h-1\n    newTag: h-2\n';
    expect(() => planImageTarget({ kind: 'kustomize', file: 'k.yaml' }, source, [])).toThrow(
      /k\.yaml:4:\d+: duplicate key/,
    );
  });

  it('lists the current references', () => {
    expect(
      readImageTarget({ kind: 'kustomize', file: 'k.yaml' }, fixture('odd-kustomization.yaml')).map((e) => e.project),
    ).toEqual(['catalog', 'orders', 'web', 'legacy']);
  });

  it('keeps CRLF line endings when inserting a key', () => {
    const source = 'images:\r\n  - name: slipway/catalog\r\n    newTag: h-1\r\nx: 1\r\n';
    const { plan } = planImageTarget({ kind: 'kustomize', file: 'k.yaml' }, source, [
      change('catalog', 'slipway/catalog', 'h-0123456789ab', '1'),
    ]);
    expect(plan.after).toBe(
      `images:\r\n  - name: slipway/catalog\r\n    newTag: h-0123456789ab\r\n    digest: sha256:${hex('1')}\r\nx: 1\r\n`,
    );
  });
});

describe('Helm values targets', () => {
  const values = [
    '# values for staging',
    'catalog:',
    '  replicas: 2',
    '  image:',
    '    repository: "127.0.0.1:5000/slipway/catalog"   # set by the bump',
    '    tag: h-aaaaaaaaaaaa',
    '',
    '    pullPolicy: IfNotPresent',
    'orders:',
    '  image: {repository: r/orders, tag: h-1}',
    '',
  ].join('\n');

  it('edits repository/tag in place and inserts the digest beside its siblings', () => {
    const { plan } = planImageTarget(
      { kind: 'helm', file: 'values.yaml', project: 'catalog', path: 'catalog.image' },
      values,
      [change('catalog', '127.0.0.1:5000/slipway/catalog', 'h-0123456789ab', 'f')],
    );
    expect(plan.after).toBe(
      values
        .replace('tag: h-aaaaaaaaaaaa', 'tag: h-0123456789ab')
        .replace('pullPolicy: IfNotPresent', `pullPolicy: IfNotPresent\n    digest: sha256:${hex('f')}`),
    );
  });

  it('supports custom key names and flow maps', () => {
    const { plan } = planImageTarget(
      { kind: 'helm', file: 'values.yaml', project: 'orders', path: 'orders.image', keys: { digest: 'sha' } },
      values,
      [change('orders', 'r/orders', 'h-0123456789ab', 'e')],
    );
    expect(plan.after).toContain(`  image: {repository: r/orders, tag: h-0123456789ab, sha: sha256:${hex('e')}}`);
  });

  it('names a missing values path and how to fix it', () => {
    expect(() =>
      planImageTarget({ kind: 'helm', file: 'values.yaml', project: 'web', path: 'web.image' }, values, [
        change('web', 'r/web', 'h-0123456789ab', '1'),
      ]),
    ).toThrow(/values\.yaml: the Helm values path 'web\.image' for project 'web' is missing[\s\S]*fix: add web\.image/);
  });
});

describe('marker comment targets', () => {
  const manifest = [
    'apiVersion: apps/v1',
    'kind: Deployment',
    'spec:',
    '  template:',
    '    spec:',
    '      containers:',
    '        - name: catalog',
    '          image: 127.0.0.1:5000/slipway/catalog:h-aaaaaaaaaaaa # slipway:image catalog',
    '        - name: sidecar',
    '          image: busybox:1.36   # not marked',
    '---',
    '# second document',
    'kind: Job',
    'image: "r/orders:h-1"   # slipway:image orders',
    '',
  ].join('\n');

  it('rewrites only marked scalars, in every document, keeping quotes and comments', () => {
    const { plan, handled } = planImageTarget({ kind: 'marker', file: 'm.yaml' }, manifest, [
      change('catalog', '127.0.0.1:5000/slipway/catalog', 'h-0123456789ab', 'a'),
      change('orders', 'r/orders', 'h-0123456789ab', 'b'),
    ]);
    expect(plan.after).toBe(
      manifest
        .replace('catalog:h-aaaaaaaaaaaa #', `catalog:h-0123456789ab@sha256:${hex('a')} #`)
        .replace('"r/orders:h-1"', `"r/orders:h-0123456789ab@sha256:${hex('b')}"`),
    );
    expect([...handled].sort()).toEqual(['catalog', 'orders']);
    expect(plan.occurrences.find((o) => o.project === 'orders')?.previous).toEqual({
      repository: 'r/orders',
      tag: 'h-1',
    });
  });
});
