import type { EnvironmentOptions } from '../../lib/release/environment';

/** Mirrors schema.json (the source of truth for the options). */
export interface ReleaseStatusExecutorSchema
  extends Pick<
    EnvironmentOptions,
    | 'env'
    | 'environment'
    | 'mode'
    | 'projects'
    | 'registry'
    | 'repository'
    | 'remote'
    | 'branch'
    | 'tokenEnv'
    | 'tokenUser'
    | 'overlaysDir'
    | 'holdsDir'
    | 'historyDir'
    | 'stateDir'
    | 'ports'
    | 'instance'
    | 'storageDriver'
    | 'kubeContext'
    | 'kubeconfig'
    | 'kubectl'
    | 'clusterEnv'
    | 'argocdApp'
    | 'argocdAccess'
    | 'argocdNamespace'
    | 'portForward'
  > {
  records?: number;
  json?: boolean;
  format?: 'text' | 'json' | 'html';
  environments?: string;
  output?: string;
}
