#!/usr/bin/env node
// Type-checks every ```ts block of README.md and docs/*.md against the library's public API, so the
// examples users copy compile. Each block is its own module and writes the imports it needs. A
// file-name comment line (`// auth.controller.ts`) starts a file of that name, so that one block can
// show two files and the blocks of one page can import each other (`./auth.controller.js`).
// Escape hatch, as rarely as possible: an HTML comment on the line before a block,
//   <!-- snippet: fragment -->       class members (a handler or two), compiled in a class after the
//                                    prelude below, for an excerpt that reads better without its class;
//   <!-- snippet: skip <reason> -->  not compiled (say why).
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(root, '.scratch', 'snippets');

// What a fragment may use without importing it: Nest's route decorators, the library's session API,
// and the placeholder types the docs' login examples take. `this.<service>` is the class's `any`.
const PRELUDE = [
  "import { Body, Controller, Get, HttpCode, Post, Req, Res } from '@nestjs/common';",
  "import type { Request, Response } from 'express';",
  "import { HttpSession, PRINCIPAL_NAME_INDEX_NAME, Session } from 'nestjs-redis-session';",
  'type Credentials = { user: string; password: string };',
  'type UserSession = { userId: string };',
  'export { Body, Controller, Get, HttpCode, Post, Req, Res, HttpSession, PRINCIPAL_NAME_INDEX_NAME, Session };',
  'export type { Credentials, Request, Response, UserSession };',
].join('\n');

// The pages to check: README.md and docs/*.md, or the Markdown files named on the command line.
const sources = process.argv.length > 2
  ? process.argv.slice(2).map((file) => relative(root, resolve(file)))
  : ['README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`)];

/** Every ```ts block of a Markdown file: its first code line (1-based), its code and its directive. */
function blocksOf(file) {
  const lines = readFileSync(join(root, file), 'utf8').split('\n');
  const blocks = [];
  for (let i = 0; i < lines.length; i++) {
    if (!/^```ts\s*$/.test(lines[i])) continue;
    const directive = /^<!--\s*snippet:\s*(fragment|skip)\b\s*(.*?)\s*-->\s*$/.exec(lines[i - 1] ?? '');
    if (directive?.[1] === 'skip' && !directive[2]) throw new Error(`${file}:${i}: "snippet: skip" needs a reason`);
    const start = i + 1;
    let end = start;
    while (end < lines.length && !/^```\s*$/.test(lines[end])) end++;
    if (end === lines.length) throw new Error(`${file}:${i + 1}: unclosed \`\`\`ts block`);
    blocks.push({ file, line: start + 1, code: lines.slice(start, end).join('\n'), mode: directive?.[1] ?? 'module' });
    i = end;
  }
  return blocks;
}

/**
 * The files of a block: a line `// name.ts` (also `// After (name.ts): ...`) starts one, so one block
 * can show `app.module.ts` and `main.ts`; a block without such a line is one unnamed file.
 */
function filesOf(block) {
  const files = [];
  block.code.split('\n').forEach((text, i) => {
    const named = /^\/\/\s*(?:\w+\s+\()?([\w.-]+(?:\/[\w.-]+)*\.ts)\)?(?:\s*[:,].*)?$/.exec(text);
    if (named || i === 0) files.push({ name: named?.[1], line: block.line + i, lines: [] });
    files[files.length - 1].lines.push(text);
  });
  return files.map(({ lines, ...file }) => ({ ...file, code: lines.join('\n') }));
}

const blocks = sources.flatMap(blocksOf);
rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });

const compiled = [];
let skipped = 0;
for (const block of blocks) {
  if (block.mode === 'skip') {
    skipped++;
    continue;
  }
  for (const part of filesOf(block)) {
    const name = `${block.file.replace(/\.md$/, '').replace(/[/.]/g, '_').replace(/^_+/, '')}/${part.name ?? `L${part.line}.ts`}`;
    if (compiled.some((b) => b.name === name)) throw new Error(`${block.file}:${part.line}: a second file named ${part.name}`);
    // The prelude and the class line sit above a fragment's code; the line mapping below accounts for them.
    const text = block.mode === 'fragment' ? `${PRELUDE}\nexport class Fragment {\n  [member: string]: any;\n${part.code}\n}\n` : `${part.code}\nexport {};\n`;
    const offset = block.mode === 'fragment' ? PRELUDE.split('\n').length + 2 : 0;
    mkdirSync(dirname(join(outDir, name)), { recursive: true });
    writeFileSync(join(outDir, name), text);
    compiled.push({ ...block, ...part, name, offset });
  }
}

// The root tsconfig's options (strict, decorators, the `paths` entry for the library), on these files only.
writeFileSync(
  join(outDir, 'tsconfig.json'),
  JSON.stringify(
    {
      extends: relative(outDir, join(root, 'tsconfig.json')),
      compilerOptions: { noEmit: true, rootDir: relative(outDir, root), types: ['node'], noUnusedLocals: false },
      include: ['**/*.ts'],
      exclude: [],
    },
    null,
    2,
  ),
);

let output = '';
try {
  execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(outDir, 'tsconfig.json'), '--pretty', 'false'], {
    cwd: root,
    encoding: 'utf8',
  });
} catch (error) {
  output = `${error.stdout ?? ''}${error.stderr ?? ''}`;
  if (!output) throw error;
}

// tsc reports `file(line,col): error TSxxxx: message`; map each back to the Markdown line.
const failures = new Map();
const byName = new Map(compiled.map((b) => [b.name, b]));
const other = [];
for (const message of output.split('\n').filter(Boolean)) {
  const match = /^(.+?\.ts)\((\d+),(\d+)\): (.*)$/.exec(message);
  const block = match && byName.get(relative(outDir, resolve(root, match[1])));
  if (!block) {
    if (!/^\s/.test(message)) other.push(message);
    else if (other.length) other[other.length - 1] += `\n${message}`;
    continue;
  }
  const markdownLine = block.line + Number(match[2]) - 1 - block.offset;
  const list = failures.get(block) ?? [];
  list.push(`  ${block.file}:${markdownLine}:${match[3]} ${match[4]}`);
  failures.set(block, list);
}

for (const [block, messages] of failures) {
  console.log(`\n✗ ${block.file}:${block.line} (${block.mode})`);
  console.log(messages.join('\n'));
  console.log(block.code.split('\n').map((l, i) => `    ${String(block.line + i).padStart(4)} | ${l}`).join('\n'));
}
if (other.length) console.log(`\n${other.join('\n')}`);
const failed = failures.size + (other.length && !failures.size ? 1 : 0);
console.log(`\n${compiled.length - failures.size} snippet files compile, ${failures.size} fail; ${skipped} blocks skipped (${blocks.length} \`\`\`ts blocks in ${sources.length} pages)`);
process.exit(failed ? 1 : 0);
