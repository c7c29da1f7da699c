import { spawn, type ChildProcess } from 'node:child_process';
import * as net from 'node:net';
import { ClusterError } from './types';

/**
 * `kubectl port-forward svc/<service> <local>:<port>` per project, so smoke reaches a cluster's
 * services on 127.0.0.1 the same way on any cluster (no NodePort or Ingress needed). A forward is
 * bound to one pod when it starts, so it is restarted after every apply (the rollout replaced the
 * pods); `close` ends every child it started.
 */
export interface ForwardTarget {
  project: string;
  namespace: string;
  service: string;
  port: number;
  localPort: number;
}

export interface PortForwardOptions {
  /** kubectl arguments that pin the cluster (--kubeconfig, --context). */
  clusterArgs: string[];
  env?: NodeJS.ProcessEnv;
  /** How long a forward may take to listen. */
  readyTimeoutMs?: number;
}

/** Free loopback TCP ports, chosen by the kernel. */
export async function freeLoopbackPorts(count: number): Promise<number[]> {
  const servers: net.Server[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const server = net.createServer();
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => resolve());
      });
      servers.push(server);
    }
    return servers.map((s) => (s.address() as net.AddressInfo).port);
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  }
}

export class PortForwards {
  private readonly children = new Map<string, ChildProcess>();

  constructor(private readonly options: PortForwardOptions) {}

  /** (Re)start the forward of each target; resolves when every one listens. */
  async restart(targets: ForwardTarget[]): Promise<void> {
    await Promise.all(targets.map((t) => this.restartOne(t)));
  }

  private async restartOne(t: ForwardTarget): Promise<void> {
    await this.stop(t.project);
    const args = [
      ...this.options.clusterArgs,
      'port-forward',
      '--address',
      '127.0.0.1',
      '-n',
      t.namespace,
      `svc/${t.service}`,
      `${t.localPort}:${t.port}`,
    ];
    const child = spawn('kubectl', args, { env: this.options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.children.set(t.project, child);
    let output = '';
    child.stdout?.setEncoding('utf8').on('data', (c: string) => (output = (output + c).slice(-2000)));
    child.stderr?.setEncoding('utf8').on('data', (c: string) => (output = (output + c).slice(-2000)));
    const deadline = Date.now() + (this.options.readyTimeoutMs ?? 20_000);
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        this.children.delete(t.project);
        const why = output.trim().split('\n').pop() ?? '';
        throw new ClusterError(
          `kubectl port-forward svc/${t.service} ${t.localPort}:${t.port} in ${t.namespace} exited: ${why}${/address already in use/.test(why) ? ` (port ${t.localPort} is taken: pick another in "ports")` : ''}`,
        );
      }
      if (/Forwarding from/.test(output)) return;
      if (Date.now() > deadline) {
        await this.stop(t.project);
        throw new ClusterError(
          `kubectl port-forward svc/${t.service} in ${t.namespace} did not listen on 127.0.0.1:${t.localPort} within ${Math.round((this.options.readyTimeoutMs ?? 20_000) / 1000)} s: ${output.trim()}`,
        );
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  private async stop(project: string): Promise<void> {
    const child = this.children.get(project);
    this.children.delete(project);
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      child.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      child.kill('SIGTERM');
    });
  }

  async close(): Promise<void> {
    await Promise.all([...this.children.keys()].map((p) => this.stop(p)));
  }
}
