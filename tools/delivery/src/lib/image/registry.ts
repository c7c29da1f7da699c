import { createHash } from 'node:crypto';

/** OCI distribution API client: just the calls the image executor needs. */
export interface ManifestInfo {
  digest: string;
  mediaType: string;
}

export interface FetchedManifest extends ManifestInfo {
  body: Buffer;
}

export interface RegistryClient {
  /** HEAD the manifest; undefined when the registry answers 404. */
  headManifest(path: string, reference: string): Promise<ManifestInfo | undefined>;
  getManifest(path: string, reference: string): Promise<FetchedManifest>;
  /** PUT the exact manifest bytes under another tag; returns the digest the registry reports. */
  putManifest(path: string, tag: string, manifest: FetchedManifest): Promise<string>;
  /** Labels from the image config (first platform of an index). */
  getLabels(path: string, reference: string): Promise<Record<string, string>>;
  listTags(path: string): Promise<string[]>;
}

export const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

export class RegistryError extends Error {}
export class RegistryUnreachableError extends RegistryError {}

export interface RegistryCredentials {
  username: string;
  password: string;
}

export interface HttpRegistryOptions {
  registry: string;
  /** Plain http (loopback registries such as docker-registry on 127.0.0.1). */
  insecure: boolean;
  credentials?: RegistryCredentials;
  timeoutMs?: number;
  fetchImpl?: typeof fetch;
}

function parseChallenge(header: string): { scheme: string; params: Record<string, string> } {
  const space = header.indexOf(' ');
  const scheme = (space < 0 ? header : header.slice(0, space)).toLowerCase();
  const params: Record<string, string> = {};
  const re = /(\w+)="([^"]*)"/g;
  let match: RegExpExecArray | null;
  while ((match = re.exec(header)) !== null) params[match[1] as string] = match[2] as string;
  return { scheme, params };
}

export function sha256Digest(body: Buffer): string {
  return `sha256:${createHash('sha256').update(body).digest('hex')}`;
}

export class HttpRegistryClient implements RegistryClient {
  private readonly base: string;
  private readonly fetchImpl: typeof fetch;
  private readonly timeoutMs: number;
  private readonly tokens = new Map<string, string>();

  constructor(private readonly options: HttpRegistryOptions) {
    this.base = `${options.insecure ? 'http' : 'https'}://${options.registry}`;
    this.fetchImpl = options.fetchImpl ?? fetch;
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  private async send(url: string, init: RequestInit, scope: string, authorization?: string): Promise<Response> {
    const headers = new Headers(init.headers);
    if (authorization) headers.set('Authorization', authorization);
    try {
      return await this.fetchImpl(url, {
        ...init,
        headers,
        signal: AbortSignal.timeout(this.timeoutMs),
        redirect: 'follow',
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).name;
      throw new RegistryUnreachableError(
        `Registry ${this.options.registry} is unreachable (${cause}) at ${this.base}. Start it (tools/scripts/local-prereqs.sh starts 127.0.0.1:5000) or pass --registry=<host:port> of a running registry.`,
      );
    }
  }

  private async token(challenge: Record<string, string>, scope: string): Promise<string> {
    const cached = this.tokens.get(scope);
    if (cached) return cached;
    if (!challenge['realm'])
      throw new RegistryError(`Registry ${this.options.registry} asked for a bearer token without a realm.`);
    const url = new URL(challenge['realm']);
    if (challenge['service']) url.searchParams.set('service', challenge['service']);
    url.searchParams.set('scope', challenge['scope'] ?? scope);
    const headers: Record<string, string> = {};
    if (this.options.credentials) headers['Authorization'] = this.basic();
    const response = await this.send(url.toString(), { headers }, scope);
    if (!response.ok) {
      throw new RegistryError(
        `Registry ${this.options.registry} refused a token (${response.status}): check the registry credentials (username/password environment variables).`,
      );
    }
    const json = (await response.json()) as { token?: string; access_token?: string };
    const token = json.token ?? json.access_token;
    if (!token) throw new RegistryError(`Registry ${this.options.registry} returned no token.`);
    this.tokens.set(scope, token);
    return token;
  }

  private basic(): string {
    const { username, password } = this.options.credentials as RegistryCredentials;
    return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
  }

  /** One request with the registry's auth dance (anonymous, then Bearer or Basic on 401). */
  private async request(path: string, urlPath: string, init: RequestInit, push = false): Promise<Response> {
    const scope = `repository:${path}:${push ? 'pull,push' : 'pull'}`;
    const url = `${this.base}${urlPath}`;
    const cached = this.tokens.get(scope);
    let response = await this.send(url, init, scope, cached ? `Bearer ${cached}` : undefined);
    if (response.status !== 401) return response;
    const challenge = parseChallenge(response.headers.get('www-authenticate') ?? '');
    if (challenge.scheme === 'bearer') {
      this.tokens.delete(scope);
      const token = await this.token(challenge.params, scope);
      response = await this.send(url, init, scope, `Bearer ${token}`);
    } else if (challenge.scheme === 'basic' && this.options.credentials) {
      response = await this.send(url, init, scope, this.basic());
    }
    if (response.status === 401 || response.status === 403) {
      throw new RegistryError(
        `Registry ${this.options.registry} denied access to ${path} (${response.status}): set the registry username/password environment variables (see the image executor's registryUsernameEnv/registryPasswordEnv options).`,
      );
    }
    return response;
  }

  private async failure(response: Response, what: string): Promise<RegistryError> {
    const text = (await response.text().catch(() => '')).slice(0, 300);
    return new RegistryError(
      `Registry ${this.options.registry}: ${what} failed with ${response.status} ${response.statusText}${text ? `: ${text}` : ''}`,
    );
  }

  async headManifest(path: string, reference: string): Promise<ManifestInfo | undefined> {
    const response = await this.request(path, `/v2/${path}/manifests/${reference}`, {
      method: 'HEAD',
      headers: { Accept: MANIFEST_ACCEPT },
    });
    if (response.status === 404) return undefined;
    if (!response.ok) throw await this.failure(response, `HEAD manifest ${path}:${reference}`);
    const digest = response.headers.get('docker-content-digest');
    if (!digest) {
      // Some registries omit the header on HEAD; the GET body is authoritative.
      const manifest = await this.getManifest(path, reference);
      return { digest: manifest.digest, mediaType: manifest.mediaType };
    }
    return { digest, mediaType: response.headers.get('content-type') ?? '' };
  }

  async getManifest(path: string, reference: string): Promise<FetchedManifest> {
    const response = await this.request(path, `/v2/${path}/manifests/${reference}`, {
      method: 'GET',
      headers: { Accept: MANIFEST_ACCEPT },
    });
    if (!response.ok) throw await this.failure(response, `GET manifest ${path}:${reference}`);
    const body = Buffer.from(await response.arrayBuffer());
    const parsed = JSON.parse(body.toString('utf8')) as { mediaType?: string };
    const mediaType =
      response.headers.get('content-type') || parsed.mediaType || 'application/vnd.oci.image.manifest.v1+json';
    return { body, mediaType, digest: sha256Digest(body) };
  }

  async putManifest(path: string, tag: string, manifest: FetchedManifest): Promise<string> {
    const response = await this.request(
      path,
      `/v2/${path}/manifests/${tag}`,
      { method: 'PUT', headers: { 'Content-Type': manifest.mediaType }, body: new Uint8Array(manifest.body) },
      true,
    );
    if (response.status !== 201 && !response.ok) throw await this.failure(response, `PUT manifest ${path}:${tag}`);
    return response.headers.get('docker-content-digest') ?? manifest.digest;
  }

  async getLabels(path: string, reference: string): Promise<Record<string, string>> {
    let manifest = JSON.parse((await this.getManifest(path, reference)).body.toString('utf8')) as {
      manifests?: { digest: string }[];
      config?: { digest: string };
    };
    if (manifest.manifests && manifest.manifests.length > 0) {
      manifest = JSON.parse(
        (await this.getManifest(path, (manifest.manifests[0] as { digest: string }).digest)).body.toString('utf8'),
      );
    }
    if (!manifest.config) return {};
    const response = await this.request(path, `/v2/${path}/blobs/${manifest.config.digest}`, { method: 'GET' });
    if (!response.ok) throw await this.failure(response, `GET config blob of ${path}:${reference}`);
    const config = (await response.json()) as { config?: { Labels?: Record<string, string> } };
    return config.config?.Labels ?? {};
  }

  async listTags(path: string): Promise<string[]> {
    const response = await this.request(path, `/v2/${path}/tags/list`, { method: 'GET' });
    if (response.status === 404) return [];
    if (!response.ok) throw await this.failure(response, `list tags of ${path}`);
    const json = (await response.json()) as { tags?: string[] | null };
    return json.tags ?? [];
  }
}
