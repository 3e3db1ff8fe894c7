// Starts the one test cluster that every e2e test file shares, installs the operator's CRDs, RBAC and admission
// policies, and runs one operator process for all files; test files isolate themselves by names.
// Jest loads global setup with Node's own loader, not the test transform, so TypeScript is imported through tsx.
import { tsImport } from "tsx/esm/api";

export default async function globalSetup() {
  const { startCluster } = await tsImport("../cluster/cluster.ts", import.meta.url);
  const { installOperator, startOperator, waitForReady } = await tsImport("./support/operator.ts", import.meta.url);
  const cluster = await startCluster();
  globalThis.testCluster = cluster;
  await installOperator(cluster);
  const operator = await startOperator(cluster, "shared");
  globalThis.testOperator = operator;
  await waitForReady(operator);

  // Workers start after global setup and inherit the environment.
  process.env.TEST_CLUSTER_INFO = cluster.infoFile;
  process.env.TEST_OPERATOR_PROBE_URL = operator.probeUrl;
  process.env.TEST_OPERATOR_LOG = operator.logFile;
}
