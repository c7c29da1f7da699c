import type { EngineName } from './engines';

interface KnownFailure {
  /** Matched against the failed command's output (stderr first). */
  pattern: RegExp;
  explain(engine: EngineName, registry: string): string;
}

const KNOWN_FAILURES: readonly KnownFailure[] = [
  {
    // buildx --sbom runs BuildKit's scanner image from Docker Hub, which a machine without internet cannot pull.
    pattern: /buildkit-syft-scanner/,
    explain: (engine) =>
      `${engine} could not run BuildKit's SBOM scanner image (docker/buildkit-syft-scanner, pulled from Docker Hub). Fix: give the builder access to that image (or a mirror of it), or build without --sbom`,
  },
  {
    // docker-registry answers 405 UNSUPPORTED when read-only, 401/403 without rights; BuildKit and
    // containers/image word it differently, so match the status and the registry's error codes.
    pattern:
      /\b(401,? Unauthorized|403,? Forbidden|405,? Method Not Allowed|insufficient_scope|UNAUTHORIZED|DENIED|UNSUPPORTED)\b|\bHTTP (401|403|405) response|requested access to the resource is denied|authentication required|The operation is unsupported/i,
    explain: (engine, registry) =>
      `the registry ${registry} refused the push from ${engine} (read-only, or the credentials lack push rights). Fix: push to a registry that accepts writes, or export REGISTRY_USERNAME/REGISTRY_PASSWORD (or the env names in registryUsernameEnv/registryPasswordEnv) for an account allowed to push`,
  },
  {
    pattern: /exec format error|no match for platform|failed to solve:.*platform/i,
    explain: (engine) =>
      `${engine} ran a RUN step for a platform this machine cannot execute (no QEMU user emulation registered for it). Fix: apt-get install -y qemu-user-static binfmt-support and re-run "bash tools/scripts/docker.sh start" (it registers qemu-aarch64), or drop that platform from --platforms`,
  },
  {
    pattern:
      /Cannot connect to the Docker daemon|Is the docker daemon running|buildkitd\.sock: connect: (connection refused|no such file)/i,
    explain: (engine) =>
      `${engine} lost its daemon during the build (dockerd or buildkitd stopped). Fix: eval "$(bash tools/scripts/docker.sh start)" and re-run`,
  },
];

/** Cause and fix for an engine failure we recognise in its output; undefined for anything else. */
export function explainEngineFailure(engine: EngineName, output: string, registry: string): string | undefined {
  return KNOWN_FAILURES.find((failure) => failure.pattern.test(output))?.explain(engine, registry);
}
