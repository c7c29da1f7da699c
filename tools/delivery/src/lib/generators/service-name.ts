import { DeliveryInputError } from '../shared/errors';

/**
 * A service name becomes a project name, an npm package, an image repository, a scope tag and the
 * name of Kubernetes objects (Deployment, Service, ConfigMap `<name>-config`, ...). The Service
 * needs a DNS-1035 label (a letter first), and each pod is named `<name>-<10-char hash>-<5 chars>`,
 * which must stay a 63-character hostname: 40 leaves room for both with a margin for suffixes.
 */
export const MAX_SERVICE_NAME_LENGTH = 40;
const DNS_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

/** Names the workspace or Kubernetes already uses for something else. */
export const RESERVED_SERVICE_NAMES: readonly string[] = [
  'apps',
  'default',
  'delivery',
  'deploy',
  'kubernetes',
  'libs',
  'node-modules',
  'platform',
  'shared',
  'source',
  'tools',
  'workspace',
];

export interface ServiceNames {
  /** kebab-case, as given: project, image, objects. */
  name: string;
  /** PascalCase: types and functions (`InventoryConfig`). */
  className: string;
  /** camelCase: values (`inventoryConfigSpec`). */
  propertyName: string;
  /** UPPER_SNAKE_CASE: constants (`INVENTORY_DEFAULT_PORT`). */
  constantName: string;
  /** snake_case: SQL identifiers and test database prefixes. */
  sqlName: string;
}

/** The problem with `name` as a service name, or undefined when it is fine. */
export function validateServiceName(name: unknown): void {
  if (typeof name !== 'string' || name.length === 0) {
    throw new DeliveryInputError('a service name is required', 'e.g. nx g @slipway/delivery:service inventory');
  }
  if (name.length > MAX_SERVICE_NAME_LENGTH) {
    throw new DeliveryInputError(
      `service name "${name}" is ${name.length} characters; at most ${MAX_SERVICE_NAME_LENGTH} fit the Kubernetes object and pod names it becomes`,
      `choose a shorter name, e.g. "${name.slice(0, MAX_SERVICE_NAME_LENGTH).replace(/-+$/, '')}"`,
    );
  }
  if (!DNS_LABEL.test(name)) {
    const suggestion = name
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, '-')
      .replace(/^[^a-z]+/, '')
      .replace(/-+$/, '');
    throw new DeliveryInputError(
      `service name "${name}" is not a DNS-1123 label starting with a letter (lowercase letters, digits and '-', no '-' at either end)`,
      suggestion ? `use e.g. "${suggestion}"` : 'start the name with a lowercase letter',
    );
  }
  if (RESERVED_SERVICE_NAMES.includes(name)) {
    throw new DeliveryInputError(
      `service name "${name}" is reserved: the workspace or Kubernetes already uses it`,
      `choose another name (reserved: ${RESERVED_SERVICE_NAMES.join(', ')})`,
    );
  }
}

export function serviceNames(name: string): ServiceNames {
  const words = name.split('-').filter(Boolean);
  const className = words.map((w) => w[0].toUpperCase() + w.slice(1)).join('');
  return {
    name,
    className,
    propertyName: className[0].toLowerCase() + className.slice(1),
    constantName: words.map((w) => w.toUpperCase()).join('_'),
    sqlName: words.join('_'),
  };
}
