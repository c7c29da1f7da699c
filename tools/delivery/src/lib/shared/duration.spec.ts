import { DurationError, formatDurationShort, parseDuration } from './duration';

describe('durations', () => {
  it.each([
    ['0', 0],
    ['500ms', 500],
    ['45s', 45_000],
    ['30m', 1_800_000],
    ['1h30m', 5_400_000],
    ['2d', 172_800_000],
    [' 1h ', 3_600_000],
  ])('%s → %d ms', (text, ms) => expect(parseDuration(text)).toBe(ms));

  it.each(['', '30', '-5m', '1.5h', '1w', 'soon', '30 m', 'm30'])('refuses %j naming it and the fix', (text) => {
    expect(() => parseDuration(text, '--soak')).toThrow(DurationError);
    expect(() => parseDuration(text, '--soak')).toThrow(
      new RegExp(`--soak '${text.replace('.', '\\.')}' is not a duration: .*e\\.g\\. 30m`),
    );
  });

  it.each([
    [0, '0s'],
    [1, '1s'],
    [5_400_000, '1h30m'],
    [90_061_000, '1d1h1m1s'],
  ])('formats %d as %s', (ms, text) => expect(formatDurationShort(ms)).toBe(text));
});
