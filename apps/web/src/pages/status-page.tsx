import type { HealthResponse, ReadinessResponse } from '@slipway/contracts';
import { useEffect, useState } from 'react';
import { useApiClient } from '../api/api-context';
import { SERVICES, type ServiceName } from '../api/client';
import { errorMessage } from '../lib/error-message';
import { useDocumentTitle } from '../lib/use-document-title';

type Fetched<T> = { status: 'loading' } | { status: 'error'; message: string } | { status: 'done'; data: T };

interface ServiceState {
  health: Fetched<HealthResponse>;
  readiness: Fetched<ReadinessResponse>;
}

const LOADING: ServiceState = {
  health: { status: 'loading' },
  readiness: { status: 'loading' },
};

function initialStates(): Record<ServiceName, ServiceState> {
  return { web: LOADING, catalog: LOADING, orders: LOADING };
}

/** Up means: it describes itself as ok and it is ready to take traffic. */
function isUp(state: ServiceState): boolean {
  return (
    state.health.status === 'done' &&
    state.health.data.status === 'ok' &&
    state.readiness.status === 'done' &&
    state.readiness.data.status === 'ready'
  );
}

export function StatusPage() {
  useDocumentTitle('Status');
  const api = useApiClient();
  const [states, setStates] = useState(initialStates);
  const [refreshes, setRefreshes] = useState(0);

  useEffect(() => {
    const controller = new AbortController();
    setStates(initialStates());
    const settle = <K extends keyof ServiceState>(service: ServiceName, key: K, promise: Promise<unknown>) =>
      promise.then(
        (data) => {
          if (controller.signal.aborted) return;
          setStates((s) => ({
            ...s,
            [service]: { ...s[service], [key]: { status: 'done', data } },
          }));
        },
        (error: unknown) => {
          if (controller.signal.aborted) return;
          const message = errorMessage(error);
          setStates((s) => ({
            ...s,
            [service]: { ...s[service], [key]: { status: 'error', message } },
          }));
        },
      );
    for (const { name } of SERVICES) {
      void settle(name, 'health', api.getHealth(name, controller.signal));
      void settle(name, 'readiness', api.getReadiness(name, controller.signal));
    }
    return () => controller.abort();
  }, [api, refreshes]);

  const all = SERVICES.map(({ name }) => ({ name, state: states[name] }));
  const settled = all.every(({ state }) => state.health.status !== 'loading' && state.readiness.status !== 'loading');
  const down = all.filter(({ state }) => !isUp(state)).map(({ name }) => name);

  return (
    <>
      <h1>Service status</h1>
      <div className="toolbar">
        <p role="status">
          {!settled
            ? 'Checking services…'
            : down.length === 0
              ? `All ${all.length} services are up.`
              : `${down.length} of ${all.length} services not up: ${down.join(', ')}.`}
        </p>
        <button type="button" onClick={() => setRefreshes((n) => n + 1)}>
          Refresh
        </button>
      </div>
      <div className="cards">
        {all.map(({ name, state }) => (
          <ServiceCard key={name} name={name} state={state} />
        ))}
      </div>
    </>
  );
}

function ServiceCard({ name, state }: { name: ServiceName; state: ServiceState }) {
  const headingId = `service-${name}`;
  const { health, readiness } = state;
  return (
    <section aria-labelledby={headingId} className="card">
      <h2 id={headingId}>{name}</h2>
      <dl>
        <dt>Status</dt>
        <dd data-testid="status">
          {health.status === 'loading' ? 'checking…' : health.status === 'error' ? 'unreachable' : health.data.status}
        </dd>
        <dt>Version</dt>
        <dd data-testid="version">{health.status === 'done' ? health.data.version : '—'}</dd>
        <dt>Revision</dt>
        <dd data-testid="revision">{health.status === 'done' ? health.data.revision : '—'}</dd>
        <dt>Readiness</dt>
        <dd data-testid="readiness">{describeReadiness(readiness)}</dd>
        {health.status === 'done' && (
          <>
            <dt>Uptime</dt>
            <dd>{formatUptime(health.data.uptimeSeconds)}</dd>
          </>
        )}
      </dl>
      {health.status === 'error' && <p className="field-error">{health.message}</p>}
      {readiness.status === 'done' && Object.keys(readiness.data.checks).length > 0 && (
        <ul aria-label={`${name} checks`}>
          {Object.entries(readiness.data.checks).map(([check, result]) => (
            <li key={check}>
              {check}: {result.status}
              {result.error ? ` (${result.error})` : ''}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function describeReadiness(readiness: Fetched<ReadinessResponse>): string {
  if (readiness.status === 'loading') return 'checking…';
  if (readiness.status === 'error') return 'unknown';
  if (readiness.data.status === 'ready') return 'ready';
  return readiness.data.failing.length > 0 ? `not ready (${readiness.data.failing.join(', ')})` : 'not ready';
}

export function formatUptime(seconds: number): string {
  const s = Math.floor(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  const hours = Math.floor(s / 3600);
  if (hours < 48) return `${hours} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}
