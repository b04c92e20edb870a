/**
 * `npm run build:kit`: compiles src/resource-server/ into dist/resource-server-kit/, a package a member site can
 * `npm pack` and install (`@cybercard/resource-server`): ESM JavaScript and .d.ts, its own package.json naming only
 * what the kit imports. Plain Node will not run TypeScript under node_modules, so the source cannot be the package.
 */
import { builtinModules } from 'node:module';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const KIT_SRC = path.join(ROOT, 'src', 'resource-server');
const KIT_DIR = path.join(ROOT, 'dist', 'resource-server-kit');
const KIT_NAME = '@cybercard/resource-server';

interface MainPackage {
  version: string;
  license: string;
  engines: Record<string, string>;
  dependencies: Record<string, string>;
}

/** `jose` for `jose/jwt/verify`, `@scope/name` for `@scope/name/sub`. */
function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

/**
 * The packages the kit's files import, with the main package's version ranges. A package the main package does not
 * depend on at run time fails the build. (Relative imports stay inside the kit: rootDir refuses any other.)
 */
function runtimeDependencies(files: readonly string[], main: MainPackage): Record<string, string> {
  const deps: Record<string, string> = {};
  const builtins = new Set(builtinModules);
  for (const file of files) {
    for (const { fileName: spec } of ts.preProcessFile(ts.sys.readFile(file) ?? '', true, true).importedFiles) {
      if (spec.startsWith('.') || spec.startsWith('node:') || builtins.has(spec)) continue;
      const name = packageName(spec);
      const range = main.dependencies[name];
      if (!range) throw new Error(`${path.relative(ROOT, file)} imports ${spec}, which is not among package.json's dependencies`);
      deps[name] = range;
    }
  }
  return Object.fromEntries(Object.entries(deps).sort(([a], [b]) => a.localeCompare(b)));
}

/**
 * Writes what tsc emits. rewriteRelativeImportExtensions rewrites `./x.ts` to `./x.js` in the JavaScript only; the
 * declarations keep `./x.ts`, which TypeScript 5 resolves to x.d.ts but older compilers and other tools refuse.
 */
function writeOutput(fileName: string, text: string): void {
  const out = fileName.endsWith('.d.ts') ? text.replace(/((?:from|import)\s*\(?\s*)(['"])(\.\.?\/[^'"]+)\.ts\2/g, '$1$2$3.js$2') : text;
  ts.sys.writeFile(fileName, out);
}

function readme(version: string): string {
  return `# ${KIT_NAME}

Checks a cybercard card manager's access tokens (JWT, RFC 9068) in a member site's resource server: signature
against the issuer's JWKS, \`typ\`, \`iss\`, \`aud\`, \`exp\`; age, payment and scope requirements; bearer middleware
for Koa, Express and node:http; strict mode, which asks the card manager for each payment approval's status.
ESM only; its one dependency is jose. TypeScript declarations are included (the node:http adapters' types need
\`@types/node\`).

\`\`\`js
import { createResourceServer, koaBearer, requirePayment } from '${KIT_NAME}';
const rs = createResourceServer({ issuer: 'https://cards.example', audience: 'https://shop.example/api' });
const claims = await rs.verify(accessToken); // throws TokenError (invalid_token, insufficient_scope, …)
\`\`\`

Every option, requirement and refusal is described in the cybercard README, "Integrating a member site", step 4
("Check tokens in your API with the kit"). This package is built from cybercard ${version} with
\`npm run build:kit\` and \`npm pack\` in \`dist/resource-server-kit/\`.
`;
}

/**
 * The package's LICENSE, so the terms its package.json names travel with the tarball. Only MIT is written out: a
 * change of the project's licence must change this text too, and the build refuses until it does.
 */
function licenseText(license: string): string {
  if (license !== 'MIT') throw new Error(`the kit's LICENSE text is MIT's, but package.json says ${license}`);
  return `MIT License

Copyright (c) 2026 the cybercard contributors

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
`;
}

/** Builds the package directory afresh (nothing stale from an earlier build gets packed) and returns its path. */
export async function buildKit(): Promise<string> {
  const main = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as MainPackage;
  const tsconfig = ts.getParsedCommandLineOfConfigFile(path.join(ROOT, 'tsconfig.json'), {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    },
  });
  if (!tsconfig) throw new Error('tsconfig.json could not be read');

  await rm(KIT_DIR, { recursive: true, force: true });
  await mkdir(KIT_DIR, { recursive: true });
  const program = ts.createProgram([path.join(KIT_SRC, 'index.ts')], {
    ...tsconfig.options,
    // rootDir makes tsc refuse any file the kit pulls in from outside src/resource-server/.
    rootDir: KIT_SRC,
    outDir: KIT_DIR,
    noEmit: false,
    declaration: true,
    sourceMap: false,
    declarationMap: false,
    types: ['node'],
  });
  const host = { getCanonicalFileName: (f: string) => f, getCurrentDirectory: () => ROOT, getNewLine: () => '\n' };
  // Checked before emitting: tsc emits despite errors, and a file from outside rootDir would land beside its source.
  const diagnostics = ts.getPreEmitDiagnostics(program);
  if (diagnostics.length) throw new Error(`the kit does not compile:\n${ts.formatDiagnostics(diagnostics, host)}`);
  const emitted = program.emit(undefined, writeOutput);
  if (emitted.diagnostics.length || emitted.emitSkipped) {
    throw new Error(`the kit could not be written:\n${ts.formatDiagnostics(emitted.diagnostics, host)}`);
  }

  const kitFiles = program.getSourceFiles().map((f) => path.resolve(f.fileName)).filter((f) => !f.includes(`${path.sep}node_modules${path.sep}`));
  const pkg = {
    name: KIT_NAME,
    version: main.version,
    description: "Checks a cybercard card manager's access tokens (RFC 9068) in a member site's resource server",
    license: main.license,
    type: 'module',
    exports: {
      '.': { types: './index.d.ts', default: './index.js' },
      './package.json': './package.json',
    },
    types: './index.d.ts',
    sideEffects: false,
    engines: main.engines,
    dependencies: runtimeDependencies(kitFiles, main),
  };
  await writeFile(path.join(KIT_DIR, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
  await writeFile(path.join(KIT_DIR, 'README.md'), readme(main.version));
  await writeFile(path.join(KIT_DIR, 'LICENSE'), licenseText(main.license));
  return KIT_DIR;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  buildKit().then(
    (dir) => console.log(`built ${KIT_NAME} in ${path.relative(process.cwd(), dir) || '.'}; \`npm pack\` there makes the tarball`),
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : err);
      process.exit(1);
    },
  );
}
