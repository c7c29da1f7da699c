import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { run, tempDir, workspaceRoot } from './test-support/workspace';

describe('tools/scripts/readme-command.sh', () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => ({ dir, cleanup } = tempDir('readme')));
  afterEach(() => cleanup());

  function extract(readme: string, name = 'test-command') {
    const file = path.join(dir, 'README.md');
    writeFileSync(file, readme);
    return run('bash', ['tools/scripts/readme-command.sh', name, file]);
  }

  it('prints the one command line of the fenced block between the markers', () => {
    const result = extract(
      [
        '# X',
        '<!-- test-command:start -->',
        '',
        '```sh',
        'bash setup.sh && npm run test:all',
        '```',
        '',
        '<!-- test-command:end -->',
        '```sh',
        'other',
        '```',
      ].join('\n'),
    );
    expect(result.stdout).toBe('bash setup.sh && npm run test:all\n');
    expect(result.code).toBe(0);
  });

  it('refuses missing or duplicated markers, naming the marker', () => {
    const missing = extract('# nothing here\n');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("exactly one '<!-- test-command:start -->'");
    const twice = extract(
      '<!-- test-command:start -->\n```\na\n```\n<!-- test-command:end -->\n<!-- test-command:start -->\n',
    );
    expect(twice.code).toBe(1);
    expect(twice.stderr).toContain('found 2 and 1');
  });

  it('refuses a block with no command or several lines', () => {
    const empty = extract('<!-- test-command:start -->\n```sh\n```\n<!-- test-command:end -->\n');
    expect(empty.code).toBe(1);
    expect(empty.stderr).toContain('found 0 lines');
    const two = extract('<!-- test-command:start -->\n```sh\na\nb\n```\n<!-- test-command:end -->\n');
    expect(two.code).toBe(1);
    expect(two.stderr).toContain('found 2 lines');
  });

  it('refuses a README that does not exist', () => {
    const result = run('bash', ['tools/scripts/readme-command.sh', 'test-command', path.join(dir, 'nope.md')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('nope.md does not exist');
  });
});

describe('tools/scripts/setup.sh arguments', () => {
  it('names an unknown part and lists the known ones, before installing anything', () => {
    const result = run('bash', ['tools/scripts/setup.sh', '--without=services,browsers']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('unknown part "browsers"');
    expect(result.stderr).toContain('services chromium engines docker go k6 cluster supply-chain npm');
    expect(result.stdout).toBe('');
  });

  it('refuses unknown arguments with the usage', () => {
    const result = run('bash', ['tools/scripts/setup.sh', '--all']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('unknown argument "--all"');
  });

  it('does nothing when every part is skipped', () => {
    const result = run('bash', [
      'tools/scripts/setup.sh',
      '--without=services,chromium,engines,docker,go,k6,cluster,supply-chain,npm',
    ]);
    expect(result.stdout).toBe('setup: done\n');
    expect(result.code).toBe(0);
  });
});

describe('tools/scripts/test-services.sh arguments', () => {
  it('refuses an unknown command with the usage', () => {
    const result = run('bash', ['tools/scripts/test-services.sh', 'restart']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('unknown command "restart"');
    expect(result.stderr).toContain('start|stop|status');
  });

  it('refuses a port that is not a number, naming the variable to fix', () => {
    const result = run('bash', ['tools/scripts/test-services.sh', 'status'], {
      env: { ...process.env, TEST_PG_PORT: '54x2' },
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('"54x2" is not a number (check TEST_PG_PORT');
  });
});

describe('tools/scripts/test-all.mjs arguments', () => {
  it('refuses an unknown argument before running anything', () => {
    const result = run('node', [path.join(workspaceRoot, 'tools/scripts/test-all.mjs'), '--parallel=0']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('unknown argument "--parallel=0"');
    expect(result.stdout).toBe('');
  });
});
