/**
 * An error the user can act on: what is wrong (naming the bad value) and how to fix it. Executors
 * print `message` and exit non-zero; nothing has been written when one is thrown before the
 * final rename step.
 */
export class DeliveryInputError extends Error {
  constructor(
    readonly problem: string,
    readonly fix?: string,
  ) {
    super(fix ? `${problem}\n  fix: ${fix}` : problem);
    this.name = 'DeliveryInputError';
  }
}

/** Several independent problems found while validating, reported together. */
export class DeliveryInputErrors extends DeliveryInputError {
  constructor(readonly errors: DeliveryInputError[]) {
    super(errors.map((e) => e.message).join('\n'));
    this.name = 'DeliveryInputErrors';
  }
}
