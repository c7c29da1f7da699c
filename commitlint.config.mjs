// Conventional Commits (https://www.conventionalcommits.org): `type(scope): subject`.
// Checked by the commit-msg hook (.husky/commit-msg) and, for every commit of a pull request, by CI.
export default {
  extends: ['@commitlint/config-conventional'],
  rules: {
    // Scopes are free-form on purpose: project names (catalog, web-e2e), areas (ci, deps, release).
    'scope-enum': [0],
    // Subjects may start with a proper noun ("TypeBox schemas for ...", "PostgreSQL readiness ..."),
    // which the default rule mistakes for sentence case.
    'subject-case': [0],
    // Bodies and footers may hold URLs, command output and trailers longer than 100 characters.
    'body-max-line-length': [0],
    'footer-max-line-length': [0],
  },
};
