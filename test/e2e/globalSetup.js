// Starts the one test cluster that every e2e test file shares; test files isolate themselves by names.
// Jest loads global setup with Node's own loader, not the test transform, so the TypeScript launcher is
// imported through tsx.
import { tsImport } from "tsx/esm/api";

export default async function globalSetup() {
  const { startCluster } = await tsImport("../cluster/cluster.ts", import.meta.url);
  const cluster = await startCluster();
  globalThis.testCluster = cluster;
  // Workers start after global setup and inherit the environment.
  process.env.TEST_CLUSTER_INFO = cluster.infoFile;
}
