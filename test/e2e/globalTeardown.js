// Stops the shared operator and test cluster; keeps the cluster folder (logs, audit log) when TEST_KEEP_CLUSTER
// is set.
export default async function globalTeardown() {
  await globalThis.testOperator?.stop();
  await globalThis.testCluster?.stop({ keepData: process.env.TEST_KEEP_CLUSTER !== undefined });
}
