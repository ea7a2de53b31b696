export const CHROMIUM_PATH: string;
export const CHROMIUM_ARGS: string[];
/** Installs Debian's chromium when missing (root + apt); returns its path. */
export function ensureChromiumInstalled(): string;
