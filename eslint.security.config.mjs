import security from 'eslint-plugin-security';

/**
 * ESLint security rules for the Node services (catalog, orders) and service-kit: eslint-plugin-security's
 * recommended set as errors, on runtime sources only (tests build fixtures from literals on purpose).
 * Spread into those projects' eslint.config.mjs, so `nx lint` enforces them, and run on its own by
 * `nx run workspace-checks:security`.
 *
 * One rule is off, with the reason: detect-object-injection flags every `obj[key]` with a variable key,
 * which in TypeScript code with typed records is almost always a false positive and would drown the
 * rules that matter (non-literal regexps, child_process, eval, timing attacks, unsafe regexps).
 */
export const securityFiles = ['**/src/**/*.ts'];
export const securityIgnores = ['**/*.spec.ts', '**/*.int-spec.ts', '**/test-support/**', '**/testing/**'];

export default [
  {
    ...security.configs.recommended,
    files: securityFiles,
    ignores: securityIgnores,
    rules: {
      ...Object.fromEntries(Object.keys(security.configs.recommended.rules).map((rule) => [rule, 'error'])),
      'security/detect-object-injection': 'off',
    },
  },
];
