#!/usr/bin/env node
// `nx release` as the release workflow runs it: the configuration of nx.json (independent versions
// of the deployable apps from Conventional Commits, per-project CHANGELOG.md, <project>@<version>
// tags) plus GitHub releases. Those need a token and a GitHub remote, which only CI has, so they are
// not in nx.json (a local `nx release` must not call GitHub). Creating GitHub releases makes nx push
// the release commit and its tags first. Publishing (image semver tags) is a separate step, after
// the images of the release commit exist: `nx release publish`.
//
//   GITHUB_TOKEN=… node tools/scripts/nx-release.mjs [--dry-run]
// Prints `released=<comma-separated tags>` last (empty when nothing was released).
import nxRelease from 'nx/release';

const { ReleaseClient } = nxRelease;

const dryRun = process.argv.includes('--dry-run');
const unknown = process.argv.slice(2).filter((arg) => arg !== '--dry-run');
if (unknown.length > 0) {
  console.error(
    `nx-release: unknown argument ${unknown.join(' ')}. Usage: node tools/scripts/nx-release.mjs [--dry-run]`,
  );
  process.exit(2);
}
if (!dryRun && !process.env.GITHUB_TOKEN && !process.env.GH_TOKEN) {
  console.error(
    'nx-release: GITHUB_TOKEN is not set: GitHub releases need it. Locally, run `npx nx release --skip-publish` instead.',
  );
  process.exit(2);
}

const client = new ReleaseClient({ changelog: { projectChangelogs: { createRelease: 'github' } } });
const { projectsVersionData } = await client.release({ skipPublish: true, dryRun, verbose: false });
const released = Object.entries(projectsVersionData)
  .filter(([, data]) => data.newVersion)
  .map(([project, data]) => `${project}@${data.newVersion}`);
console.log(`released=${released.join(',')}`);
