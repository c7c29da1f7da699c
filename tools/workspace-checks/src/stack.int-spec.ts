import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { run, workspaceRoot } from './test-support/workspace';

// Ports from the CI/infra range: the product ports (3101, 3102, 4300) may be in use by a developer.
const PORTS = { CATALOG_PORT: '3421', ORDERS_PORT: '3422', WEB_PORT: '3423' };

function stack(args: string[], env: Record<string, string> = {}) {
  return run('node', ['tools/scripts/stack.mjs', ...args], {
    env: { ...process.env, ...PORTS, ...env },
    timeoutMs: 420_000,
  });
}

async function answers(port: string): Promise<boolean> {
  try {
    await fetch(`http://127.0.0.1:${port}/health/liveness`, {
      signal: AbortSignal.timeout(1_000),
    });
    return true;
  } catch {
    return false;
  }
}

/**
 * README command (1)'s `npm run stack`, for real: it builds catalog, orders and web, starts their
 * production bundles on embedded defaults, waits for readiness, checks each reports the version and
 * revision it was started with, prints the URLs, and stops its children again.
 */
describe('tools/scripts/stack.mjs', () => {
  const revision = run('git', ['rev-parse', 'HEAD']).stdout.trim();

  it('--check builds, starts all three, verifies versions, prints the URLs and stops them', async () => {
    const result = stack(['--check']);
    expect(result.stderr).not.toContain('stack: error');
    expect(result.code).toBe(0);
    for (const [name, port] of [
      ['catalog', PORTS.CATALOG_PORT],
      ['orders', PORTS.ORDERS_PORT],
      ['web', PORTS.WEB_PORT],
    ]) {
      expect(result.stdout).toMatch(
        new RegExp(
          `${name}\\s+http://127\\.0\\.0\\.1:${port}\\s+version 0\\.0\\.1, revision ${revision.slice(0, 12)}, ok`,
        ),
      );
    }
    expect(result.stdout).toContain('stack: check passed, stopping');
    for (const name of ['catalog', 'orders', 'web']) {
      expect(existsSync(path.join(workspaceRoot, '.local', 'stack', `${name}.log`))).toBe(true);
    }
    for (const port of Object.values(PORTS)) expect(await answers(port)).toBe(false);
  });

  it('keeps running until SIGINT, then stops every child', async () => {
    const child = spawn('node', ['tools/scripts/stack.mjs', '--no-build'], {
      cwd: workspaceRoot,
      env: { ...process.env, ...PORTS },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const deadline = Date.now() + 120_000;
    while (!output.includes('Press Ctrl-C to stop.') && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(output).toContain('Press Ctrl-C to stop.');
    for (const port of Object.values(PORTS)) expect(await answers(port)).toBe(true);
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    for (const port of Object.values(PORTS)) expect(await answers(port)).toBe(false);
  });

  it('refuses a port that is already taken, naming the variable to change', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(Number(PORTS.ORDERS_PORT), '127.0.0.1', resolve));
    try {
      const result = stack(['--check', '--no-build']);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`port ${PORTS.ORDERS_PORT} (orders) is already in use`);
      expect(result.stderr).toContain('set ORDERS_PORT to a free port');
      expect(await answers(PORTS.CATALOG_PORT)).toBe(false);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
