import { spawnSync } from 'node:child_process';

/** Remove the pods a test's podman environment started (label slipway.dev/instance=<instance>). */
export function removeInstancePods(instance: string): void {
  const pods = spawnSync(
    'podman',
    [
      '--storage-driver',
      'vfs',
      'pod',
      'ps',
      '--filter',
      `label=slipway.dev/instance=${instance}`,
      '--format',
      '{{.Name}}',
    ],
    { encoding: 'utf8' },
  )
    .stdout.split('\n')
    .filter(Boolean);
  if (pods.length > 0)
    spawnSync(
      'podman',
      [
        '--storage-driver',
        'vfs',
        '--cgroup-manager',
        'cgroupfs',
        '--runtime',
        'runc',
        'pod',
        'rm',
        '--force',
        '--time',
        '5',
        ...pods,
      ],
      { encoding: 'utf8' },
    );
}
