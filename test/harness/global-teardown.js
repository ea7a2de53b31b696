export default async function globalTeardown() {
  try {
    await globalThis.__SESSION_TEST_REDIS__?.stop();
  } catch (error) {
    // Thrown from here, it would stop jest before it writes its results (--json): say it, and fail the run.
    console.error(`\n${error instanceof Error ? error.message : error}\n`);
    process.exitCode = 1;
  }
}
