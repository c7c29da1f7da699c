import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { runProcess } from '../lib/shared/process';
import { CLUSTER_DIR, clusterEnv, clusterScript, kubectl, kubectlOk, pushBusyboxImage, waitFor } from './cluster';

/**
 * tools/scripts/cluster.sh on this machine: start gives a cluster where a pod pulls from the cluster's
 * registry, runs, is reached by its IP, its Service's ClusterIP and, from another pod, by its DNS
 * name; stop leaves the host as it found it. The host state is read here by its own means (not the
 * script's snapshot function), before start and after stop.
 */
const SYSCTLS = [
  'vm.overcommit_memory',
  'vm.panic_on_oom',
  'kernel.panic',
  'kernel.panic_on_oops',
  'kernel.keys.root_maxkeys',
  'kernel.keys.root_maxbytes',
  'net.ipv4.conf.all.route_localnet',
  'net.ipv4.ip_forward',
  'net.ipv4.conf.all.forwarding',
  'net.bridge.bridge-nf-call-iptables',
  'net.netfilter.nf_conntrack_max',
  'net.netfilter.nf_conntrack_tcp_timeout_established',
  'net.netfilter.nf_conntrack_tcp_timeout_close_wait',
];

async function output(program: string, args: string[]): Promise<string> {
  const r = await runProcess(program, args, { timeoutMs: 60_000 });
  return r.code === 0 ? r.stdout : `(${program} failed: ${r.stderr.trim()})`;
}

/** iptables/nft listings without the parts that change by themselves (counters, generated-at lines). */
const normalize = (text: string) =>
  text
    .split('\n')
    .filter((l) => !l.startsWith('#') && l.trim() !== '')
    .map((l) => l.replace(/\[\d+:\d+\]/g, '').replace(/ counter packets \d+ bytes \d+/g, ''))
    .join('\n');

function cgroupsOfOurs(): string[] {
  const out: string[] = [];
  for (const hierarchy of readdirSync('/sys/fs/cgroup')) {
    const dir = path.join('/sys/fs/cgroup', hierarchy);
    let entries: string[] = [];
    try {
      entries = readdirSync(dir);
    } catch {
      continue;
    }
    for (const entry of entries) if (/slipway|kubepods/.test(entry)) out.push(path.join(dir, entry));
  }
  return out.sort();
}

function processesOfOurs(): string[] {
  const out: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
      if (cmdline.includes(CLUSTER_DIR) && !cmdline.includes('jest')) out.push(`${pid} ${cmdline.slice(0, 160)}`);
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

async function hostState() {
  const sysctls: Record<string, string> = {};
  for (const key of SYSCTLS) sysctls[key] = (await output('sysctl', ['-n', key])).trim();
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((m) => m.includes(CLUSTER_DIR) || m.includes('/run/containerd') || m.includes('/var/lib/kubelet'))
    .sort();
  return {
    iptables: normalize(await output('iptables-save', [])),
    ip6tables: normalize(await output('ip6tables-save', [])),
    nft: normalize(await output('nft', ['list', 'ruleset'])),
    links: (await output('ip', ['-o', 'link', 'show']))
      .split('\n')
      .map((l) => l.split(':')[1]?.trim().split('@')[0] ?? '')
      .filter(Boolean)
      .sort(),
    mounts,
    cgroups: cgroupsOfOurs(),
    processes: processesOfOurs(),
    sysctls,
  };
}

const NS = 'cluster-script-test';
const manifest = (image: string) => `apiVersion: v1
kind: Namespace
metadata: { name: ${NS} }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: ${NS} }
spec:
  replicas: 1
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      containers:
        - name: web
          image: ${image}
          command: ["/bin/sh", "-c", "echo hello-from-pod > /tmp/index.html && exec /bin/httpd -f -p 8080 -h /tmp"]
          ports: [{ containerPort: 8080 }]
          readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1 }
---
apiVersion: v1
kind: Service
metadata: { name: web, namespace: ${NS} }
spec:
  selector: { app: web }
  ports: [{ port: 80, targetPort: 8080 }]
---
apiVersion: v1
kind: Pod
metadata: { name: client, namespace: ${NS} }
spec:
  restartPolicy: Never
  containers:
    - name: client
      image: ${image}
      command: ["/bin/sleep", "600"]
`;

async function httpGet(url: string): Promise<string> {
  const r = await fetch(url, { signal: AbortSignal.timeout(3000) });
  return (await r.text()).trim();
}

describe('tools/scripts/cluster.sh', () => {
  let wasRunning = false;

  beforeAll(async () => {
    wasRunning = (await clusterScript('status')).code === 0;
    if (wasRunning) {
      const stopped = await clusterScript('stop');
      expect(stopped.code).toBe(0);
    }
  });

  afterAll(async () => {
    // Leave the cluster as this suite found it: the rest of the tier runs on it.
    if (wasRunning && (await clusterScript('status')).code !== 0) await clusterScript('start');
  });

  it('runs a pod from its registry, reachable by IP, ClusterIP and DNS name, and stop leaves nothing behind', async () => {
    const before = await hostState();
    const startedAt = Date.now();
    const start = await clusterScript('start');
    const startSeconds = (Date.now() - startedAt) / 1000;
    expect(start.stderr).toBe('');
    expect(start.code).toBe(0);
    expect(start.stdout).toMatch(/cluster: ready in \d+ s/);
    process.stdout.write(`cluster start took ${startSeconds.toFixed(1)} s\n`);

    const pids = readdirSync(path.join(CLUSTER_DIR, 'pids')).map((f) =>
      Number(readFileSync(path.join(CLUSTER_DIR, 'pids', f), 'utf8').trim()),
    );
    expect(pids.length).toBe(9);
    for (const pid of pids) expect(existsSync(`/proc/${pid}`)).toBe(true);

    const env = clusterEnv();
    expect(env['KUBECONFIG']).toBe(path.join(CLUSTER_DIR, 'kubeconfig'));
    expect(env['CLUSTER_REGISTRY']).toMatch(/^127\.0\.0\.1:\d+$/);
    const node = JSON.parse(await kubectlOk(['get', 'node', 'localhost', '-o', 'json']));
    expect(node.status.nodeInfo.kubeletVersion).toBe('v1.33.13');
    expect(node.status.conditions.find((c: { type: string }) => c.type === 'Ready').status).toBe('True');

    const image = await pushBusyboxImage(env['CLUSTER_REGISTRY'] as string);
    await kubectlOk(['apply', '-f', '-'], manifest(image));
    await kubectlOk(['-n', NS, 'rollout', 'status', 'deployment/web', '--timeout=120s']);
    const pod = JSON.parse(await kubectlOk(['-n', NS, 'get', 'pods', '-l', 'app=web', '-o', 'json'])).items[0];
    expect(pod.status.podIP).toMatch(/^198\.18\.0\.\d+$/);
    expect(await httpGet(`http://${pod.status.podIP}:8080/`)).toBe('hello-from-pod');
    const service = JSON.parse(await kubectlOk(['-n', NS, 'get', 'service', 'web', '-o', 'json']));
    expect(service.spec.clusterIP).toMatch(/^198\.19\.0\.\d+$/);
    expect(await waitFor('ClusterIP from the host', 20_000, () => httpGet(`http://${service.spec.clusterIP}/`))).toBe(
      'hello-from-pod',
    );
    await kubectlOk(['-n', NS, 'wait', '--for=condition=Ready', 'pod/client', '--timeout=120s']);
    const viaDns = await waitFor('the Service by its DNS name from a pod', 30_000, async () => {
      const r = await kubectl([
        '-n',
        NS,
        'exec',
        'client',
        '--',
        '/bin/timeout',
        '5',
        '/bin/wget',
        '-q',
        '-O',
        '-',
        `http://web.${NS}.svc.cluster.local/`,
      ]);
      return r.code === 0 ? r.stdout.trim() : undefined;
    });
    expect(viaDns).toBe('hello-from-pod');
    const during = await hostState();
    expect(during.links).toContain('slipway0');
    expect(during.cgroups.length).toBeGreaterThan(0);

    const stopped = await clusterScript('stop');
    expect(stopped.code).toBe(0);
    expect(stopped.stderr).toBe('');
    for (const pid of pids) expect(existsSync(`/proc/${pid}`)).toBe(false);
    const after = await hostState();
    expect(after).toEqual(before);
    expect(after.processes).toEqual([]);
    expect(after.mounts).toEqual([]);
    expect(after.cgroups).toEqual([]);
    expect(after.links).not.toContain('slipway0');
    expect(await clusterScript('status')).toMatchObject({ code: 1 });
  });
});
