/** Mirrors schema.json (the source of truth for the image executor's options). */
export interface ImageSecretOption {
  id: string;
  env?: string;
  file?: string;
}

export interface ImageExecutorSchema {
  engine?: 'auto' | 'docker' | 'podman' | 'buildah';
  dockerfile?: string;
  context?: string;
  target?: string;
  registry?: string;
  repository?: string;
  owner?: string;
  tags?: string[];
  flavor?: string[];
  labels?: Record<string, string>;
  buildArgs?: Record<string, string>;
  buildArgsFromEnv?: string[];
  secrets?: ImageSecretOption[];
  platforms?: string[];
  network?: string;
  push?: boolean;
  load?: boolean;
  cacheFrom?: string[];
  cacheTo?: string[];
  sbom?: boolean;
  provenance?: boolean;
  version?: string;
  registryUsernameEnv?: string;
  registryPasswordEnv?: string;
  insecureRegistry?: boolean;
  storageDriver?: string;
  dryRun?: boolean;
  signing?: 'auto' | 'key' | 'keyless' | 'none';
  signingKey?: string;
  signingPasswordEnv?: string;
}
