import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, statSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Client } from 'pg';
import { run, tempDir } from './test-support/workspace';

// Ports from the CI/infra range (3400-3499): the real services on 5432/6379 belong to everyone.
const PG_PORT = 3411;
const REDIS_PORT = 3412;
const FOREIGN_REDIS_PORT = 3413;
const NOT_POSTGRES_PORT = 3414;
const PASSWORDLESS_PG_PORT = 3415;
const UNREACHABLE_STATE_PG_PORT = 3416;
const PG_BIN = '/usr/lib/postgresql/15/bin';

function services(command: string, env: Record<string, string>) {
  return run('bash', ['tools/scripts/test-services.sh', command], {
    env: { ...process.env, ...env },
    timeoutMs: 120_000,
  });
}

async function pgSelectOne(port: number): Promise<number> {
  const client = new Client({
    host: '127.0.0.1',
    port,
    user: 'postgres',
    password: 'postgres',
    database: 'postgres',
  });
  await client.connect();
  try {
    const result = await client.query('select 1 as one');
    return result.rows[0].one;
  } finally {
    await client.end();
  }
}

function redisPing(port: number): string {
  return run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), 'ping']).stdout.trim();
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function pidOf(file: string): number {
  return Number(readFileSync(file, 'utf8').trim());
}

function ownerUid(pid: number): number {
  return statSync(`/proc/${pid}`).uid;
}

describe('tools/scripts/test-services.sh with real PostgreSQL 15 and Redis', () => {
  const state = tempDir('test-services');
  // mkdtemp makes the folder private; the cluster runs as the postgres OS user, which must enter it.
  chmodSync(state.dir, 0o755);
  const env = {
    TEST_SERVICES_DIR: path.join(state.dir, 'state'),
    TEST_PG_PORT: String(PG_PORT),
    TEST_REDIS_PORT: String(REDIS_PORT),
  };
  const pgPidFile = path.join(env.TEST_SERVICES_DIR, 'postgres.pid');
  const redisPidFile = path.join(env.TEST_SERVICES_DIR, 'redis.pid');

  afterAll(() => {
    services('stop', env);
    state.cleanup();
  });

  it('starts both on the given ports, as the postgres OS user, with pid files', async () => {
    const started = services('start', env);
    expect(started.stderr).toBe('');
    expect(started.code).toBe(0);
    expect(started.stdout).toContain(`starting PostgreSQL on 127.0.0.1:${PG_PORT}`);
    expect(started.stdout).toContain(`starting Redis on 127.0.0.1:${REDIS_PORT}`);
    expect(started.output).not.toContain('postgres:postgres@');

    expect(await pgSelectOne(PG_PORT)).toBe(1);
    expect(redisPing(REDIS_PORT)).toBe('PONG');
    const pgPid = pidOf(pgPidFile);
    expect(pidAlive(pgPid)).toBe(true);
    expect(pidAlive(pidOf(redisPidFile))).toBe(true);
    if (process.getuid?.() === 0) {
      const postgresUid = Number(run('id', ['-u', 'postgres']).stdout.trim());
      expect(ownerUid(pgPid)).toBe(postgresUid);
    }
  });

  it('is idempotent: a second start keeps the same processes', () => {
    const pgPid = pidOf(pgPidFile);
    const redisPid = pidOf(redisPidFile);
    const again = services('start', env);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`already running on 127.0.0.1:${PG_PORT} (started by this script, pid ${pgPid})`);
    expect(again.stdout).toContain(`(started by this script, pid ${redisPid})`);
    expect(pidOf(pgPidFile)).toBe(pgPid);
    expect(pidOf(redisPidFile)).toBe(redisPid);
  });

  it('status reports both up and who started them', () => {
    const status = services('status', env);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(`postgres: up on 127.0.0.1:${PG_PORT} (started by this script`);
    expect(status.stdout).toContain(`redis: up on 127.0.0.1:${REDIS_PORT} (started by this script`);
  });

  it('stop ends exactly the processes it started and removes the pid files', () => {
    const pgPid = pidOf(pgPidFile);
    const redisPid = pidOf(redisPidFile);
    const stopped = services('stop', env);
    expect(stopped.code).toBe(0);
    expect(pidAlive(pgPid)).toBe(false);
    expect(pidAlive(redisPid)).toBe(false);
    expect(existsSync(pgPidFile)).toBe(false);
    expect(existsSync(redisPidFile)).toBe(false);
    const status = services('status', env);
    expect(status.code).toBe(1);
    expect(status.stdout).toContain(`postgres: down on 127.0.0.1:${PG_PORT}`);
  });

  it('restarts on the existing cluster (data kept) after a stop', async () => {
    const started = services('start', env);
    expect(started.code).toBe(0);
    expect(started.stdout).not.toContain('creating a PostgreSQL cluster');
    expect(await pgSelectOne(PG_PORT)).toBe(1);
    expect(services('stop', env).code).toBe(0);
  });

  describe('reusing servers it did not start', () => {
    let foreignRedis: ChildProcess | undefined;
    afterAll(() => {
      foreignRedis?.kill('SIGTERM');
    });

    it('reuses a Redis that already answers and leaves it running on stop', async () => {
      foreignRedis = spawn(
        'redis-server',
        ['--bind', '127.0.0.1', '--port', String(FOREIGN_REDIS_PORT), '--save', ''],
        {
          stdio: 'ignore',
        },
      );
      const deadline = Date.now() + 15_000;
      while (redisPing(FOREIGN_REDIS_PORT) !== 'PONG' && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      const reuseEnv = { ...env, TEST_REDIS_PORT: String(FOREIGN_REDIS_PORT) };
      const started = services('start', reuseEnv);
      expect(started.code).toBe(0);
      expect(started.stdout).toContain(`Redis already answers on 127.0.0.1:${FOREIGN_REDIS_PORT}: reusing it`);
      expect(services('stop', reuseEnv).stdout).toContain('redis: not started by this script, leaving it alone');
      expect(redisPing(FOREIGN_REDIS_PORT)).toBe('PONG');
    });
  });

  it('refuses a port held by something that is not PostgreSQL, naming the port and the fix', async () => {
    const server = net.createServer((socket) => socket.end());
    await new Promise<void>((resolve) => server.listen(NOT_POSTGRES_PORT, '127.0.0.1', resolve));
    try {
      const result = services('start', {
        ...env,
        TEST_PG_PORT: String(NOT_POSTGRES_PORT),
      });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`port ${NOT_POSTGRES_PORT} is taken by something that is not PostgreSQL`);
      expect(result.stderr).toContain('set TEST_PG_PORT');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  (process.getuid?.() === 0 ? it : it.skip)(
    'refuses a state folder the postgres OS user cannot enter, naming the variable to set',
    () => {
      const privateDir = tempDir('private-state'); // mkdtemp: mode 0700, root only
      try {
        const result = services('start', {
          ...env,
          TEST_SERVICES_DIR: path.join(privateDir.dir, 'state'),
          TEST_PG_PORT: String(UNREACHABLE_STATE_PG_PORT),
        });
        expect(result.code).toBe(1);
        expect(result.stderr).toContain('the postgres OS user cannot reach');
        expect(result.stderr).toContain('Set TEST_SERVICES_DIR');
      } finally {
        privateDir.cleanup();
      }
    },
  );

  // Like Debian's default cluster right after `apt-get install postgresql`: answering, but its
  // postgres role has no password, so a TCP login as postgres/postgres fails until the script sets it.
  (process.getuid?.() === 0 ? it : it.skip)('gives a passwordless running cluster the test password', async () => {
    const data = path.join(state.dir, 'passwordless');
    const asPostgres = (cmd: string, args: string[]) => run('runuser', ['-u', 'postgres', '--', cmd, ...args]);
    run('mkdir', ['-p', data]);
    run('chown', ['postgres:', data]);
    expect(
      asPostgres(`${PG_BIN}/initdb`, ['-D', data, '-U', 'postgres', '--auth-local=peer', '--auth-host=scram-sha-256'])
        .code,
    ).toBe(0);
    const started = asPostgres(`${PG_BIN}/pg_ctl`, [
      '-D',
      data,
      '-l',
      path.join(data, 'log'),
      '-w',
      '-o',
      `-c listen_addresses=127.0.0.1 -c port=${PASSWORDLESS_PG_PORT} -c unix_socket_directories=/var/run/postgresql`,
      'start',
    ]);
    expect(started.code).toBe(0);
    try {
      await expect(pgSelectOne(PASSWORDLESS_PG_PORT)).rejects.toThrow(/password/);
      const result = services('start', {
        ...env,
        TEST_PG_PORT: String(PASSWORDLESS_PG_PORT),
        TEST_REDIS_PORT: String(REDIS_PORT),
      });
      expect(result.code).toBe(0);
      expect(result.stdout).toContain('rejects postgres/postgres: setting that password through the local socket');
      expect(await pgSelectOne(PASSWORDLESS_PG_PORT)).toBe(1);
    } finally {
      asPostgres(`${PG_BIN}/pg_ctl`, ['-D', data, '-m', 'fast', 'stop']);
      services('stop', env);
    }
  });
});
