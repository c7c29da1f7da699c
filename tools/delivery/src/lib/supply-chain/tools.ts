import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { DeliveryInputError } from '../shared/errors';

/**
 * Where cosign, syft and gitleaks are. Their pinned versions live in one file,
 * tools/scripts/supply-chain-tools.txt, which setup.sh installs through tools/scripts/go-tool.sh into
 * a per-machine cache; this module reads the same file so the cache path and the install command in
 * an error can not drift from what setup installs.
 */
export type SupplyChainTool = 'cosign' | 'syft' | 'gitleaks';

export interface PinnedTool {
  name: string;
  goPackage: string;
  version: string;
}

export const TOOLS_FILE = 'tools/scripts/supply-chain-tools.txt';

/** `<name> <package> <version>` lines; `#` comments and blank lines skipped. */
export function parseToolsFile(text: string): PinnedTool[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const [name, goPackage, version, ...rest] = line.split(/\s+/);
      if (!name || !goPackage || !version || rest.length > 0)
        throw new Error(`${TOOLS_FILE}: '${line}' is not '<name> <Go package> <version>'`);
      return { name, goPackage, version };
    });
}

export function installCommand(tool: PinnedTool): string {
  return `bash tools/scripts/go-tool.sh ${tool.name} ${tool.goPackage} ${tool.version}`;
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export interface ToolLookup {
  workspaceRoot: string;
  env?: NodeJS.ProcessEnv;
}

/**
 * The binary of `name`: $<NAME>_BIN when set (must be executable), else the pinned version in the
 * go-tool cache, else the one on PATH. Missing: an error naming the exact install command.
 */
export function resolveTool(name: SupplyChainTool, lookup: ToolLookup): string {
  const env = lookup.env ?? process.env;
  const variable = `${name.toUpperCase()}_BIN`;
  const explicit = env[variable];
  if (explicit) {
    if (!isExecutable(explicit))
      throw new DeliveryInputError(
        `${variable}=${explicit} is not an executable file`,
        `fix the path or unset ${variable}`,
      );
    return explicit;
  }
  const file = resolve(lookup.workspaceRoot, TOOLS_FILE);
  const pinned = existsSync(file) ? parseToolsFile(readFileSync(file, 'utf8')).find((t) => t.name === name) : undefined;
  if (pinned) {
    const cacheRoot = env['SLIPWAY_TOOLS_CACHE'] || join(env['HOME'] || homedir(), '.cache', 'slipway', 'tools');
    const cached = join(cacheRoot, name, pinned.version, name);
    if (isExecutable(cached)) return cached;
  }
  for (const dir of (env['PATH'] ?? '').split(delimiter).filter(Boolean)) {
    const candidate = join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  throw new DeliveryInputError(
    `${name} is not installed (not in $${variable}, the tool cache or PATH)`,
    pinned
      ? `run bash tools/scripts/setup.sh, or just this tool: ${installCommand(pinned)}`
      : `add ${name} to ${TOOLS_FILE} and run bash tools/scripts/setup.sh`,
  );
}
