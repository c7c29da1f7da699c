export interface ReleasePublishExecutorSchema {
  dryRun?: boolean;
  registryUsernameEnv?: string;
  registryPasswordEnv?: string;
  firstRelease?: boolean;
  nxReleaseVersionData?: Record<string, { newVersion?: string | null } | undefined>;
  registry?: string;
  tag?: string;
  otp?: number;
  access?: string;
}
