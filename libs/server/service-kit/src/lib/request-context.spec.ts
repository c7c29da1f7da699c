import { createHttpClient } from './http-client.js';
import { currentRequestId, getRequestContext, requestIdFrom } from './request-context.js';
import { createService, type Service } from './service.js';
import { logCapture, sendJson, startTestServer, type TestServer } from './test-support/servers.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('requestIdFrom', () => {
  it('reuses a well-formed incoming id and replaces anything else with a UUID', () => {
    expect(requestIdFrom({ 'x-request-id': 'abc-123_x.y:z' })).toBe('abc-123_x.y:z');
    expect(requestIdFrom({ 'x-request-id': ['first', 'second'] })).toBe('first');
    expect(requestIdFrom({})).toMatch(UUID);
    expect(requestIdFrom({ 'x-request-id': '' })).toMatch(UUID);
    expect(requestIdFrom({ 'x-request-id': 'bad id\n{"level":60}' })).toMatch(UUID);
    expect(requestIdFrom({ 'x-request-id': 'x'.repeat(129) })).toMatch(UUID);
  });
});

describe('request id through a service', () => {
  let downstream: TestServer;
  let service: Service;
  let baseUrl: string;
  const logs = logCapture();

  beforeAll(async () => {
    downstream = await startTestServer((req, res) =>
      sendJson(res, 200, { sawRequestId: req.headers['x-request-id'] ?? null }),
    );
    service = await createService({
      name: 'ctx-test',
      port: 0,
      logger: { level: 'info' },
      logStream: logs.stream,
      rateLimit: false,
    });
    const client = createHttpClient(downstream.url);
    service.app.get('/context', async (request) => {
      request.log.info('handler ran');
      return { inHandler: currentRequestId(), store: getRequestContext() };
    });
    service.app.post(
      '/relay',
      { schema: { body: { type: 'object', properties: { n: { type: 'integer' } } } } },
      async () => {
        // After body parsing: the context must survive the socket's 'end' event.
        await new Promise((r) => setTimeout(r, 5));
        return { inHandler: currentRequestId(), downstream: await client.get('/echo') };
      },
    );
    baseUrl = await service.listen();
  });

  afterAll(async () => {
    await service.shutdown();
    await downstream.close();
  });

  it('reuses the incoming x-request-id, echoes it and exposes it to the handler', async () => {
    const res = await fetch(`${baseUrl}/context`, { headers: { 'x-request-id': 'incoming-1' } });
    expect(res.headers.get('x-request-id')).toBe('incoming-1');
    expect(await res.json()).toEqual({ inHandler: 'incoming-1', store: { requestId: 'incoming-1' } });
  });

  it('generates an id when none is sent and echoes it', async () => {
    const res = await fetch(`${baseUrl}/context`);
    const id = res.headers.get('x-request-id');
    expect(id).toMatch(UUID);
    expect(((await res.json()) as { inHandler: string }).inHandler).toBe(id);
  });

  it('passes the id to a downstream server through createHttpClient, after body parsing', async () => {
    const res = await fetch(`${baseUrl}/relay`, {
      method: 'POST',
      headers: { 'x-request-id': 'chain-7', 'content-type': 'application/json' },
      body: JSON.stringify({ n: 1 }),
    });
    expect(await res.json()).toEqual({ inHandler: 'chain-7', downstream: { sawRequestId: 'chain-7' } });
    expect(downstream.requests.at(-1)?.headers['x-request-id']).toBe('chain-7');

    const generated = await fetch(`${baseUrl}/relay`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    const id = generated.headers.get('x-request-id');
    expect(((await generated.json()) as { downstream: unknown }).downstream).toEqual({ sawRequestId: id });
  });

  it('keeps concurrent requests apart', async () => {
    const ids = Array.from({ length: 8 }, (_, i) => `parallel-${i}`);
    const bodies = await Promise.all(
      ids.map(async (id) => {
        const res = await fetch(`${baseUrl}/relay`, {
          method: 'POST',
          headers: { 'x-request-id': id, 'content-type': 'application/json' },
          body: '{}',
        });
        return (await res.json()) as { inHandler: string; downstream: { sawRequestId: string } };
      }),
    );
    expect(bodies.map((b) => [b.inHandler, b.downstream.sawRequestId])).toEqual(ids.map((id) => [id, id]));
  });

  it('writes the id on every log line of the request', async () => {
    await fetch(`${baseUrl}/context`, { headers: { 'x-request-id': 'logged-9' } });
    const lines = logs.lines().filter((l) => l['requestId'] === 'logged-9');
    expect(lines.map((l) => l['msg'])).toEqual(['incoming request', 'handler ran', 'request completed']);
    for (const line of lines) expect(line).toMatchObject({ service: 'ctx-test', level: 30 });
  });

  it('has no context outside a request', () => {
    expect(currentRequestId()).toBeUndefined();
  });
});
