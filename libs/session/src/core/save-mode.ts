/** Which attributes a save writes back (Spring's SaveMode). */
export enum SaveMode {
  /** Only attributes passed to `set`/`remove`: the default, and the cheapest. */
  ON_SET_ATTRIBUTE = 'ON_SET_ATTRIBUTE',
  /** Also attributes that were read, so in-place mutations of read objects are kept. */
  ON_GET_ATTRIBUTE = 'ON_GET_ATTRIBUTE',
  /** Every attribute, on every save. */
  ALWAYS = 'ALWAYS',
}
