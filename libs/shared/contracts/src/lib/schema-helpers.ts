import {
  FormatRegistry,
  Kind,
  Type,
  TypeRegistry,
  type SchemaOptions,
  type TSchema,
  type TUnsafe,
} from '@sinclair/typebox';

/*
 * TypeBox's Value.Check only knows the formats it is told about, while Fastify's Ajv (ajv-formats)
 * knows them all. Registering the handful the contracts use keeps both validators in agreement, so a
 * payload the web client accepts is the payload the service accepts.
 */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// Same shape ajv-formats' "fast" email check accepts: local@domain.tld without spaces.
const EMAIL =
  /^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})$/i;

function registerFormat(name: string, check: (value: string) => boolean): void {
  if (!FormatRegistry.Has(name)) FormatRegistry.Set(name, check);
}
registerFormat('uuid', (value) => UUID.test(value));
registerFormat('email', (value) => EMAIL.test(value));
registerFormat('date-time', (value) => DATE_TIME.test(value) && !Number.isNaN(Date.parse(value)));

/*
 * A string enum emitted as JSON Schema `{type: "string", enum: [...]}`. Type.Union of literals would
 * emit anyOf/const, which makes Ajv report three vague errors ("must be equal to constant" twice)
 * instead of one "must be equal to one of the allowed values".
 */
const STRING_ENUM_KIND = 'SlipwayStringEnum';
if (!TypeRegistry.Has(STRING_ENUM_KIND)) {
  TypeRegistry.Set<{ enum: readonly string[] }>(
    STRING_ENUM_KIND,
    (schema, value) => typeof value === 'string' && schema.enum.includes(value),
  );
}

export function StringEnum<const Values extends readonly string[]>(
  values: Values,
  options: SchemaOptions = {},
): TUnsafe<Values[number]> {
  return Type.Unsafe<Values[number]>({
    ...options,
    [Kind]: STRING_ENUM_KIND,
    type: 'string',
    enum: [...values],
  });
}

/** `{items, total, limit, offset}`: the one list envelope both services return. */
export function PageOf<Item extends TSchema>(item: Item, options: SchemaOptions = {}) {
  return Type.Object(
    {
      items: Type.Array(item),
      total: Type.Integer({ minimum: 0, description: 'Number of matching rows across all pages' }),
      limit: Type.Integer({ minimum: 1, maximum: 100 }),
      offset: Type.Integer({ minimum: 0 }),
    },
    { additionalProperties: false, ...options },
  );
}
