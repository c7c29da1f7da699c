import { redact, redactUrlCredentials, REDACTED } from './redact';

describe('redact', () => {
  it('removes every occurrence of each secret, longest first', () => {
    expect(redact('token=abcd1234 again abcd1234', ['abcd1234'])).toBe(`token=${REDACTED} again ${REDACTED}`);
    expect(redact('x-abcdef-y', ['abcd', 'abcdef'])).toBe(`x-${REDACTED}-y`);
  });

  it('ignores empty, undefined and too-short secrets so text is not shredded', () => {
    expect(redact('a b c', ['', undefined, 'b'])).toBe('a b c');
  });

  it('strips URL userinfo with a password but keeps user-only URLs', () => {
    expect(redactUrlCredentials('fatal: https://bot:s3cr3t@git.example/repo.git')).toBe(
      `fatal: https://${REDACTED}@git.example/repo.git`,
    );
    expect(redactUrlCredentials('ssh://git@host/repo')).toBe('ssh://git@host/repo');
  });
});
