import { DeliveryInputError } from '../shared/errors';

/**
 * Holds pin projects of an environment after a rollback: `deploy/holds/<env>.json`
 *   { "environment": "production", "holds": [{ "project": "catalog", "reference": "<image ref>",
 *     "reason": "smoke failed", "since": "<ISO>" }] }
 * A bump must not move a held project unless the hold is released explicitly.
 */
export interface Hold {
  project: string;
  reference: string;
  reason: string;
  since: string;
}

export interface HoldFile {
  environment: string;
  holds: Hold[];
}

export function holdFilePath(holdsDir: string, environment: string): string {
  return `${holdsDir.replace(/\/+$/, '')}/${environment}.json`;
}

export function parseHoldFile(text: string, file: string, environment: string): HoldFile {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new DeliveryInputError(
      `${file} is not valid JSON: ${(error as Error).message}`,
      'fix or delete the hold file',
    );
  }
  const obj = data as Partial<HoldFile>;
  if (!obj || typeof obj !== 'object' || !Array.isArray(obj.holds)) {
    throw new DeliveryInputError(`${file} has no "holds" list`, 'write { "environment": "<env>", "holds": [] }');
  }
  if (obj.environment !== environment) {
    throw new DeliveryInputError(
      `${file} is for environment '${String(obj.environment)}', not '${environment}'`,
      `set "environment": "${environment}" in ${file}`,
    );
  }
  obj.holds.forEach((h, i) => {
    if (!h || typeof h.project !== 'string' || !h.project || typeof h.reference !== 'string') {
      throw new DeliveryInputError(
        `${file}: holds[${i}] needs "project" and "reference" strings`,
        'fix the hold entry',
      );
    }
  });
  return obj as HoldFile;
}

export function serializeHoldFile(file: HoldFile): string {
  return `${JSON.stringify(file, null, 2)}\n`;
}
