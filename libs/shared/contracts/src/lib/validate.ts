import type { Static, TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

export interface ContractViolation {
  /** JSON pointer of the offending value, "" for the root. */
  path: string;
  message: string;
}

/** Every way `value` breaks `schema` (empty when it conforms). Does not mutate `value`. */
export function contractViolations(schema: TSchema, value: unknown): ContractViolation[] {
  return [...Value.Errors(schema, value)].map((error) => ({
    path: error.path,
    message: error.message,
  }));
}

export class ContractViolationError extends Error {
  constructor(
    readonly what: string,
    readonly violations: ContractViolation[],
  ) {
    super(
      `${what} does not match its contract: ` + violations.map((v) => `${v.path || '(root)'} ${v.message}`).join('; '),
    );
    this.name = 'ContractViolationError';
  }
}

/**
 * Narrow an untrusted payload (e.g. a downstream response) to its contract type, or throw naming
 * every violation. `what` says which payload it was, e.g. "catalog GET /products/:id response".
 */
export function parseContract<S extends TSchema>(schema: S, value: unknown, what: string): Static<S> {
  const violations = contractViolations(schema, value);
  if (violations.length > 0) throw new ContractViolationError(what, violations);
  return value as Static<S>;
}
