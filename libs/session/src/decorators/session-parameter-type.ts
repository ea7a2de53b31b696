import { HttpSession } from '../core/http-session.js';

// TypeScript's emitted parameter types (what Nest hands pipes as `metatype`).
const PARAMTYPES = 'design:paramtypes';

/**
 * Parameter-decorator enhancer of `@Session()`: records the parameter's type as `Object` when it is
 * `HttpSession` (or a subclass). A global `ValidationPipe({ transform: true, validateCustomDecorators:
 * true })` validates every class-typed parameter: it would `plainToInstance(HttpSession, session)`,
 * which calls the constructor without its arguments (a 500), and at best hand the handler a copy
 * cut off from the request. The session is not client input; `Object` is a type the pipe skips.
 * Decorators run after the compiler's `design:paramtypes` metadata is defined (tsc and SWC both
 * list it last), so it is there to rewrite; without emitted metadata there is nothing to do.
 */
export function sessionParameterType(target: object, key: string | symbol | undefined, index: number): void {
  if (key === undefined) return;
  const types: unknown[] | undefined = Reflect.getOwnMetadata(PARAMTYPES, target, key);
  const type = types?.[index];
  if (typeof type !== 'function' || (type !== HttpSession && !(type.prototype instanceof HttpSession))) return;
  // A copy: the array may be shared with whatever else has read it.
  const rewritten = [...(types as unknown[])];
  rewritten[index] = Object;
  Reflect.defineMetadata(PARAMTYPES, rewritten, target, key);
}
