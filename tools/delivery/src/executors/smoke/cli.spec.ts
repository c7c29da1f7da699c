import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCliArgs } from './cli';

const { properties } = JSON.parse(readFileSync(join(__dirname, 'schema.json'), 'utf8'));

describe('smoke CLI arguments', () => {
  it('maps kebab-case options to the schema, typed by schema.json', () => {
    expect(
      parseCliArgs(
        [
          'catalog',
          '-c',
          'staging',
          '--expect-version=1.4.0',
          '--readiness-timeout-ms',
          '5000',
          '--skip-k6',
          '--dry-run=false',
          '--no-skip-playwright',
        ],
        properties,
      ),
    ).toEqual({
      project: 'catalog',
      target: 'smoke',
      configuration: 'staging',
      overrides: {
        expectVersion: '1.4.0',
        readinessTimeoutMs: 5000,
        skipK6: true,
        dryRun: false,
        skipPlaywright: false,
      },
      problems: [],
    });
  });

  it('keeps version-like values as strings and honours --target', () => {
    expect(parseCliArgs(['web', '--target=smoke-prod', '--expect-version', '2'], properties)).toMatchObject({
      target: 'smoke-prod',
      overrides: { expectVersion: '2' },
    });
  });

  it('reports unknown options, bad numbers, missing values and extra positionals', () => {
    expect(
      parseCliArgs(
        ['catalog', 'orders', '--colour=red', '--readiness-timeout-ms=soon', '--base-url', '--skip-k6=maybe'],
        properties,
      ).problems,
    ).toEqual([
      'unexpected argument "orders": give one project',
      'unknown option --colour: see tools/delivery/src/executors/smoke/schema.json',
      '--readiness-timeout-ms must be a whole number, got "soon"',
      '--base-url needs a value',
      '--skip-k6 takes true or false, got "maybe"',
    ]);
  });
});
