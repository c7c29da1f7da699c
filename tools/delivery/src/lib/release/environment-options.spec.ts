import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as ts from 'typescript';
import { ENVIRONMENT_PATTERN } from '../gitops/bump-request';

/**
 * The environment options of deploy, rollback and release-status are written once, in
 * environment-options.schema.json; each executor's schema.json copies the properties it takes.
 * These tests fail when a copy drifts from the fragment, and when any executor's schema.d.ts
 * stops mirroring its schema.json (a property added, dropped or made optional on one side only).
 */
interface JsonSchema {
  properties: Record<string, unknown>;
  required?: string[];
}

const executorsDir = path.join(__dirname, '../../executors');
const readJson = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as JsonSchema;
const fragment = readJson(path.join(__dirname, 'environment-options.schema.json'));
const schemaOf = (executor: string) => readJson(path.join(executorsDir, executor, 'schema.json'));

/** Executors that take environment options, and which of the fragment's properties each takes. */
const TAKES_ALL = Object.keys(fragment.properties);
const ENVIRONMENT_EXECUTORS: Record<string, string[]> = {
  deploy: TAKES_ALL,
  rollback: TAKES_ALL,
  'release-status': [
    'mode',
    'projects',
    'registry',
    'repository',
    'remote',
    'branch',
    'tokenEnv',
    'tokenUser',
    'overlaysDir',
    'holdsDir',
    'historyDir',
    'stateDir',
    'ports',
    'instance',
    'storageDriver',
    'kubeContext',
    'kubeconfig',
    'kubectl',
    'clusterEnv',
    'argocdApp',
    'argocdAccess',
    'argocdNamespace',
    'portForward',
  ],
};

/** The properties of `takes` whose copy in `properties` is not exactly the fragment's. */
function driftedProperties(properties: Record<string, unknown>, takes: string[]): string[] {
  return takes.filter((name) => JSON.stringify(properties[name]) !== JSON.stringify(fragment.properties[name]));
}

describe('environment options: one fragment, copied verbatim', () => {
  it.each(Object.entries(ENVIRONMENT_EXECUTORS))('%s/schema.json copies every property it takes', (executor, takes) => {
    const drifted = driftedProperties(schemaOf(executor).properties, takes);
    expect({ executor, drifted }).toEqual({ executor, drifted: [] });
  });

  it.each(Object.entries(ENVIRONMENT_EXECUTORS))(
    '%s/schema.json takes no other fragment property by accident',
    (executor, takes) => {
      const extra = Object.keys(schemaOf(executor).properties).filter(
        (name) => name in fragment.properties && !takes.includes(name),
      );
      expect({ executor, extra }).toEqual({ executor, extra: [] });
    },
  );

  it.each(Object.keys(ENVIRONMENT_EXECUTORS))('%s names the environment with the one pattern', (executor) => {
    const properties = schemaOf(executor).properties as Record<string, { pattern?: string } | undefined>;
    for (const name of ['environment', 'env']) {
      if (properties[name])
        expect({ name, pattern: properties[name]?.pattern }).toEqual({
          name,
          pattern: ENVIRONMENT_PATTERN.source,
        });
    }
  });

  it('fails when a copied property differs (the check sees a changed description)', () => {
    const changed = { ...fragment.properties, registry: { type: 'string', description: 'edited by hand' } };
    expect(driftedProperties(changed, TAKES_ALL)).toEqual(['registry']);
  });
});

/** Property names of the interface exported by `file`, each with whether it is optional. */
function interfaceProperties(program: ts.Program, file: string): Record<string, 'required' | 'optional'> {
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(file);
  if (!source) throw new Error(`${file} is not in the program`);
  const moduleSymbol = checker.getSymbolAtLocation(source);
  const exported = moduleSymbol ? checker.getExportsOfModule(moduleSymbol) : [];
  const schemaInterface = exported.find((s) => s.flags & ts.SymbolFlags.Interface && /Schema$/.test(s.name));
  if (!schemaInterface) throw new Error(`${file} exports no *Schema interface`);
  const properties: Record<string, 'required' | 'optional'> = {};
  for (const p of checker.getPropertiesOfType(checker.getDeclaredTypeOfSymbol(schemaInterface))) {
    properties[p.name] = p.flags & ts.SymbolFlags.Optional ? 'optional' : 'required';
  }
  return properties;
}

describe('schema.d.ts mirrors schema.json', () => {
  const executors = readdirSync(executorsDir).filter((name) =>
    readdirSync(path.join(executorsDir, name)).includes('schema.d.ts'),
  );
  const files = executors.map((name) => path.join(executorsDir, name, 'schema.d.ts'));
  const program = ts.createProgram(files, {
    noEmit: true,
    skipLibCheck: true,
    strict: true,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    target: ts.ScriptTarget.ES2022,
    types: ['node'],
  });

  it.each(executors)('%s: same properties, same required ones', (executor) => {
    const schema = schemaOf(executor);
    const declared = interfaceProperties(program, path.join(executorsDir, executor, 'schema.d.ts'));
    const fromJson: Record<string, 'required' | 'optional'> = {};
    for (const name of Object.keys(schema.properties))
      fromJson[name] = schema.required?.includes(name) ? 'required' : 'optional';
    expect({ executor, properties: declared }).toEqual({ executor, properties: fromJson });
  });
});
