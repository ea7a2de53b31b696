export default async function globalTeardown() {
  await globalThis.__SESSION_TEST_REDIS__?.stop();
}
