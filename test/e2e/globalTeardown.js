// Stops the shared test cluster; keeps its folder (logs, audit log) when TEST_KEEP_CLUSTER is set.
export default async function globalTeardown() {
  await globalThis.testCluster?.stop({ keepData: process.env.TEST_KEEP_CLUSTER !== undefined });
}
