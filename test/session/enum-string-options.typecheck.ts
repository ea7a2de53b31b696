// Compiled by `npm run typecheck` (never run): the option types take FlushMode/SaveMode and their strings, nothing else.
import { EnableRedisHttpSession, FlushMode, InMemorySessionRepository, SaveMode, type SessionModuleOptions } from 'nestjs-redis-session';

export const fromEnums: SessionModuleOptions = { flushMode: FlushMode.IMMEDIATE, saveMode: SaveMode.ALWAYS };
export const fromStrings: SessionModuleOptions = { flushMode: 'IMMEDIATE', saveMode: 'ON_GET_ATTRIBUTE' };
export const module = EnableRedisHttpSession.forRoot({ flushMode: 'ON_SAVE', saveMode: 'ALWAYS' });
export const repository = new InMemorySessionRepository({ flushMode: 'IMMEDIATE', saveMode: 'ON_SET_ATTRIBUTE' });

// @ts-expect-error: not a FlushMode
export const wrongFlush: SessionModuleOptions = { flushMode: 'immediate' };
// @ts-expect-error: not a SaveMode
export const wrongSave: SessionModuleOptions = { saveMode: 'SOMETIMES' };
// @ts-expect-error: not a FlushMode, in the repository's options too
export const wrongRepository = new InMemorySessionRepository({ flushMode: 'NEVER' });
