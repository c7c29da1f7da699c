import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';

/** The catalog's build output: orders:test depends on catalog:build, so it is fresh. */
export const CATALOG_MAIN = resolve(__dirname, '../../../catalog/dist/main.js');

export interface CatalogProcess {
  url: string;
  pid: number;
  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`; resolves with the exit code. */
  stop(graceMs?: number): Promise<number | null>;
}

/**
 * Starts the real catalog service (its built main.js) on an ephemeral port with the embedded
 * PGlite, and resolves once it logs its URL. The environment is built from scratch so a
 * DATABASE_URL or REDIS_URL of the test run never leaks into it.
 */
export async function startCatalogProcess(
  env: Record<string, string> = {},
  startTimeoutMs = 90_000,
): Promise<CatalogProcess> {
  if (!existsSync(CATALOG_MAIN)) {
    throw new Error(`${CATALOG_MAIN} is missing; run \`npx nx build catalog\` (orders:test depends on it)`);
  }
  const child: ChildProcess = spawn(process.execPath, [CATALOG_MAIN], {
    env: {
      PATH: process.env['PATH'] ?? '',
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolveExit) => child.once('exit', (code) => resolveExit(code)));
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));

  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`catalog did not start within ${startTimeoutMs} ms; stderr: ${stderr}`)),
      startTimeoutMs,
    );
    // Keeps reading after the URL, too: an unread pipe would fill up and block the child's logging.
    const lines = createInterface({
      input: child.stdout as NodeJS.ReadableStream,
    });
    lines.on('line', (line) => {
      try {
        const entry = JSON.parse(line) as { url?: string; msg?: string };
        if (entry.url && entry.msg?.startsWith('catalog listening on')) {
          clearTimeout(timer);
          resolveUrl(entry.url);
        }
      } catch {
        // not a JSON log line
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`catalog exited with ${code} before listening; stderr: ${stderr}`));
    });
  }).catch(async (error: unknown) => {
    child.kill('SIGKILL');
    await exited;
    throw error;
  });

  return {
    url,
    pid: child.pid as number,
    async stop(graceMs = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      process.kill(child.pid as number, 'SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
