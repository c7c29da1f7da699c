import { containerHealth, diedExitCodes, mergeLogStreams, type ContainerInspect } from './podman-health';
import { missingImage } from './podman';

function container(
  overrides: Omit<Partial<ContainerInspect>, 'State'> & { State?: Partial<ContainerInspect['State']> } = {},
): ContainerInspect {
  return {
    Id: 'c1',
    Name: 'catalog-pod-0-catalog',
    RestartCount: 0,
    ...overrides,
    State: { Status: 'running', Running: true, ExitCode: 0, OOMKilled: false, ...(overrides.State ?? {}) },
  };
}

describe('containerHealth (podman inspect → WorkloadHealth)', () => {
  it('a running container without a health check is ready', () => {
    expect(containerHealth('catalog', { container: container(), exitCodes: [] })).toEqual({
      project: 'catalog',
      phase: 'ready',
      restarts: 0,
    });
  });

  it('an exited container is failing with its exit code', () => {
    const health = containerHealth('catalog', {
      container: container({ State: { Status: 'exited', Running: false, ExitCode: 1 } }),
      exitCodes: [],
    });
    expect(health).toMatchObject({ phase: 'failing', reason: 'exited 1', exitCode: 1, restarts: 0 });
  });

  it('a crash loop running again between crashes takes the last exit code from the died events', () => {
    const health = containerHealth('catalog', { container: container({ RestartCount: 3 }), exitCodes: [1, 1, 2] });
    expect(health).toMatchObject({ phase: 'failing', reason: 'exited 2, restarted 3 times', exitCode: 2, restarts: 3 });
  });

  it('exit 137 under a memory limit is named an out-of-memory kill; podman OOMKilled says so directly', () => {
    const limited = { HostConfig: { Memory: 32 * 1024 * 1024 } };
    expect(
      containerHealth('oom', {
        container: container({ ...limited, State: { Status: 'exited', Running: false, ExitCode: 137 } }),
        exitCodes: [],
      }).reason,
    ).toBe('killed by SIGKILL (exit 137) with a 32 MiB memory limit: out of memory, or stopped by force');
    expect(
      containerHealth('oom', {
        container: container({
          ...limited,
          State: { Status: 'exited', Running: false, ExitCode: 137, OOMKilled: true },
        }),
        exitCodes: [],
      }),
    ).toMatchObject({ reason: 'OOM-killed under its 32 MiB memory limit (exit 137)', oomKilled: true });
    expect(
      containerHealth('x', {
        container: container({ State: { Status: 'exited', Running: false, ExitCode: 143 } }),
        exitCodes: [],
      }).reason,
    ).toBe('killed by signal 15 (exit 143)');
  });

  it('a failing health check is reported but leaves the verdict to readiness; healthy is ready', () => {
    const check = { Config: { Healthcheck: { Test: ['CMD-SHELL', 'true'], Interval: 10e9, Retries: 3 } } };
    expect(
      containerHealth('web', {
        container: container({
          ...check,
          State: {
            Health: {
              Status: 'unhealthy',
              FailingStreak: 3,
              Log: [{ ExitCode: 1, Output: 'wget: server returned error: HTTP/1.1 500' }],
            },
          },
        }),
        exitCodes: [],
      }),
    ).toMatchObject({
      phase: 'starting',
      reason: 'health check failed 3 times in a row: wget: server returned error: HTTP/1.1 500',
    });
    expect(
      containerHealth('web', {
        container: container({ ...check, State: { Health: { Status: 'healthy' } } }),
        exitCodes: [],
      }).phase,
    ).toBe('ready');
    expect(
      containerHealth('web', {
        container: container({ ...check, State: { Health: { Status: 'starting' } } }),
        exitCodes: [],
      }).phase,
    ).toBe('starting');
    expect(
      containerHealth('web', {
        container: container({ ...check, State: { Health: { Status: 'unhealthy', FailingStreak: 1 } } }),
        exitCodes: [],
      }).phase,
    ).toBe('starting');
  });

  it('a created container not started yet is starting', () => {
    expect(
      containerHealth('catalog', {
        container: container({ State: { Status: 'created', Running: false } }),
        exitCodes: [],
      }).phase,
    ).toBe('starting');
  });
});

describe('mergeLogStreams', () => {
  it('interleaves stdout and stderr by their nanosecond timestamps and keeps the last lines', () => {
    const stdout = '2026-12-06T16:38:53.645152119Z starting\n2026-12-06T16:38:53.7Z listening\n';
    const stderr = '2026-12-06T16:38:53.64Z warn: slow\n2026-12-06T16:38:54.000000001Z fatal: bad config\n';
    expect(mergeLogStreams(stdout, stderr, 30)).toEqual(['warn: slow', 'starting', 'listening', 'fatal: bad config']);
    expect(mergeLogStreams(stdout, stderr, 2)).toEqual(['listening', 'fatal: bad config']);
  });
});

describe('diedExitCodes', () => {
  it('reads the exit codes of died events, skipping other lines', () => {
    const events = [
      '{"ContainerExitCode":1,"Status":"died","Type":"container"}',
      '{"Status":"start","Type":"container"}',
      'not json',
      '{"ContainerExitCode":137,"Status":"died","Type":"container"}',
    ].join('\n');
    expect(diedExitCodes(events)).toEqual([1, 137]);
  });
});

describe('missingImage', () => {
  const image = '127.0.0.1:5000/slipway/catalog:h-1@sha256:' + 'ab'.repeat(32);
  it('names the image podman could not pull', () => {
    expect(
      missingImage(
        `Error: initializing source docker://${image}: reading manifest sha256:${'ab'.repeat(32)} in 127.0.0.1:5000/slipway/catalog: manifest unknown`,
        [image],
      ),
    ).toBe(image);
  });
  it('says nothing about other failures', () => {
    expect(missingImage('Error: cannot listen on port 3101: address already in use', [image])).toBeUndefined();
  });
});
