import { classifyPush } from './git';

describe('classifyPush', () => {
  const r = (code: number, stdout: string, stderr = '') => classifyPush({ code, stdout, stderr });
  it('reads porcelain rejections as retryable', () => {
    expect(r(1, 'To /x.git\n!\trefs/heads/main:refs/heads/main\t[rejected] (fetch first)\nDone\n').kind).toBe(
      'rejected',
    );
    expect(r(1, '!\tX:refs/heads/main\t[rejected] (non-fast-forward)\n').kind).toBe('rejected');
    expect(r(1, "!\tX:refs/heads/main\t[remote rejected] (cannot lock ref 'refs/heads/main')\n").kind).toBe('rejected');
  });
  it('recognises authentication failures (not retried)', () => {
    expect(r(128, '', "fatal: Authentication failed for 'https://***@host/repo.git/'").kind).toBe('auth');
    expect(r(128, '', "fatal: could not read Username for 'https://host': terminal prompts disabled").kind).toBe(
      'auth',
    );
    expect(
      r(128, '', "fatal: unable to access 'https://host/r.git/': The requested URL returned error: 403").kind,
    ).toBe('auth');
  });
  it('separates hook declines and unreachable remotes', () => {
    expect(r(1, '!\tX:refs/heads/main\t[remote rejected] (pre-receive hook declined)\n').kind).toBe('declined');
    expect(
      r(128, '', "fatal: unable to access 'http://127.0.0.1:1/r.git/': Failed to connect: Connection refused").kind,
    ).toBe('unreachable');
    expect(r(0, 'To x\n*\tX:refs/heads/main\t[new branch]\nDone\n').kind).toBe('ok');
  });
});
