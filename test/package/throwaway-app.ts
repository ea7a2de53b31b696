import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The two builds of the throwaway app: the same Nest app as an ES module and as CommonJS. */
export type AppFormat = 'esm' | 'cjs';

/**
 * The source of a small Nest app as a user writes it against the installed package: a controller
 * with @Session(), the module on the in-memory store, and the package's own package.json read
 * through its exports. It listens on a free loopback port and prints `LISTENING <port>`.
 */
function appSource(format: AppFormat): string {
  // A JSON import needs an import attribute in an ES module; CommonJS simply requires it.
  const packageJson =
    format === 'esm'
      ? `import pkg from 'nestjs-redis-session/package.json' with { type: 'json' };`
      : `import pkg = require('nestjs-redis-session/package.json');`;
  return `import 'reflect-metadata';
import { Controller, Get, Module, Post, Query } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { EnableRedisHttpSession, HttpSession, Session } from 'nestjs-redis-session';
${packageJson}

@Controller()
class NoteController {
  @Post('note')
  write(@Session() session: HttpSession<{ note: string }>, @Query('text') text: string) {
    session.set('note', text);
    return { written: text };
  }

  @Get('note')
  read(@Session({ create: false }) session?: HttpSession<{ note: string }>) {
    return { note: session?.get('note') ?? null };
  }

  @Get('about')
  about() {
    // typeof module: 'object' only where Node loaded this file as CommonJS.
    return { name: pkg.name, version: pkg.version, format: typeof module === 'undefined' ? 'esm' : 'cjs' };
  }
}

@Module({
  imports: [EnableRedisHttpSession.forRoot({ store: 'memory' })],
  controllers: [NoteController],
})
class AppModule {}

async function main() {
  const app = await NestFactory.create(AppModule, { logger: ['error', 'warn'] });
  app.enableShutdownHooks();
  await app.listen(0, '127.0.0.1');
  console.log('LISTENING ' + app.getHttpServer().address().port);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
`;
}

function tsconfig(format: AppFormat): object {
  return {
    compilerOptions: {
      target: 'ES2023',
      // nodenext in both: each file's format follows its nearest package.json "type".
      module: 'nodenext',
      moduleResolution: 'nodenext',
      strict: true,
      experimentalDecorators: true,
      emitDecoratorMetadata: true,
      resolveJsonModule: true,
      esModuleInterop: true,
      skipLibCheck: true,
      types: ['node'],
    },
    include: [`${format}/*.ts`],
  };
}

/**
 * Writes the app into `dir`: esm/main.ts (under the app's "type": "module") and cjs/main.ts
 * (under a "type": "commonjs" package.json), each compiled in place by its own tsconfig.
 */
export async function writeThrowawayApp(dir: string): Promise<void> {
  const json = (value: object) => `${JSON.stringify(value, null, 2)}\n`;
  await writeFile(join(dir, 'package.json'), json({ name: 'packed-install-app', private: true, type: 'module' }));
  for (const format of ['esm', 'cjs'] as const) {
    await mkdir(join(dir, format));
    await writeFile(join(dir, format, 'main.ts'), appSource(format));
    await writeFile(join(dir, `tsconfig.${format}.json`), json(tsconfig(format)));
  }
  await writeFile(join(dir, 'cjs', 'package.json'), json({ type: 'commonjs' }));
}
