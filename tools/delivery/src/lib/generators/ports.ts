import { DeliveryInputError } from '../shared/errors';

/** Ports a service may not take: the local registry and the first port a default Nx serve uses. */
export const RESERVED_PORTS: Readonly<Record<number, string>> = { 5000: 'the local image registry' };
export const FIRST_SERVICE_PORT = 3101;

/**
 * Which service uses which local port: the deploy targets' `ports` options and every project's
 * smoke.json `environments.local.baseUrl`. Returned as port → owner.
 */
export function usedPorts(
  deployTargetPorts: Record<string, number>[],
  localBaseUrls: { project: string; baseUrl: string }[],
): Map<number, string> {
  const used = new Map<number, string>();
  for (const [port, owner] of Object.entries(RESERVED_PORTS)) used.set(Number(port), owner);
  for (const ports of deployTargetPorts) {
    for (const [project, port] of Object.entries(ports)) used.set(Number(port), project);
  }
  for (const { project, baseUrl } of localBaseUrls) {
    const port = URL.canParse(baseUrl) ? Number(new URL(baseUrl).port) : NaN;
    if (Number.isInteger(port) && port > 0) used.set(port, project);
  }
  return used;
}

/** The requested port when no other service has it, else the first free one from 3101 up. */
export function choosePort(requested: number | undefined, used: Map<number, string>, service: string): number {
  if (requested !== undefined) {
    const owner = used.get(requested);
    if (owner !== undefined && owner !== service) {
      throw new DeliveryInputError(
        `port ${requested} is already used by ${owner}`,
        `leave --port out to take the next free one (${choosePort(undefined, used, service)}), or pick another`,
      );
    }
    return requested;
  }
  let port = FIRST_SERVICE_PORT;
  while (used.has(port)) port += 1;
  return port;
}
