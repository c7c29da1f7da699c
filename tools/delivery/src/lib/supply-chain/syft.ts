import { isLoopbackRegistry } from '../image/reference';
import { parseImageReference } from '../image/reference';
import { splitRepository } from '../release/registry-access';
import { runProcess } from '../shared/process';
import { lastLines, SigningError, type Runner } from './cosign';
import type { SbomGenerator } from './types';

export interface SyftCliOptions {
  binary: string;
  /** Registry credentials for syft (it pulls the image layers itself). */
  credentials?: { username: string; password: string };
  run?: Runner;
  timeoutMs?: number;
}

/**
 * syft reads the image straight from the registry (`registry:` source), so podman and buildah
 * builds get the same SBOM as docker ones without loading the image anywhere. Output: SPDX JSON.
 */
export class SyftCli implements SbomGenerator {
  constructor(private readonly options: SyftCliOptions) {}

  async generate(reference: string, outputFile: string): Promise<void> {
    const { registry } = splitRepository(parseImageReference(reference).repository);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      // No update check, no telemetry: this machine has no internet and builds must not wait on it.
      SYFT_CHECK_FOR_APP_UPDATE: 'false',
      ...(isLoopbackRegistry(registry) ? { SYFT_REGISTRY_INSECURE_USE_HTTP: 'true' } : {}),
      ...(this.options.credentials
        ? {
            SYFT_REGISTRY_AUTH_AUTHORITY: registry,
            SYFT_REGISTRY_AUTH_USERNAME: this.options.credentials.username,
            SYFT_REGISTRY_AUTH_PASSWORD: this.options.credentials.password,
          }
        : {}),
    };
    const secrets = this.options.credentials ? [this.options.credentials.password] : [];
    const result = await (this.options.run ?? runProcess)(
      this.options.binary,
      ['scan', `registry:${reference}`, '--quiet', '--output', `spdx-json=${outputFile}`],
      { env, secrets, timeoutMs: this.options.timeoutMs ?? 10 * 60_000 },
    );
    if (result.code !== 0)
      throw new SigningError(
        `syft could not make the SBOM of ${reference} (exit ${result.code}): ${lastLines(result.stderr)}`,
      );
  }
}
