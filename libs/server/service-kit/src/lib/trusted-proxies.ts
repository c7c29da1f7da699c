import { isIP } from 'node:net';

/**
 * TRUSTED_PROXIES → Fastify's `trustProxy`: the addresses (IPs or CIDRs) of the proxies whose
 * X-Forwarded-For is believed, e.g. the web server that proxies /api/* to catalog and orders.
 * Behind it `request.ip` (and so the rate-limit key) is the browser's address; a client talking to
 * the service directly from anywhere else cannot choose its address by sending the header.
 * Unset or empty: no proxy is trusted.
 */
export function parseTrustedProxies(value: string | undefined): string[] | undefined {
  const entries = (value ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  if (entries.length === 0) return undefined;
  const bad = entries.filter((entry) => !isAddressOrRange(entry));
  if (bad.length > 0)
    throw new Error(
      `TRUSTED_PROXIES has ${bad.map((b) => `"${b}"`).join(', ')}, which ${bad.length === 1 ? 'is' : 'are'} not an IP address or CIDR range: list the proxy addresses separated by commas, e.g. TRUSTED_PROXIES=10.0.0.7,10.42.0.0/16`,
    );
  return entries;
}

function isAddressOrRange(entry: string): boolean {
  const [address, prefix, ...rest] = entry.split('/');
  if (rest.length > 0 || !address) return false;
  const family = isIP(address);
  if (family === 0) return false;
  if (prefix === undefined) return true;
  if (!/^\d{1,3}$/.test(prefix)) return false;
  return Number(prefix) <= (family === 4 ? 32 : 128);
}
