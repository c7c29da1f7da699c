import { contextSourcesOfDockerfile, staticPrefix } from './dockerfile';

describe('Dockerfile context sources', () => {
  it('lists COPY/ADD sources from the context, not from stages or URLs', () => {
    const text = [
      'FROM node AS deps',
      'COPY dist/package.json dist/package-lock.json ./',
      '# COPY commented/out ./',
      'COPY --chown=1:1 dist/.npm-offline/ /tmp/x/',
      'COPY --from=deps /deps/node_modules ./node_modules',
      'ADD https://example.com/x.tgz /x.tgz',
      'COPY ["dist/server main.js", "/app/"]',
      'COPY dist/a \\',
      '     dist/b /app/',
    ].join('\n');
    expect(contextSourcesOfDockerfile(text)).toEqual([
      'dist/package.json',
      'dist/package-lock.json',
      'dist/.npm-offline/',
      'dist/server main.js',
      'dist/a',
      'dist/b',
    ]);
  });
  it('keeps only the part of a glob that must exist', () => {
    expect(staticPrefix('dist/*.js')).toBe('dist');
    expect(staticPrefix('dist/')).toBe('dist');
    expect(staticPrefix('*.json')).toBe('');
    expect(staticPrefix('bin/${TARGETARCH}/hello')).toBe('bin');
    expect(staticPrefix('bin/hello-$TARGETARCH')).toBe('bin');
  });
});
