import { redactCredentials, redactUrlCredentials, REDACTED } from './redact';

describe('redactCredentials', () => {
  it('removes every occurrence of each secret value', () => {
    expect(redactCredentials('token=abcd1234 again abcd1234', ['abcd1234'])).toBe(
      `token=${REDACTED} again ${REDACTED}`,
    );
  });

  it('ignores undefined secrets (an unset token variable)', () => {
    expect(redactCredentials('a b c', [undefined])).toBe('a b c');
  });

  it('strips URL userinfo with a password but keeps user-only URLs', () => {
    expect(redactUrlCredentials('fatal: https://bot:s3cr3t@git.example/repo.git')).toBe(
      `fatal: https://${REDACTED}@git.example/repo.git`,
    );
    expect(redactUrlCredentials('ssh://git@host/repo')).toBe('ssh://git@host/repo');
  });
});
