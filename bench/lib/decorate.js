// Decorators for the plain-JavaScript bench servers, applied by hand as TypeScript would apply `@`.

/** Applies method decorators, and parameter decorators in order of the method's parameters. */
export function decorateMethod(target, method, decorators, parameters = []) {
  for (const [index, parameter] of parameters.entries()) parameter(target.prototype, method, index);
  Reflect.decorate(decorators, target.prototype, method, Object.getOwnPropertyDescriptor(target.prototype, method));
}
