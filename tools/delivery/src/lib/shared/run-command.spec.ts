import { runCommand, runCommandOrThrow, CommandError } from './run-command';

describe('runCommand', () => {
  it('passes arguments without a shell and captures output', async () => {
    const r = await runCommand(process.execPath, ['-e', 'process.stdout.write(process.argv[1])', '$(echo hi); ls']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('$(echo hi); ls');
  });

  it('redacts secrets from output and the command line', async () => {
    const r = await runCommand(process.execPath, ['-e', 'console.error("tok=" + process.env.T)'], {
      env: { T: 'sekrit-value' },
      secrets: ['sekrit-value'],
    });
    expect(r.stderr).toContain('tok=***');
    expect(r.stderr).not.toContain('sekrit-value');
  });

  it('reports a missing program as exit 127 instead of throwing', async () => {
    const r = await runCommand('definitely-not-a-program-xyz', []);
    expect(r.code).toBe(127);
  });

  it('kills a process that exceeds its timeout', async () => {
    const r = await runCommand(process.execPath, ['-e', 'setTimeout(() => {}, 10000)'], { timeoutMs: 200 });
    expect(r.timedOut).toBe(true);
    expect(r.code).not.toBe(0);
  });

  it('runCommandOrThrow rejects with the stderr in the message', async () => {
    await expect(runCommandOrThrow(process.execPath, ['-e', 'console.error("boom"); process.exit(3)'])).rejects.toThrow(
      /exited with 3: boom/,
    );
    await expect(runCommandOrThrow(process.execPath, ['-e', 'process.exit(1)'])).rejects.toBeInstanceOf(CommandError);
  });
});
