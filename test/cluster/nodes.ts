// The fake nodes that kwok keeps Ready: general nodes for shared workloads and one-node dedicated pools.
//
// Every dedicated pool node carries the label `tenancy.dev/pool=<pool>` and the taint
// `tenancy.dev/pool=<pool>:NoSchedule`, so only pods that tolerate the pool and select it land there.

import type { V1Node } from "@kubernetes/client-node";

export const generalNodeCount = 2;
export const dedicatedPools = ["dedicated-a", "dedicated-b", "dedicated-c", "dedicated-d", "dedicated-e"] as const;
export const poolLabel = "tenancy.dev/pool";

// 2 x 4000 + 5 x 1500 = 15,500 pods in all.
const generalPodCapacity = 4000;
const dedicatedPodCapacity = 1500;

export function nodeManifests(): V1Node[] {
  const nodes: V1Node[] = [];
  for (let index = 1; index <= generalNodeCount; index++) {
    nodes.push(fakeNode(`general-${index}`, "general", generalPodCapacity, false));
  }
  for (const pool of dedicatedPools) {
    nodes.push(fakeNode(`${pool}-1`, pool, dedicatedPodCapacity, true));
  }
  return nodes;
}

function fakeNode(name: string, pool: string, pods: number, tainted: boolean): V1Node {
  const resources = { cpu: "1000", memory: "4Ti", pods: String(pods), "ephemeral-storage": "10Ti" };
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name,
      annotations: { "kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0" },
      labels: {
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "node-role.kubernetes.io/agent": "",
        type: "kwok",
        [poolLabel]: pool,
      },
    },
    spec: tainted ? { taints: [{ key: poolLabel, value: pool, effect: "NoSchedule" }] } : {},
    status: { allocatable: resources, capacity: resources },
  };
}
