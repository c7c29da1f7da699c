import { existsSync, symlinkSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * A push with credentials runs docker with DOCKER_CONFIG pointed at a temporary folder holding only
 * config.json. The CLI also finds its plugins (cli-plugins/docker-buildx) and buildx its builders
 * (buildx/) there, so link both from the folder in use (DOCKER_CONFIG, else ~/.docker): the build runs
 * on the same buildx and builder as without credentials.
 */
export function linkDockerConfigExtras(tempConfigDir: string, env: NodeJS.ProcessEnv): void {
  const current = env['DOCKER_CONFIG'] || join(homedir(), '.docker');
  for (const entry of ['cli-plugins', 'buildx']) {
    const source = join(current, entry);
    if (existsSync(source)) symlinkSync(source, join(tempConfigDir, entry));
  }
}
