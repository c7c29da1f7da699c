import type { WorkloadHealth } from './types';

/**
 * Pure reading of `podman container inspect` (and the `died` events of a restarting container)
 * into a WorkloadHealth: what the podman adapter reports while a release waits. podman 4.3 on
 * these machines restarts a crashing container at once (no back-off) and does not set
 * State.OOMKilled under cgroup v1 even when the kernel killed the process for its memory limit,
 * so an exit 137 under a memory limit names both causes it can have (OOM kill, forced stop).
 */
export interface ContainerInspect {
  Id: string;
  Name: string;
  RestartCount?: number;
  State: {
    Status: string;
    Running?: boolean;
    ExitCode?: number;
    OOMKilled?: boolean;
    Error?: string;
    Health?: {
      Status?: string;
      FailingStreak?: number;
      Log?: { ExitCode?: number; Output?: string }[] | null;
    };
  };
  HostConfig?: { Memory?: number; RestartPolicy?: { Name?: string } };
  Config?: { Healthcheck?: { Test?: string[]; Interval?: number; Retries?: number } };
}

export interface ContainerHealthInput {
  container: ContainerInspect;
  /** Exit codes of the container's earlier runs, oldest first (from `podman events`). */
  exitCodes: number[];
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function mebibytes(bytes: number): string {
  return `${Math.round(bytes / (1024 * 1024))} MiB`;
}

/** "exited 1", "killed by SIGKILL (exit 137) under its 32 MiB memory limit: out of memory". */
function describeExit(code: number, container: ContainerInspect, oomKilled: boolean): string {
  const limit = container.HostConfig?.Memory ?? 0;
  if (oomKilled) return `OOM-killed${limit > 0 ? ` under its ${mebibytes(limit)} memory limit` : ''} (exit ${code})`;
  // podman 4.3 does not record the kernel's OOM kill here, and a stop that timed out is a SIGKILL too.
  if (code === 137 && limit > 0)
    return `killed by SIGKILL (exit 137) with a ${mebibytes(limit)} memory limit: out of memory, or stopped by force`;
  if (code > 128 && code < 160) return `killed by signal ${code - 128} (exit ${code})`;
  return `exited ${code}`;
}

export function containerHealth(project: string, input: ContainerHealthInput): WorkloadHealth {
  const { container, exitCodes } = input;
  const state = container.State;
  const restarts = container.RestartCount ?? 0;
  const running = state.Running ?? state.Status === 'running';
  const lastExit = running ? exitCodes[exitCodes.length - 1] : (state.ExitCode ?? exitCodes[exitCodes.length - 1]);
  const oomKilled = state.OOMKilled === true;
  const figures = {
    restarts,
    ...(lastExit !== undefined ? { exitCode: lastExit } : {}),
    ...(oomKilled ? { oomKilled } : {}),
  };
  const exited = !running && ['exited', 'stopped', 'dead'].includes(state.Status);
  if (exited || restarts > 0 || oomKilled) {
    const exit = lastExit !== undefined ? describeExit(lastExit, container, oomKilled) : 'stopped';
    const restarted = restarts > 0 ? `, restarted ${plural(restarts, 'time')}` : '';
    const error = state.Error ? ` (${state.Error})` : '';
    return { project, phase: 'failing', reason: `${exit}${restarted}${error}`, ...figures };
  }
  if (!running) return { project, phase: 'starting', reason: state.Status, ...figures };
  const health = state.Health;
  const retries = container.Config?.Healthcheck?.Retries ?? 3;
  if (health?.Status === 'unhealthy' && (health.FailingStreak ?? 0) >= retries) {
    // Not a verdict on its own: podman 4.3 ignores startupProbe, so a slow start (PGlite on a busy
    // machine) fails the liveness check for a while. The readiness probe decides; a crash that
    // follows is caught as an exit or a restart.
    const output = (health.Log ?? []).slice(-1)[0]?.Output?.trim();
    return {
      project,
      phase: 'starting',
      reason: `health check failed ${plural(health.FailingStreak ?? 0, 'time')} in a row${output ? `: ${output.split('\n').slice(-1)[0]}` : ''}`,
      ...figures,
    };
  }
  const checked =
    Boolean(container.Config?.Healthcheck?.Test?.length) && health?.Status !== undefined && health.Status !== '';
  if (checked && health?.Status !== 'healthy')
    return { project, phase: 'starting', reason: `health ${health?.Status}`, ...figures };
  return { project, phase: 'ready', ...figures };
}

/** `podman logs --timestamps` prints stdout and stderr on two streams: one list, in time order, timestamps cut. */
export function mergeLogStreams(stdout: string, stderr: string, lines: number): string[] {
  const parse = (text: string) =>
    text
      .split('\n')
      .filter((line) => line.length > 0)
      .map((line) => {
        const match = /^(\d{4}-\d\d-\d\dT[\d:.]+(?:Z|[+-]\d\d:\d\d))\s?(.*)$/.exec(line);
        if (!match) return { key: undefined, text: line };
        const stamp = match[1] as string;
        // Nanosecond order: whole seconds as an epoch, then the fraction padded to nine digits.
        const fraction = (/\.(\d+)/.exec(stamp)?.[1] ?? '').padEnd(9, '0');
        const seconds = Math.floor(Date.parse(stamp.replace(/\.\d+/, '')) / 1000);
        return { key: `${String(seconds).padStart(12, '0')}.${fraction}`, text: match[2] as string };
      });
  const all = [...parse(stdout), ...parse(stderr)];
  const order = all.map((entry, index) => ({ entry, index }));
  order.sort((a, b) => {
    if (a.entry.key === undefined || b.entry.key === undefined) return a.index - b.index;
    return a.entry.key < b.entry.key ? -1 : a.entry.key > b.entry.key ? 1 : a.index - b.index;
  });
  return order.map((o) => o.entry.text).slice(-lines);
}

/** Exit codes from `podman events --format json` lines of `died` events, oldest first. */
export function diedExitCodes(eventsJson: string): number[] {
  const codes: number[] = [];
  for (const line of eventsJson.split('\n')) {
    if (!line.trim().startsWith('{')) continue;
    try {
      const event = JSON.parse(line) as { Status?: string; ContainerExitCode?: number };
      if (event.Status === 'died' && typeof event.ContainerExitCode === 'number') codes.push(event.ContainerExitCode);
    } catch {
      // A line podman did not finish writing: the next poll reads it.
    }
  }
  return codes;
}
