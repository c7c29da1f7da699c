import { parse } from 'yaml';
import {
  LABEL_INSTANCE,
  LABEL_PROJECT,
  LABEL_SPEC,
  deploymentsByProject,
  remapLoopbackPorts,
  shapeForHost,
} from './render';
import { parseObjects } from '../manifests/kubernetes';

const rendered = `
apiVersion: v1
kind: ConfigMap
metadata: { name: catalog-config, namespace: slipway-local }
data: { PORT: "3101", HOST: 127.0.0.1 }
---
apiVersion: v1
kind: ConfigMap
metadata: { name: orders-config }
data: { PORT: "3102", CATALOG_URL: "http://127.0.0.1:3101", OTHER: "http://example.com:3101/x" }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: catalog, namespace: slipway-local, labels: { app.kubernetes.io/name: catalog } }
spec:
  template:
    metadata: { labels: { app.kubernetes.io/name: catalog }, annotations: { prometheus.io/port: "3101" } }
    spec:
      containers:
        - name: catalog
          image: 127.0.0.1:5000/slipway/catalog:h-aaaaaaaaaaaa@sha256:${'a'.repeat(64)}
          envFrom: [{ configMapRef: { name: catalog-config } }]
          readinessProbe: { httpGet: { path: /health/readiness, port: 3101 } }
          livenessProbe: { httpGet: { path: /health/liveness, port: 3101 } }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: orders, labels: { app.kubernetes.io/name: orders } }
spec:
  template:
    metadata: { labels: { app.kubernetes.io/name: orders } }
    spec:
      containers:
        - name: orders
          image: 127.0.0.1:5000/slipway/orders:h-bbbbbbbbbbbb@sha256:${'b'.repeat(64)}
          envFrom: [{ configMapRef: { name: orders-config } }]
          env: [{ name: UPSTREAM, value: "http://localhost:3101" }]
          startupProbe: { httpGet: { path: /health/liveness, port: 3102 } }
`;

describe('shapeForHost', () => {
  const objects = parseObjects(rendered);

  it('splits per project with the ConfigMaps each reads, prefixes names and labels the pod', () => {
    const [catalog, orders] = shapeForHost(objects, {
      instance: 'e2e-1',
      ports: { catalog: 3101, orders: 3102 },
    });
    expect(catalog?.deployment).toBe('e2e-1-catalog');
    expect(catalog?.objects.map((o) => `${o.kind}/${o.metadata?.name}`)).toEqual([
      'ConfigMap/catalog-config',
      'Deployment/e2e-1-catalog',
    ]);
    expect(orders?.objects.map((o) => `${o.kind}/${o.metadata?.name}`)).toEqual([
      'ConfigMap/orders-config',
      'Deployment/e2e-1-orders',
    ]);
    const labels = (
      parse(catalog?.yaml.split('---\n')[1] as string) as {
        spec: { template: { metadata: { labels: Record<string, string> } } };
      }
    ).spec.template.metadata.labels;
    expect(labels).toMatchObject({
      [LABEL_INSTANCE]: 'e2e-1',
      [LABEL_PROJECT]: 'catalog',
      [LABEL_SPEC]: catalog?.specHash,
    });
    expect(catalog?.images).toEqual([`127.0.0.1:5000/slipway/catalog:h-aaaaaaaaaaaa@sha256:${'a'.repeat(64)}`]);
  });

  it('remaps PORT, probes, annotations and loopback URLs to the wanted ports, and nothing else', () => {
    const [catalog, orders] = shapeForHost(objects, {
      instance: 'e2e-1',
      ports: { catalog: 3601, orders: 3602 },
    });
    const text = `${catalog?.yaml}\n${orders?.yaml}`;
    expect(text).not.toMatch(/\b310[12]\b(?!\/x)/);
    expect(text).toContain('PORT: "3601"');
    expect(text).toContain('CATALOG_URL: http://127.0.0.1:3601');
    expect(text).toContain('OTHER: http://example.com:3101/x');
    expect(text).toContain('value: http://localhost:3601');
    expect(text).toContain('prometheus.io/port: "3601"');
    expect(text).toMatch(/startupProbe:\n\s+httpGet:\n\s+path: \/health\/liveness\n\s+port: 3602/);
  });

  it('the spec hash changes with the image and the ports, not with the instance label alone', () => {
    const a = shapeForHost(objects, {
      instance: 'x',
      ports: { catalog: 3101 },
    })[0]?.specHash;
    const b = shapeForHost(objects, {
      instance: 'x',
      ports: { catalog: 3601 },
    })[0]?.specHash;
    const changed = parseObjects(rendered.replace('h-aaaaaaaaaaaa', 'h-cccccccccccc'));
    const c = shapeForHost(changed, {
      instance: 'x',
      ports: { catalog: 3101 },
    })[0]?.specHash;
    expect(new Set([a, b, c]).size).toBe(3);
    expect(shapeForHost(objects, { instance: 'x', ports: { catalog: 3101 } })[0]?.specHash).toBe(a);
  });

  it('filters projects and maps Deployments for kubectl', () => {
    expect(
      shapeForHost(objects, {
        instance: 'x',
        ports: {},
        projects: ['orders'],
      }).map((m) => m.project),
    ).toEqual(['orders']);
    expect([...deploymentsByProject(objects)]).toEqual([
      ['catalog', { name: 'catalog', namespace: 'slipway-local' }],
      ['orders', { name: 'orders', namespace: undefined }],
    ]);
  });
});

describe('remapLoopbackPorts', () => {
  it('rewrites only loopback hosts with a mapped port', () => {
    const map = new Map([[3101, 3601]]);
    expect(remapLoopbackPorts('http://127.0.0.1:3101', map)).toBe('http://127.0.0.1:3601');
    expect(remapLoopbackPorts('http://localhost:3101/api?x=1', map)).toBe('http://localhost:3601/api?x=1');
    expect(remapLoopbackPorts('http://127.0.0.1:31010', map)).toBe('http://127.0.0.1:31010');
    expect(remapLoopbackPorts('http://10.0.0.1:3101', map)).toBe('http://10.0.0.1:3101');
  });
});
