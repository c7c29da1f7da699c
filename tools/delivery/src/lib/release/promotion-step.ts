import type { ImageRecord } from '../image/record';
import { DeliveryInputError, DeliveryInputErrors } from '../shared/errors';
import { parseDuration } from '../shared/duration';
import { readImageTarget } from '../manifests/image-targets';
import { formatImageReference, parseImageReference } from '../image/reference';
import { historyFilePath, parseHistory, type ReleaseRecord } from './history';
import { describePromotion, planPromotion, promotionTrailers, refusalError, type PromotionPlan } from './promotion';
import type { RegistryAccess } from './registry-access';

/**
 * The promotion as a release step: it replaces the image step of `runRelease` (nothing is built)
 * with the source environment's verified references, read from the same GitOps repository, and
 * gives the bump commit its trailers and the history record its provenance.
 */
export interface ReleasePromotion {
  images(args: {
    current: Record<string, string>;
    read: (file: string) => Promise<string | undefined>;
    registry: RegistryAccess;
  }): Promise<ImageRecord[]>;
  message(): { prefix?: string; body?: string; trailers?: string[] };
  record(): Partial<ReleaseRecord>;
}

export interface PromotionSettings {
  source: string;
  target: string;
  /** Every deployable project of the target, in order. */
  projects: string[];
  overlaysDir: string;
  historyDir: string;
  soakMs: number;
  digests?: Record<string, string>;
  force?: { reason: string };
  now: () => Date;
  log: (line: string) => void;
}

/** What the source overlay pins, per project. */
export async function readPins(
  read: (file: string) => Promise<string | undefined>,
  overlaysDir: string,
  environment: string,
): Promise<Record<string, string> | undefined> {
  const file = `${overlaysDir}/${environment}/kustomization.yaml`;
  const text = await read(file);
  if (text === undefined) return undefined;
  return Object.fromEntries(
    readImageTarget({ kind: 'kustomize', file }, text).map((e) => [e.project, formatImageReference(e.reference)]),
  );
}

/** Read the source environment and plan; throws the refusal (naming project, digest, reason) if any. */
export async function planFromRepository(
  settings: PromotionSettings,
  read: (file: string) => Promise<string | undefined>,
  targetReferences: Record<string, string>,
): Promise<PromotionPlan> {
  const sourceReferences = await readPins(read, settings.overlaysDir, settings.source);
  if (!sourceReferences)
    throw new DeliveryInputError(
      `unknown environment '${settings.source}': there is no ${settings.overlaysDir}/${settings.source}/kustomization.yaml in the GitOps repository`,
      'pass --from=<an environment with an overlay>, e.g. --from=staging',
    );
  const historyFile = historyFilePath(settings.historyDir, settings.source);
  const historyText = await read(historyFile);
  return planPromotion({
    source: settings.source,
    target: settings.target,
    projects: settings.projects,
    sourceReferences,
    sourceHistory: historyText === undefined ? [] : parseHistory(historyText, historyFile),
    targetReferences,
    ...(settings.digests ? { digests: settings.digests } : {}),
    soakMs: settings.soakMs,
    now: settings.now(),
    ...(settings.force ? { force: settings.force } : {}),
  });
}

export function createPromotion(settings: PromotionSettings): ReleasePromotion {
  let plan: PromotionPlan | undefined;
  return {
    async images({ current, read, registry }) {
      plan = await planFromRepository(settings, read, current);
      settings.log(describePromotion(plan));
      if (plan.refused.length > 0) throw refusalError(plan);
      const records: ImageRecord[] = [];
      for (const project of settings.projects) {
        const promoted = plan.promote.find((p) => p.project === project);
        const reference = parseImageReference(promoted?.reference ?? (current[project] as string));
        let version = promoted?.version;
        let revision = promoted?.revision;
        if (promoted && (!version || !revision)) {
          // The smoke version gate expects what the image says it is (its OCI labels).
          const labels = await registry.expectation(promoted.reference);
          version ??= labels?.version;
          revision ??= labels?.revision;
        }
        records.push({
          project,
          image: reference.repository,
          tags: reference.tag ? [reference.tag] : [],
          digest: reference.digest as string,
          contentTag: reference.tag ?? '',
          ...(version ? { version } : {}),
          ...(revision ? { revision } : {}),
          // Nothing is built by a promotion.
          reused: true,
        });
      }
      return records;
    },
    message() {
      const promoted = plan?.promote ?? [];
      return {
        body: `Promote ${promoted.length} image${promoted.length === 1 ? '' : 's'} verified in ${settings.source} to ${settings.target}${settings.force ? ` (forced: ${settings.force.reason.replace(/\s+/g, ' ').trim()})` : ''}.`,
        trailers: plan ? promotionTrailers(plan, settings.force) : [],
      };
    },
    record() {
      const promoted = plan?.promote ?? [];
      return {
        promotedFrom: {
          environment: settings.source,
          records: Object.fromEntries(promoted.map((p) => [p.project, p.sourceRecord ?? ''])),
        },
        ...(settings.force
          ? {
              reason: settings.force.reason,
              forced: promoted.filter((p) => p.forcedOver).map((p) => `${p.project}: ${p.forcedOver}`),
            }
          : {}),
      };
    },
  };
}

export interface PromotionOptions {
  promoteFrom?: string;
  soak?: string;
  force?: boolean;
  reason?: string;
  digests?: string;
}

/**
 * Validate the promotion options of `deploy:<env>` against the resolved environment, every problem
 * at once, before anything is read or written. Undefined when the run is not a promotion.
 */
export function promotionSettings(
  options: PromotionOptions,
  target: { environment: string; projects: string[]; overlaysDir: string; historyDir: string },
  log: (line: string) => void,
  now: () => Date = () => new Date(),
): PromotionSettings | undefined {
  const problems: DeliveryInputError[] = [];
  const source = options.promoteFrom;
  if (source === undefined) {
    const stray = (['soak', 'force', 'digests'] as const).filter(
      (k) => options[k] !== undefined && options[k] !== false,
    );
    if (stray.length > 0)
      throw new DeliveryInputError(
        `--${stray.join(', --')} only apply to a promotion`,
        `add --promoteFrom=<environment>, e.g. nx run deploy:production --promoteFrom=staging`,
      );
    return undefined;
  }
  if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(source))
    problems.push(
      new DeliveryInputError(`--promoteFrom='${source}' is not an environment name`, 'e.g. --promoteFrom=staging'),
    );
  if (source === target.environment)
    problems.push(
      new DeliveryInputError(
        `cannot promote ${source} to itself`,
        `run the target of the next environment (nx run deploy:production promotes from staging)`,
      ),
    );
  let soakMs = 0;
  if (options.soak !== undefined) {
    try {
      soakMs = parseDuration(options.soak, '--soak');
    } catch (error) {
      problems.push(new DeliveryInputError((error as Error).message, 'e.g. --soak=30m, --soak=1h30m or --soak=0'));
    }
  }
  if (options.force && !options.reason?.trim())
    problems.push(
      new DeliveryInputError(
        '--force needs --reason',
        'say why, e.g. --force --reason="hotfix verified by hand (INC-42)"',
      ),
    );
  let digests: Record<string, string> | undefined;
  if (options.digests !== undefined) {
    digests = {};
    for (const pair of options.digests
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean)) {
      const eq = pair.indexOf('=');
      const project = pair.slice(0, eq).trim();
      const digest = pair.slice(eq + 1).trim();
      if (eq <= 0 || !/^sha256:[0-9a-f]{64}$/.test(digest)) {
        problems.push(
          new DeliveryInputError(
            `--digests: '${pair}' is not <project>=sha256:<64 hex>`,
            'e.g. --digests=catalog=sha256:0123…',
          ),
        );
        continue;
      }
      if (!target.projects.includes(project)) {
        problems.push(
          new DeliveryInputError(
            `--digests: project '${project}' is not deployed to ${target.environment}`,
            `use one of: ${target.projects.join(', ')}`,
          ),
        );
        continue;
      }
      digests[project] = digest;
    }
  }
  if (problems.length === 1) throw problems[0];
  if (problems.length > 1) throw new DeliveryInputErrors(problems);
  return {
    source,
    target: target.environment,
    projects: target.projects,
    overlaysDir: target.overlaysDir,
    historyDir: target.historyDir,
    soakMs,
    ...(digests ? { digests } : {}),
    ...(options.force ? { force: { reason: (options.reason as string).trim() } } : {}),
    now,
    log,
  };
}
