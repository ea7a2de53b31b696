import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * apps/chat/public, found from this file whether it runs from the TypeScript sources
 * (apps/chat/src, under the tests) or from the build (dist/apps/chat/apps/chat/src, beside the library's).
 */
export function publicDir(): string {
  const candidates = ['../public', '../../../../../../apps/chat/public'].map((relative) => fileURLToPath(new URL(relative, import.meta.url)));
  const found = candidates.find((dir) => existsSync(`${dir}/index.html`));
  if (!found) throw new Error(`The chat page was not found; looked in ${candidates.join(' and ')}`);
  return found;
}
