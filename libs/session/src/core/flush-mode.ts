/** When a session's changes reach the repository (Spring's FlushMode). */
export enum FlushMode {
  /** Written once, when the request or message handler is done (or on an explicit `save()`). */
  ON_SAVE = 'ON_SAVE',
  /** Every `set`/`remove`/interval change is written at once. */
  IMMEDIATE = 'IMMEDIATE',
}
