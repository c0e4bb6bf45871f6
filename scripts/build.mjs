// Builds flow: assembles the workflow schema, precompiles its ajv validator, bundles the CLI, and compiles the
// process launcher.
// Usage: node scripts/build.mjs [--write-schema]   (--write-schema also refreshes schema/workflow.schema.json)
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFile, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import Ajv2020 from 'ajv/dist/2020.js';
import standaloneCode from 'ajv/dist/standalone/index.js';
import { writeYamlParser } from './yaml-parser.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const generated = join(root, 'src', 'generated');
const tmp = join(root, 'dist', '.build');

await rm(join(root, 'dist'), { recursive: true, force: true });
await mkdir(generated, { recursive: true });
await mkdir(tmp, { recursive: true });

// 1. The schema, from the executors' own config schemas.
await build({
  entryPoints: [join(root, 'src/language/schema/workflow-schema.ts')],
  outfile: join(tmp, 'workflow-schema.mjs'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  logLevel: 'warning',
});
const { buildWorkflowSchema } = await import(pathToFileURL(join(tmp, 'workflow-schema.mjs')).href);
const schema = buildWorkflowSchema();
const schemaText = `${JSON.stringify(schema, null, 2)}\n`;
await writeFile(join(generated, 'workflow.schema.json'), schemaText);
if (process.argv.includes('--write-schema')) await writeFile(join(root, 'schema', 'workflow.schema.json'), schemaText);

// 2. The validator, compiled now so that `flow validate` never loads ajv's compiler.
const Ajv = Ajv2020.default ?? Ajv2020;
const ajv = new Ajv({
  allErrors: true,
  verbose: true,
  strict: true,
  strictTypes: false,
  strictRequired: false,
  // An ES module: bundled, its code joins the bundle's scope, where a CommonJS module would be a function compiled
  // and run on first require (with yaml's ES build, 7-8 ms off `flow validate`). Its runtime helpers, which ajv
  // writes as require() calls, become imports.
  code: { source: true, optimize: true, esm: true },
});
const validate = ajv.compile(schema);
const helpers = [];
const standalone = (standaloneCode.default ?? standaloneCode)(ajv, validate).replace(
  /const (\w+) = require\("([^"]+)"\)\.default;/g,
  (_, name, module) => {
    helpers.push(`import * as ${name}Module from ${JSON.stringify(`${module}.js`)};`);
    // Node gives a CommonJS module's exports object as its default export; bundlers and vitest give its `default`.
    return `const ${name} = typeof ${name}Module.default === 'function' ? ${name}Module.default : ${name}Module.default.default;`;
  },
);
if (/\brequire\(/.test(standalone)) throw new Error('the standalone validator requires a module the build does not turn into an import');
await writeFile(join(generated, 'workflow-validator.mjs'), `${helpers.join('\n')}\n${standalone}`);
await writeFile(
  join(generated, 'workflow-validator.d.mts'),
  `import type { ErrorObject } from 'ajv';\ndeclare const validate: ((data: unknown) => boolean) & { errors?: ErrorObject[] | null };\nexport default validate;\n`,
);

// 3. yaml's lexer and parser without generators (scripts/yaml-parser.mjs).
await writeYamlParser(root, generated);

// 4. The CLI, each of its commands, and the library, bundled. A command loads cli.cjs and its own cmd-NAME.cjs, and
// further chunks only for what it loads lazily (an SDK, a reporter) and the code it shares with those parts. Node pays
// for every module file it loads: one bundle over all commands split their shared code into a chunk per set of
// commands, and `flow runs` loaded 25 files where it now loads 3, `flow run` 45 (7-13 ms off each, measured
// interleaved on Node 20 and 26; bench/RESULTS.md). A run now loads 13 (24 before): it loads lazily only what needs a
// library or a seldom flag (--remote, a postgres:// state), since each lazy part of flow's own code splits what it
// shares with the command into more chunks (src/cli/reporting.ts). The modules cli.cjs needs itself (errors, the
// abort reason, the process groups to kill on a second Ctrl-C) are imported by every command from cli.cjs, so that
// each exists once in the process.
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  // .mjs: Node knows each file for a module by its name, without looking up package.json's "type" for it
  // (7-12 ms off a one-step `flow run`, measured interleaved on Node 20 and 26).
  outExtension: { '.js': '.mjs' },
  sourcemap: 'linked',
  // Smaller files load faster: about 6 ms off `flow validate` (bench/RESULTS.md); the source maps keep traces readable.
  minify: true,
  metafile: true,
  // bullmq as node_modules has it: bundled, its CommonJS entry loses its classes' named exports. better-sqlite3's
  // JavaScript is bundled (its native part is loaded by path: state/sqlite-open.ts).
  external: ['bullmq'],
  // yaml's ES module build (the package's own, for bundlers and browsers; the same code as its CommonJS build for
  // Node): bundled as ES modules, its 72 files join the bundle's scope instead of each being a function that runs
  // and compiles on first require. 7-8 ms off `flow validate` of 100 steps on Node 20 and 26 (measured interleaved).
  alias: { yaml: join(root, 'node_modules', 'yaml', 'browser', 'index.js') },
  define: {
    __FLOW_VERSION__: JSON.stringify(JSON.parse(await readFile(join(root, 'package.json'), 'utf8')).version),
    // Which code built a stored workflow model: a model kept by another build is never reused.
    __FLOW_BUILD__: JSON.stringify(await sourceHash(join(root, 'src'))),
    // JSONata is bundled to load on first use (src/language/lazy-libraries.ts).
    __FLOW_BUNDLED__: 'true',
  },
  logLevel: 'warning',
};
// Bundled CommonJS packages require() Node's modules: in an ES module, `require` is made for them.
const esmRequire = {
  js: "import { createRequire as __flowCreateRequire } from 'node:module'; const require = __flowCreateRequire(import.meta.url);",
};
// commander requires node:child_process as it loads, for subcommands that are programs of their own, which flow has
// none of; with it come net, dgram and more of Node (about 3 ms of `flow runs` on Node 20, measured interleaved).
// It is required when first used.
const commanderWithoutSpawn = {
  name: 'commander-without-spawn',
  setup(b) {
    b.onLoad({ filter: /[\\/]commander[\\/]lib[\\/]command\.js$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      const eager = "const childProcess = require('node:child_process');";
      if (!source.includes(eager)) throw new Error(`${args.path}: commander no longer requires child_process as this build expects`);
      const lazy = "const childProcess = { spawn: (...a) => require('node:child_process').spawn(...a) };";
      return { contents: source.replace(eager, lazy), loader: 'js' };
    });
  },
};
const SHARED_WITH_CLI = ['src/model/errors.ts', 'src/engine/step-failure.ts', 'src/executors/process-groups.ts'].map((f) => join(root, f));
const commands = new Map(); // command module (absolute .ts path) -> its file in dist/
const cliTmp = join(tmp, 'cli');
const asCjs = { outExtension: { '.js': '.cjs' } };
const cliBuild = await build({
  ...common,
  ...asCjs,
  stdin: {
    contents: ['export { main } from "./src/cli/main.ts";', ...SHARED_WITH_CLI.map((f) => `export * from ${JSON.stringify(f)};`)].join(
      '\n',
    ),
    resolveDir: root,
    loader: 'ts',
    sourcefile: 'cli-entry.ts',
  },
  outfile: join(cliTmp, 'cli.cjs'),
  plugins: [
    commanderWithoutSpawn,
    {
      name: 'commands-apart',
      setup(b) {
        b.onResolve({ filter: /^\.\/commands\/[\w-]+\.js$/ }, (args) => {
          if (!args.importer.endsWith(join('src', 'cli', 'main.ts'))) return undefined;
          const source = join(args.resolveDir, args.path.replace(/\.js$/, '.ts'));
          const file = `cmd-${args.path.slice('./commands/'.length, -'.js'.length)}.cjs`;
          commands.set(source, file);
          return { path: `./${file}`, external: true };
        });
      },
    },
  ],
});
const fromCli = {
  name: 'shared-from-cli',
  setup(b) {
    b.onResolve({ filter: /^\.\.?\// }, (args) => {
      const source = join(args.resolveDir, args.path.replace(/\.js$/, '.ts'));
      return SHARED_WITH_CLI.includes(source) ? { path: './cli.cjs', external: true } : undefined;
    });
  },
};
const commandBuilds = await Promise.all(
  [...commands].map(([source, file]) =>
    build({
      ...common,
      ...asCjs,
      entryPoints: { [file.replace(/\.cjs$/, '')]: source },
      outdir: cliTmp,
      splitting: true,
      plugins: [fromCli],
    }),
  ),
);
const libraryBuild = await build({
  ...common,
  banner: esmRequire,
  entryPoints: { index: join(root, 'src/index.ts') },
  outdir: join(root, 'dist'),
  splitting: true,
});
// The CLI's ES modules, made CommonJS for src/cli/code-cache.ts, which compiles them with V8's code cache. A chunk
// that imports another requires it; an import() of one requires it when reached. (Modules of Node's loader, such as a
// custom step's, are imported through src/model/import-module.ts.) They stay modules Node's own require() can load.
const cliFiles = (await readdir(cliTmp)).filter((f) => f.endsWith('.cjs'));
const cjsBuild = await build({
  entryPoints: cliFiles.map((f) => join(cliTmp, f)),
  outdir: join(root, 'dist'),
  outExtension: { '.js': '.cjs' },
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  supported: { 'dynamic-import': false },
  define: { 'import.meta.url': '__flowUrl' },
  // Strict, as the ES modules were: the directive must come first, before the banner's own line.
  banner: { js: '"use strict";var __flowUrl = require("node:url").pathToFileURL(__filename).href;' },
  sourcemap: 'linked',
  minify: true,
  write: false,
  logLevel: 'warning',
});
const cliHash = createHash('sha256');
for (const out of cjsBuild.outputFiles) {
  if (out.path.endsWith('.cjs')) cliHash.update(out.path.slice(out.path.lastIndexOf('/'))).update(out.contents);
  await writeFile(out.path, out.contents);
}
// What bin/flow.js requires: CommonJS, as bin/flow.js is, so that Node 20 starts a command without its ES module
// loader (5 ms; bench/RESULTS.md).
await build({
  ...common,
  format: 'cjs',
  entryPoints: { boot: join(root, 'src/cli/boot.ts') },
  outExtension: { '.js': '.cjs' },
  outdir: join(root, 'dist'),
  define: { ...common.define, __FLOW_CLI_BUILD__: JSON.stringify(cliHash.digest('hex').slice(0, 16)) },
});
await rm(tmp, { recursive: true, force: true });
// Which chunk holds which packages: tests check that a command loads only the chunks it needs (no ora in a plain run).
const metafiles = [cliBuild, ...commandBuilds, libraryBuild].map((b) => b.metafile);
await writeFile(join(root, 'dist', 'chunks.json'), `${JSON.stringify(chunkPackages(metafiles), null, 1)}\n`);

// 5. The dashboard of `flow ui`: one script and one stylesheet for the browser, built into dist/ui and served from there.
await build({
  entryPoints: [join(root, 'src/ui/main.tsx')],
  outfile: join(root, 'dist', 'ui', 'assets', 'app.js'),
  bundle: true,
  platform: 'browser',
  format: 'esm',
  target: 'es2022',
  minify: true,
  jsx: 'automatic',
  jsxImportSource: 'preact',
  logLevel: 'warning',
});
await copyFile(join(root, 'src', 'ui', 'styles.css'), join(root, 'dist', 'ui', 'assets', 'app.css'));
await copyFile(join(root, 'src', 'ui', 'index.html'), join(root, 'dist', 'ui', 'index.html'));

// The PostgreSQL store's connection thread, loaded by path beside the chunk that starts it (sync-client.ts).
await copyFile(join(root, 'src', 'state', 'postgres', 'pg-worker.cjs'), join(root, 'dist', 'pg-worker.cjs'));

// 6. Type declarations for the library (`import { runWorkflow } from 'flow'`).
execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.build.json')], {
  stdio: 'inherit',
});

// 7. The native process launcher (src/executors/native-launcher.c): with it a shell step costs about 1.5 ms less than
// through bash (bench/RESULTS.md). Without a C compiler flow uses bash, and says so here.
const cc = process.env.CC || 'cc';
try {
  execFileSync(cc, ['-O2', '-Wall', '-o', join(root, 'dist', 'flow-launcher'), join(root, 'src', 'executors', 'native-launcher.c')], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
} catch (err) {
  const why = err.code === 'ENOENT' ? `no C compiler (${cc})` : 'the C compiler failed';
  console.warn(`flow: ${why}: the native process launcher is not built, and shell steps start through bash (slower)`);
}

function chunkPackages(metafiles) {
  const out = {};
  for (const [file, output] of metafiles.flatMap((m) => Object.entries(m.outputs))) {
    if (!/\.[cm]js$/.test(file)) continue;
    const packages = new Set();
    for (const input of Object.keys(output.inputs)) {
      const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
      if (m) packages.add(m[1]);
    }
    out[file.slice(file.lastIndexOf('/') + 1)] = [...packages].sort();
  }
  return out;
}

async function sourceHash(dir) {
  const hash = createHash('sha256');
  const files = (await readdir(dir, { recursive: true, withFileTypes: true }))
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath ?? e.path, e.name))
    .sort();
  for (const file of files) hash.update(file.slice(dir.length)).update(await readFile(file));
  return hash.digest('hex').slice(0, 16);
}
