// `npm run cluster -- up|down|status|kubeconfig`: one long-lived local cluster for the demo and for hands-on use.
//
// Its folder is fixed (under the system temp folder) so that later commands find it; `up` leaves the processes
// running after it returns, and `down` stops them and removes the folder.

import { existsSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { TestCluster, startCluster } from "./cluster.js";

const dir = process.env.TENANT_OPERATOR_CLUSTER_DIR ?? path.join(os.tmpdir(), "tenant-operator-cluster");
const infoFile = path.join(dir, "cluster.json");

function loadRunning(): TestCluster | undefined {
  if (!existsSync(infoFile)) return undefined;
  const cluster = TestCluster.load(infoFile);
  return Object.values(cluster.status()).includes("running") ? cluster : undefined;
}

async function main(command: string | undefined): Promise<number> {
  switch (command) {
    case "up": {
      const running = loadRunning();
      if (running) {
        console.log(`cluster already running; kubeconfig: ${running.info.adminKubeconfig}`);
        return 0;
      }
      const cluster = await startCluster({ dir, detached: true });
      console.log(`cluster up; use it with:\n  export KUBECONFIG=${cluster.info.adminKubeconfig}`);
      console.log(`  export PATH=${cluster.info.binDir}:$PATH   # the kubectl built for this cluster`);
      return 0;
    }
    case "down": {
      if (!existsSync(infoFile)) {
        console.log("no cluster to stop");
        return 0;
      }
      await TestCluster.load(infoFile).stop();
      console.log("cluster stopped and its folder removed");
      return 0;
    }
    case "status": {
      if (!existsSync(infoFile)) {
        console.log("no cluster");
        return 1;
      }
      const cluster = TestCluster.load(infoFile);
      for (const [component, state] of Object.entries(cluster.status())) console.log(`${component}: ${state}`);
      console.log(`server: ${cluster.info.server}\nkubeconfig: ${cluster.info.adminKubeconfig}\nlogs: ${dir}/logs`);
      return Object.values(cluster.status()).every((state) => state === "running") ? 0 : 1;
    }
    case "kubeconfig": {
      const running = loadRunning();
      if (!running) {
        console.error("no running cluster; start one with: npm run cluster -- up");
        return 1;
      }
      console.log(running.info.adminKubeconfig);
      return 0;
    }
    default:
      console.error("usage: npm run cluster -- up|down|status|kubeconfig");
      return 2;
  }
}

process.exitCode = await main(process.argv[2]);
