/** Injection token of the resolved (validated, defaults filled in) module options. */
export const SESSION_OPTIONS = Symbol('SESSION_OPTIONS');
/** Logger context of everything the library logs. */
export const LOGGER_CONTEXT = 'SessionModule';
/** How long a store operation may wait for Redis by default (option `commandTimeoutMs`). */
export const DEFAULT_COMMAND_TIMEOUT_MS = 2000;
