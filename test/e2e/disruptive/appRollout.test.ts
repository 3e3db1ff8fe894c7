// Rollouts of the shared app across ten tenants. They run on a cluster and operator of their own, because they
// change the channel version that every tenant follows. Waves move the canaries first, then at most waveSize
// tenants, each wave only after the previous one runs the new version. A version that cannot become Available
// halts at the first wave, and the other tenants stay where they were.
import * as k8s from "@kubernetes/client-node";
import type { SharedApp, SharedAppSpec } from "../../../src/api/generated.js";
import { startCluster, type TestCluster } from "../../cluster/cluster.js";
import { eventually } from "../support/cluster.js";
import {
  installOperator,
  metricValue,
  startOperator,
  waitForReady,
  type OperatorProcess,
} from "../support/operator.js";
import { applySharedApp, platformNamespace, readSharedApp, readSlice, readyIps } from "../support/app.js";
import { applyTenant, readTenant, waitForReady as waitForTenantReady } from "../support/tenants.js";

let cluster: TestCluster;
let operator: OperatorProcess;

const followers = Array.from({ length: 10 }, (_, index) => `roll-${String(index + 1).padStart(2, "0")}`);
const pinned = "roll-pinned";
const dedicated = followers[9]!;

const baseSpec: SharedAppSpec = {
  image: { repository: "registry.example/shop" },
  channelVersion: "1.0.0",
  supportedVersions: ["1.0.0", "2.0.0", "3.0.0"],
  replicas: 1,
  resources: { requests: { cpu: "10m", memory: "16Mi" }, limits: { cpu: "50m", memory: "32Mi" } },
  rollout: { canaryTenants: [followers[0]!], waveSize: 3, waveTimeoutSeconds: 15 },
};

beforeAll(async () => {
  cluster = await startCluster();
  await installOperator(cluster);
  operator = await startOperator(cluster, "rollout", ["--leader-elect=false"]);
  await waitForReady(operator);
  await applySharedApp(cluster, baseSpec);
  for (const name of followers) {
    await applyTenant(cluster, name, {
      namespaces: [{ name: "app" }],
      ...(name === dedicated ? { app: { mode: "Dedicated" as const } } : {}),
    });
  }
  await applyTenant(cluster, pinned, { namespaces: [{ name: "app" }], app: { version: "1.0.0" } });
  for (const name of [...followers, pinned]) await waitForTenantReady(cluster, name, 120_000);
});

afterAll(async () => {
  await operator?.stop();
  await cluster?.stop();
});

/** Polls the SharedApp until `done` holds, checking on every poll that no wave started before the last one ended. */
async function watchRollout(target: string, done: (app: SharedApp) => boolean): Promise<SharedApp> {
  return eventually(
    `rollout to ${target}`,
    async () => {
      const app = (await readSharedApp(cluster))!;
      const status = app.status!;
      const wave = status.currentWave ?? 0;
      for (const entry of status.tenants ?? []) {
        // A tenant of an earlier wave runs the target before any later wave starts.
        if (entry.wave !== undefined && entry.wave < wave && status.targetVersion === target) {
          expect([entry.name, entry.runningVersion]).toEqual([entry.name, target]);
        }
      }
      return done(app) ? app : undefined;
    },
    180_000,
    100,
  );
}

describe("shared app rollout", () => {
  test("new channel version moves tenants in waves", async () => {
    await applySharedApp(cluster, { ...baseSpec, channelVersion: "2.0.0" });

    const app = await watchRollout(
      "2.0.0",
      (current) =>
        current.status?.phase === "Complete" &&
        current.status.targetVersion === "2.0.0" &&
        followers.every(
          (name) => current.status!.tenants!.find((entry) => entry.name === name)?.runningVersion === "2.0.0",
        ),
    );

    const entries = app.status!.tenants!;
    const waveOf = (name: string): number | undefined => entries.find((entry) => entry.name === name)?.wave;
    expect(waveOf(followers[0]!)).toBe(0);
    const waves = new Map<number, string[]>();
    for (const name of followers.slice(1)) waves.set(waveOf(name)!, [...(waves.get(waveOf(name)!) ?? []), name]);
    expect([...waves.keys()].sort()).toEqual([1, 2, 3]);
    expect([...waves.values()].map((names) => names.length)).toEqual([3, 3, 3]);
    expect(entries.find((entry) => entry.name === pinned)).toMatchObject({
      pinned: true,
      assignedVersion: "1.0.0",
      runningVersion: "1.0.0",
    });
    expect(app.status!.laneVersions).toBe("1.0.0,2.0.0");

    // Dedicated instances move in the same waves; the pinned tenant stays on its lane.
    const dedicatedTenant = await readTenant(cluster, dedicated);
    expect(dedicatedTenant!.status!.app).toEqual({ mode: "Dedicated", version: "2.0.0", readyReplicas: 1 });
    const apps = cluster.adminKubeConfig().makeApiClient(k8s.AppsV1Api);
    const instance = await apps.readNamespacedDeployment({ name: "app-dedicated", namespace: `${dedicated}-app` });
    expect(instance.spec!.template.spec!.containers[0]!.image).toBe("registry.example/shop:2.0.0");
    expect((await readTenant(cluster, pinned))!.status!.app!.version).toBe("1.0.0");
    await eventually("lane app-1-0-0 still serves the pinned tenant only", async () => {
      const slice = await readSlice(cluster, `${pinned}-app`);
      return slice?.metadata?.labels?.["tenancy.dev/app-version"] === "1.0.0" && readyIps(slice).length === 1;
    });
  });

  test("version that cannot become Available halts at the first wave", async () => {
    await applySharedApp(cluster, {
      ...baseSpec,
      channelVersion: "3.0.0",
      versionOverrides: { "3.0.0": { nodeSelector: { "tenancy.dev/pool": "nowhere" } } },
    });

    const app = await eventually(
      "rollout to 3.0.0 halted",
      async () => {
        const current = (await readSharedApp(cluster))!;
        return current.status?.targetVersion === "3.0.0" && current.status.phase === "Halted" ? current : undefined;
      },
      120_000,
    );

    const status = app.status!;
    expect(status.currentWave).toBe(0);
    expect(status.waveTenants).toEqual([followers[0]]);
    expect(status.message).toContain(
      `rollout to 3.0.0 halted: wave 0 did not become Available within 15s; tenants not running 3.0.0: ${followers[0]}`,
    );
    expect(status.message).toContain("pods cannot be scheduled");
    expect(status.conditions!.find((condition) => condition.type === "RolloutHalted")).toMatchObject({
      status: "True",
      reason: "WaveTimedOut",
    });
    for (const entry of status.tenants!) {
      if (entry.name === followers[0])
        expect(entry).toMatchObject({ assignedVersion: "3.0.0", runningVersion: "2.0.0" });
      else if (entry.name !== pinned)
        expect(entry).toMatchObject({ assignedVersion: "2.0.0", runningVersion: "2.0.0" });
    }

    // The canary is still served by the 2.0.0 lane, and metrics report the halt.
    const canarySlice = await readSlice(cluster, `${followers[0]}-app`);
    expect(canarySlice!.metadata!.labels!["tenancy.dev/app-version"]).toBe("2.0.0");
    expect(readyIps(canarySlice)).toHaveLength(1);
    expect(await metricValue(operator.probeUrl, "tenancy_rollout_phase", { phase: "Halted" })).toBe(1);
    expect(await metricValue(operator.probeUrl, "tenancy_rollout_current_wave")).toBe(0);
    expect(await metricValue(operator.probeUrl, "tenancy_rollout_waves_total", { result: "timed_out" })).toBe(1);

    // Going back to 2.0.0 moves the canary back and removes the 3.0.0 lane.
    await applySharedApp(cluster, { ...baseSpec, channelVersion: "2.0.0" });
    await watchRollout(
      "2.0.0",
      (current) =>
        current.status?.phase === "Complete" &&
        current.status.targetVersion === "2.0.0" &&
        current.status.laneVersions === "1.0.0,2.0.0",
    );
    const apps = cluster.adminKubeConfig().makeApiClient(k8s.AppsV1Api);
    await eventually("lane app-3-0-0 removed", async () => {
      const list = await apps.listNamespacedDeployment({ namespace: platformNamespace });
      return !list.items.some((each) => each.metadata!.name === "app-3-0-0");
    });
  });
});
