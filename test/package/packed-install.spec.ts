import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { type AppFormat, writeThrowawayApp } from './throwaway-app.js';

/**
 * What a user gets from the registry: the library packed as `npm pack` makes it (its prepack
 * builds dist), installed with only its peers into an app outside the repo, compiled by that
 * app's own tsc and served over real HTTP, once as an ES module app and once as CommonJS.
 */

const run = promisify(execFile);
const repo = resolve('.');
const libDir = join(repo, 'libs/session');

type PackageJson = { name: string; version: string; peerDependencies?: Record<string, string> } & Record<string, unknown>;
const readJson = async <T>(path: string): Promise<T> => JSON.parse(await readFile(path, 'utf8')) as T;

/** Runs a command; a failure says what was being done, with the end of its output. */
async function step(what: string, command: string, args: string[], cwd: string): Promise<string> {
  try {
    const { stdout } = await run(command, args, { cwd, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, npm_config_update_notifier: 'false' } });
    return stdout;
  } catch (error) {
    const { stdout = '', stderr = '', message } = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${what} failed: ${message}\n${`${stdout}\n${stderr}`.trim().slice(-4000)}`);
  }
}

/** The version the monorepo itself uses, so that the app runs on what the suites run on. */
function pinned(root: PackageJson, name: string): string {
  const all = { ...(root.dependencies as Record<string, string>), ...(root.devDependencies as Record<string, string>) };
  const version = all[name];
  if (version === undefined) throw new Error(`${name} is not in the root package.json: cannot pick a version for the packed-install app`);
  return `${name}@${version}`;
}

/** Starts the compiled app and resolves with its port once it listens. */
function boot(appDir: string, format: AppFormat): Promise<{ child: ChildProcess; port: number }> {
  return new Promise((resolvePort, reject) => {
    const child = spawn(process.execPath, [join(format, 'main.js')], { cwd: appDir, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const timer = setTimeout(() => fail(new Error('did not print LISTENING within 30 s')), 30_000);
    const fail = (error: Error) => {
      clearTimeout(timer);
      child.kill();
      reject(new Error(`the ${format} app: ${error.message}\n${output.slice(-4000)}`));
    };
    child.on('error', fail);
    child.on('exit', (code) => fail(new Error(`exited with code ${code} before listening`)));
    child.stderr!.on('data', (chunk: Buffer) => {
      output += chunk;
    });
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk;
      const match = /LISTENING (\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        child.removeAllListeners('exit');
        resolvePort({ child, port: Number(match[1]) });
      }
    });
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((done) => child.once('exit', done));
  child.kill();
  await exited;
}

describe('the packed library installed in a fresh app', () => {
  let packDir: string;
  let appDir: string;
  let lib: PackageJson;
  let tarballFiles: string[];
  const running: ChildProcess[] = [];

  beforeAll(async () => {
    lib = await readJson<PackageJson>(join(libDir, 'package.json'));
    const root = await readJson<PackageJson>(join(repo, 'package.json'));
    packDir = await mkdtemp(join(tmpdir(), 'nestjs-redis-session-pack-'));
    appDir = await mkdtemp(join(tmpdir(), 'nestjs-redis-session-app-'));

    // Runs the package's prepack (the library's build), as npm publish does.
    const packOutput = await step('npm pack of libs/session', 'npm', ['pack', '--json', '--pack-destination', packDir], libDir);
    // The prepack's own output may come first on stdout: the JSON report is the array after it.
    const packed = JSON.parse(packOutput.slice(packOutput.search(/^\[/m))) as [{ filename: string; files: { path: string }[] }];
    tarballFiles = packed[0].files.map((file) => file.path);

    const peers = Object.keys(lib.peerDependencies ?? {}).map((name) => pinned(root, name));
    // What any Nest HTTP app has besides: its platform and reflect-metadata; and its own compiler.
    const app = ['@nestjs/platform-express', 'reflect-metadata', 'typescript', '@types/node'].map((name) => pinned(root, name));
    await writeThrowawayApp(appDir);
    await step(
      'npm install of the packed library and its peers from the registry (is the npm registry reachable?)',
      'npm',
      ['install', '--no-audit', '--no-fund', join(packDir, packed[0].filename), ...peers, ...app],
      appDir,
    );
  }, 300_000);

  afterAll(async () => {
    await Promise.all(running.map(stop));
    await Promise.all([packDir, appDir].filter(Boolean).map((dir) => rm(dir, { recursive: true, force: true })));
  });

  it('holds the built dist with declarations, the README, LICENSE and CHANGELOG, and no sources or tests', () => {
    for (const file of ['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md', 'dist/index.js', 'dist/index.d.ts', 'dist/index.js.map']) {
      expect(tarballFiles).toContain(file);
    }
    expect(tarballFiles.filter((file) => /\.spec\.|(?<!\.d)\.ts$/.test(file))).toEqual([]);
  });

  it('ships source maps that carry their sources', async () => {
    const installed = join(appDir, 'node_modules/nestjs-redis-session');
    const maps = tarballFiles.filter((file) => file.endsWith('.js.map'));
    expect(maps.length).toBeGreaterThan(10);
    for (const file of maps) {
      const map = await readJson<{ sources: string[]; sourcesContent?: (string | null)[] }>(join(installed, file));
      expect({ file, contents: map.sourcesContent?.length, nonEmpty: map.sourcesContent?.every((text) => !!text) }).toEqual({
        file,
        contents: map.sources.length,
        nonEmpty: true,
      });
    }
  });

  it.each(['esm', 'cjs'] as const)(
    'the %s app: compiles with its own tsc, boots, and keeps a session attribute over real HTTP',
    async (format) => {
      await step(`tsc of the ${format} app`, process.execPath, [join('node_modules/typescript/bin/tsc'), '-p', `tsconfig.${format}.json`], appDir);
      const compiled = await readFile(join(appDir, format, 'main.js'), 'utf8');
      // The CommonJS build really require()s the ES module library; the ESM build imports it.
      expect(compiled).toContain(format === 'cjs' ? 'require("nestjs-redis-session")' : "from 'nestjs-redis-session'");

      const { child, port } = await boot(appDir, format);
      running.push(child);
      const base = `http://127.0.0.1:${port}`;

      expect(await (await fetch(`${base}/about`)).json()).toEqual({ name: lib.name, version: lib.version, format });

      const write = await fetch(`${base}/note?text=hello`, { method: 'POST' });
      expect(write.status).toBe(201);
      const cookie = write.headers.get('set-cookie');
      expect(cookie).toMatch(/^SESSION=[^;]+/);
      const sessionCookie = cookie!.split(';')[0];

      expect(await (await fetch(`${base}/note`, { headers: { cookie: sessionCookie } })).json()).toEqual({ note: 'hello' });
      expect(await (await fetch(`${base}/note`)).json()).toEqual({ note: null });
      await stop(child);
    },
    60_000,
  );
});
