import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

const repo = resolve('.');
/** What instance-main.ts needs: itself, the fixture app, and the library's sources. */
const ENTRIES = ['test/redis-ops/support/instance-main.ts', 'test/websocket/fixture-app.ts'];
const LIBRARY = 'libs/session/src';

/**
 * Compiles instance-main.ts and what it imports into a temporary folder, so that a test can run an
 * app instance as a child process from a fresh clone (no `npm run build`). Each file is transpiled
 * on its own, as ts-jest does for the suites (`npm run typecheck` checks the types). The folder's
 * node_modules links every package of the repo's, except `nestjs-redis-session`, which points to
 * the library just compiled. Resolves with the folder and the entry script's path.
 */
export async function buildInstance(): Promise<{ dir: string; main: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'session-instance-'));
  const { options } = ts.convertCompilerOptionsFromJson(
    { target: 'ES2023', module: 'ES2022', experimentalDecorators: true, emitDecoratorMetadata: true, useDefineForClassFields: false },
    repo,
  );
  const sources = [...ENTRIES, ...(await typescriptFiles(LIBRARY))];
  await Promise.all(
    sources.map(async (file) => {
      const { outputText } = ts.transpileModule(await readFile(join(repo, file), 'utf8'), { compilerOptions: options, fileName: file });
      const target = join(dir, file.replace(/\.ts$/, '.js'));
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, outputText);
    }),
  );
  await writeFile(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
  const modules = join(dir, 'node_modules');
  await mkdir(modules);
  for (const name of await readdir(join(repo, 'node_modules'))) {
    if (name !== 'nestjs-redis-session' && !name.startsWith('.')) await symlink(join(repo, 'node_modules', name), join(modules, name));
  }
  const library = join(modules, 'nestjs-redis-session');
  await mkdir(library);
  await writeFile(join(library, 'package.json'), JSON.stringify({ name: 'nestjs-redis-session', type: 'module', main: 'index.js' }));
  await writeFile(join(library, 'index.js'), `export * from '${relative(library, join(dir, LIBRARY, 'index.js'))}';\n`);
  return { dir, main: join(dir, ENTRIES[0].replace(/\.ts$/, '.js')), remove: () => rm(dir, { recursive: true, force: true }) };
}

async function typescriptFiles(folder: string): Promise<string[]> {
  const entries = await readdir(join(repo, folder), { withFileTypes: true, recursive: true });
  return entries
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts'))
    .map((entry) => relative(repo, join(entry.parentPath, entry.name)));
}
