import { Type, type Static } from '@sinclair/typebox';
import { StringEnum } from './schema-helpers.js';

export const Uuid = Type.String({ format: 'uuid' });
export const IsoDateTime = Type.String({ format: 'date-time' });

export const CURRENCIES = ['EUR', 'USD'] as const;
export const Currency = StringEnum(CURRENCIES, { description: 'ISO 4217 code' });
export type Currency = Static<typeof Currency>;

export const DEFAULT_PAGE_LIMIT = 20;
export const MAX_PAGE_LIMIT = 100;

/**
 * limit/offset pagination shared by every list endpoint. Both are optional for the client; Fastify
 * fills in the declared defaults before the handler runs.
 */
export const PageQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PAGE_LIMIT, default: DEFAULT_PAGE_LIMIT })),
    offset: Type.Optional(Type.Integer({ minimum: 0, default: 0 })),
  },
  { additionalProperties: false },
);
export type PageQuery = Static<typeof PageQuery>;

export const IdParams = Type.Object({ id: Uuid }, { additionalProperties: false });
export type IdParams = Static<typeof IdParams>;

export const ValidationErrorDetail = Type.Object({
  field: Type.String({ description: 'Path of the offending value, e.g. "body.items.0.quantity"' }),
  message: Type.String(),
});
export type ValidationErrorDetail = Static<typeof ValidationErrorDetail>;

/** Every non-2xx response body. `details` is present on 400 validation errors. */
export const ErrorBody = Type.Object({
  statusCode: Type.Integer({ minimum: 400, maximum: 599 }),
  error: Type.String({ description: 'HTTP reason phrase, e.g. "Unprocessable Entity"' }),
  message: Type.String(),
  details: Type.Optional(Type.Array(ValidationErrorDetail)),
});
export type ErrorBody = Static<typeof ErrorBody>;

export const HealthCheckResult = Type.Object({
  status: StringEnum(['up', 'down'] as const),
  error: Type.Optional(Type.String()),
  durationMs: Type.Optional(Type.Number({ minimum: 0 })),
});
export type HealthCheckResult = Static<typeof HealthCheckResult>;

export const HealthChecks = Type.Record(Type.String(), HealthCheckResult);
export type HealthChecks = Static<typeof HealthChecks>;

/** GET /health/liveness */
export const LivenessResponse = Type.Object({ status: Type.Literal('ok') });
export type LivenessResponse = Static<typeof LivenessResponse>;

/** GET /health/readiness: 200 when every check is up, 503 naming the failing ones otherwise. */
export const ReadinessResponse = Type.Union([
  Type.Object({ status: Type.Literal('ready'), checks: HealthChecks }),
  Type.Object({
    status: Type.Literal('not-ready'),
    failing: Type.Array(Type.String()),
    checks: HealthChecks,
  }),
]);
export type ReadinessResponse = Static<typeof ReadinessResponse>;

/** GET /health: the summary the web's /status page shows. */
export const HealthResponse = Type.Object({
  service: Type.String(),
  version: Type.String({ description: 'APP_VERSION, "0.0.0-dev" when unset' }),
  revision: Type.String({ description: 'APP_REVISION (git SHA), "unknown" when unset' }),
  status: StringEnum(['ok', 'degraded'] as const),
  uptimeSeconds: Type.Number({ minimum: 0 }),
  checks: HealthChecks,
});
export type HealthResponse = Static<typeof HealthResponse>;
