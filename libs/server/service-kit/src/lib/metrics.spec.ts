import { createService, type Service } from './service.js';

function seriesCount(exposition: string, labels: string): number | undefined {
  const line = exposition.split('\n').find((l) => l.startsWith(`http_request_duration_seconds_count{${labels}}`));
  return line === undefined ? undefined : Number(line.split(' ').at(-1));
}

describe('/metrics', () => {
  let one: Service;
  let two: Service;

  beforeAll(async () => {
    // Two services in one process: each must own its registry (no "already registered" clash).
    one = await createService({ name: 'metrics-one', logger: false, rateLimit: false });
    two = await createService({ name: 'metrics-two', logger: false, rateLimit: false });
    one.app.get('/products/:id', async (req) => ({ id: (req.params as { id: string }).id }));
    one.app.get('/fail', async (_req, reply) => reply.code(503).send({ statusCode: 503 }));
    two.app.get('/orders', async () => []);
    await Promise.all([one.app.ready(), two.app.ready()]);
  });

  afterAll(async () => {
    await one.shutdown();
    await two.shutdown();
  });

  it('exposes prom-client default metrics in the text format', async () => {
    const res = await one.app.inject('/metrics');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(res.body).toMatch(/^# HELP process_cpu_user_seconds_total/m);
    expect(res.body).toMatch(/^nodejs_heap_size_total_bytes\{service="metrics-one"\} \d+/m);
    expect(res.body).toMatch(/^# TYPE http_request_duration_seconds histogram$/m);
  });

  it('labels the duration histogram with method, route pattern and status code', async () => {
    await one.app.inject('/products/1');
    await one.app.inject('/products/2');
    await one.app.inject('/products/3?x=y');
    await one.app.inject('/fail');
    await one.app.inject({ method: 'POST', url: '/products/9' });
    await one.app.inject('/no/such/path/123');
    const body = (await one.app.inject('/metrics')).body;

    expect(seriesCount(body, 'service="metrics-one",method="GET",route="/products/:id",status_code="200"')).toBe(3);
    expect(seriesCount(body, 'service="metrics-one",method="GET",route="/fail",status_code="503"')).toBe(1);
    expect(seriesCount(body, 'service="metrics-one",method="GET",route="unmatched",status_code="404"')).toBe(1);
    expect(seriesCount(body, 'service="metrics-one",method="POST",route="unmatched",status_code="404"')).toBe(1);
    // Raw URLs never become label values.
    expect(body).not.toMatch(/route="\/products\/1"|no\/such\/path/);
    expect(body).toMatch(
      /http_request_duration_seconds_bucket\{le="0\.005",service="metrics-one",method="GET",route="\/products\/:id",status_code="200"\} \d/,
    );
  });

  it('keeps each service to its own series', async () => {
    await two.app.inject('/orders');
    const bodyTwo = (await two.app.inject('/metrics')).body;
    expect(seriesCount(bodyTwo, 'service="metrics-two",method="GET",route="/orders",status_code="200"')).toBe(1);
    expect(bodyTwo).not.toContain('metrics-one');
    expect(bodyTwo).not.toContain('/products/:id');
    expect(one.registry).not.toBe(two.registry);
    expect(await one.registry.getSingleMetric('http_request_duration_seconds')).toBeDefined();
  });
});
