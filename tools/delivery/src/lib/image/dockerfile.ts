/**
 * The context paths a Dockerfile copies from (COPY/ADD without --from), so a missing build output
 * is reported by name before any engine starts.
 */
export function contextSourcesOfDockerfile(text: string): string[] {
  // Join line continuations, drop comments.
  const lines = text
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));
  const sources: string[] = [];
  for (const line of lines) {
    const match = /^(COPY|ADD)\s+(.*)$/i.exec(line);
    if (!match) continue;
    let rest = (match[2] as string).trim();
    const flags: string[] = [];
    while (rest.startsWith('--')) {
      const space = rest.search(/\s/);
      flags.push(space < 0 ? rest : rest.slice(0, space));
      rest = space < 0 ? '' : rest.slice(space).trim();
    }
    if (flags.some((flag) => flag.startsWith('--from='))) continue;
    let parts: string[];
    if (rest.startsWith('[')) {
      try {
        parts = JSON.parse(rest) as string[];
      } catch {
        continue;
      }
    } else {
      parts = rest.split(/\s+/);
    }
    // The last part is the destination; ADD of URLs is not a context path.
    for (const source of parts.slice(0, -1)) if (!/^https?:\/\//.test(source)) sources.push(source);
  }
  return sources;
}

/**
 * The part of a COPY source before any glob character or build variable (`bin/${TARGETARCH}/` differs per
 * platform and is only known to the engine): that much must exist.
 */
export function staticPrefix(source: string): string {
  const glob = source.search(/[*?[$]/);
  const head = glob < 0 ? source : source.slice(0, glob);
  return glob < 0 ? head.replace(/\/+$/, '') : head.slice(0, head.lastIndexOf('/') + 1).replace(/\/+$/, '');
}
