import { accessSync, constants, existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { DeliveryInputError } from '../shared/errors';
import type { SigningIdentity, TrustPolicy } from './types';

/**
 * Who signs, from the image executor's options and the environment:
 *   keyless  in GitHub Actions with `id-token: write` (ACTIONS_ID_TOKEN_REQUEST_URL is set): Fulcio
 *            certificate for the workflow identity, recorded in the Rekor transparency log;
 *   key      the cosign key pair setup makes in .local/cosign (password from SLIPWAY_COSIGN_PASSWORD,
 *            default LOCAL_KEY_PASSWORD for that throwaway local key only);
 *   none     no signature (deploys with a trust policy refuse such images).
 * `auto` (default) picks keyless, else key when the key file exists, else none with a warning.
 */
export type SigningMode = 'auto' | 'key' | 'keyless' | 'none';

export const DEFAULT_SIGNING_KEY = '.local/cosign/cosign.key';
export const DEFAULT_PASSWORD_ENV = 'SLIPWAY_COSIGN_PASSWORD';
/** Password of the local, throwaway key made by tools/scripts/local-signing-key.sh. Not a secret worth keeping. */
export const LOCAL_KEY_PASSWORD = 'slipway-local';
export const GITHUB_OIDC_ISSUER = 'https://token.actions.githubusercontent.com';

export interface SigningOptions {
  signing?: SigningMode;
  signingKey?: string;
  signingPasswordEnv?: string;
}

export type ResolvedSigning =
  | { identity: SigningIdentity; warning?: undefined }
  | { identity: undefined; warning: string };

export function resolveSigning(
  options: SigningOptions,
  workspaceRoot: string,
  env: NodeJS.ProcessEnv,
): ResolvedSigning {
  const mode = options.signing ?? 'auto';
  if (!['auto', 'key', 'keyless', 'none'].includes(mode))
    throw new DeliveryInputError(`signing '${String(mode)}' is not auto, key, keyless or none`, 'pass --signing=auto');
  if (mode === 'none')
    return { identity: undefined, warning: 'signing is off (--signing=none): the image is not signed' };
  const oidc = !!env['ACTIONS_ID_TOKEN_REQUEST_URL'];
  if (mode === 'keyless' || (mode === 'auto' && oidc)) {
    if (!oidc)
      throw new DeliveryInputError(
        'keyless signing needs a GitHub Actions OIDC token and ACTIONS_ID_TOKEN_REQUEST_URL is not set',
        "grant the job 'permissions: id-token: write', or sign with a key (--signing=key)",
      );
    const server = env['GITHUB_SERVER_URL'] ?? 'https://github.com';
    return {
      identity: {
        kind: 'keyless',
        identity: `${server}/${env['GITHUB_WORKFLOW_REF'] ?? ''}`,
        issuer: GITHUB_OIDC_ISSUER,
      },
    };
  }
  const keyFile = resolve(workspaceRoot, options.signingKey ?? DEFAULT_SIGNING_KEY);
  // auto: the key when it exists. signingKey always has a value here (schema.json defaults it), so
  // only an explicit --signing=key makes a missing key an error.
  if (mode === 'auto' && !existsSync(keyFile))
    return {
      identity: undefined,
      warning: `no signing key at ${options.signingKey ?? DEFAULT_SIGNING_KEY}: the image is not signed and deploys with a trust policy will refuse it. Run bash tools/scripts/setup.sh (or tools/scripts/local-signing-key.sh) to make the local key pair.`,
    };
  const passwordEnv = options.signingPasswordEnv ?? DEFAULT_PASSWORD_ENV;
  const fromEnv = env[passwordEnv];
  const isDefaultKey =
    !options.signingKey || resolve(workspaceRoot, options.signingKey) === resolve(workspaceRoot, DEFAULT_SIGNING_KEY);
  if (fromEnv === undefined && !isDefaultKey)
    throw new DeliveryInputError(
      `${passwordEnv} is not set: the password of signing key ${options.signingKey} comes from it`,
      `export ${passwordEnv}=<the key's password> (only the local key in ${DEFAULT_SIGNING_KEY} has a default)`,
    );
  const publicKeyFile = `${keyFile.replace(/\.key$/, '')}.pub`;
  for (const file of [keyFile, publicKeyFile]) assertReadable(file);
  return { identity: { kind: 'key', keyFile, publicKeyFile, password: fromEnv ?? LOCAL_KEY_PASSWORD } };
}

function assertReadable(file: string): void {
  if (!existsSync(file))
    throw new DeliveryInputError(
      `signing key ${file} does not exist`,
      'run bash tools/scripts/setup.sh (it makes the local key pair in .local/cosign), or point signingKey at your cosign key (its public key beside it as <name>.pub)',
    );
  try {
    accessSync(file, constants.R_OK);
  } catch {
    throw new DeliveryInputError(`signing key ${file} is not readable`, `check its owner and mode (chmod 600 ${file})`);
  }
}

/** The policy that accepts what `identity` signs (the executor checks a reused image with it). */
export function policyOfIdentity(identity: SigningIdentity): TrustPolicy {
  return identity.kind === 'key'
    ? { kind: 'key', name: 'signer', publicKeyFile: identity.publicKeyFile }
    : { kind: 'keyless', name: 'signer', identity: identity.identity, issuer: identity.issuer };
}
