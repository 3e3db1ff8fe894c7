// The informer against a real API server that is restarted under it, with and without a compacted etcd.
// Runs on a cluster of its own, because restarting the API server would break every other test.
import { KubeClient, type KubeObject } from "../../../src/runtime/client.js";
import { Informer } from "../../../src/runtime/informer.js";
import { silentLogger } from "../../../src/runtime/logger.js";
import { Resources } from "../../../src/runtime/resources.js";
import { startCluster, type TestCluster } from "../../cluster/cluster.js";
import { eventually, uniqueName } from "../support/cluster.js";

let cluster: TestCluster;
let client: KubeClient;

beforeAll(async () => {
  cluster = await startCluster();
  client = new KubeClient(cluster.adminKubeConfig(), { fieldManager: "informer-test" });
});

afterAll(async () => {
  client?.close();
  await cluster?.stop();
});

interface Recorded {
  adds: string[];
  updates: string[];
  deletes: string[];
}

function record(informer: Informer<KubeObject>): Recorded {
  const recorded: Recorded = { adds: [], updates: [], deletes: [] };
  informer.addHandlers({
    onAdd: (object) => recorded.adds.push(object.metadata!.name!),
    onUpdate: (_old, object) => recorded.updates.push(object.metadata!.name!),
    onDelete: (object) => recorded.deletes.push(object.metadata!.name!),
  });
  return recorded;
}

async function createConfigMaps(namespace: string, label: string, names: string[]): Promise<void> {
  for (const name of names) {
    await client.create(Resources.configMap, {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name, namespace, labels: { set: label } },
    });
  }
}

async function namespaceFor(prefix: string): Promise<string> {
  const namespace = uniqueName(prefix);
  await client.create(Resources.namespace, { apiVersion: "v1", kind: "Namespace", metadata: { name: namespace } });
  return namespace;
}

/** Retries `work` until the API server serves requests again after a restart. */
async function whenServing(work: () => Promise<unknown>): Promise<void> {
  await eventually(
    "API server serving",
    async () => {
      await work();
      return true;
    },
    60_000,
    100,
  );
}

function count(names: string[], name: string): number {
  return names.filter((candidate) => candidate === name).length;
}

describe("informer", () => {
  test("synced signal waits for the first list", async () => {
    const namespace = await namespaceFor("sync");
    const names = Array.from({ length: 120 }, (_, index) => `cm-${index}`);
    await createConfigMaps(namespace, "sync", names);

    const informer = new Informer<KubeObject>(client, Resources.configMap, silentLogger(), {
      labelSelector: "set=sync",
    });
    const recorded = record(informer);
    informer.start();
    expect(informer.hasSynced()).toBe(false);
    expect(informer.list()).toHaveLength(0);

    await informer.waitForSync();
    expect(informer.hasSynced()).toBe(true);
    expect(informer.list()).toHaveLength(120);
    expect(recorded.adds).toHaveLength(120);
    expect(Object.isFrozen(informer.get(`${namespace}/cm-0`))).toBe(true);
    expect(Object.isFrozen(informer.get(`${namespace}/cm-0`)!.metadata)).toBe(true);
    await informer.stop();
  });

  test("watch broken by an API server restart delivers missed changes once", async () => {
    const namespace = await namespaceFor("restart");
    await createConfigMaps(namespace, "restart", ["keep", "gone-1", "gone-2"]);
    // A long first retry leaves a window in which the server is back but the informer is not yet connected.
    const informer = new Informer<KubeObject>(client, Resources.configMap, silentLogger(), {
      labelSelector: "set=restart",
      backoffMs: [3000, 3000],
    });
    const recorded = record(informer);
    informer.start();
    await informer.waitForSync();

    await cluster.restartApiServer();
    await whenServing(() => createConfigMaps(namespace, "restart", ["new-1"]));
    await createConfigMaps(namespace, "restart", ["new-2"]);
    await client.delete(Resources.configMap, "gone-1", namespace);
    await client.delete(Resources.configMap, "gone-2", namespace);

    await eventually("cache caught up", async () => {
      const names = informer
        .list()
        .map((object) => object.metadata!.name)
        .sort();
      return JSON.stringify(names) === JSON.stringify(["keep", "new-1", "new-2"]);
    });
    expect(count(recorded.adds, "new-1")).toBe(1);
    expect(count(recorded.adds, "new-2")).toBe(1);
    expect(count(recorded.adds, "keep")).toBe(1);
    expect(count(recorded.deletes, "gone-1")).toBe(1);
    expect(count(recorded.deletes, "gone-2")).toBe(1);
    expect(recorded.updates).not.toContain("keep");
    await informer.stop();
  });

  test("410 Gone after compaction leads to a relist", async () => {
    const namespace = await namespaceFor("gone");
    await createConfigMaps(namespace, "gone", ["a"]);
    const informer = new Informer<KubeObject>(client, Resources.configMap, silentLogger(), {
      labelSelector: "set=gone",
      backoffMs: [3000, 3000],
    });
    const recorded = record(informer);
    informer.start();
    await informer.waitForSync();
    expect(informer.listCount).toBe(1);

    // Changes the informer never sees as events, then a compaction that forgets the revision it watched from.
    await createConfigMaps(
      namespace,
      "other",
      Array.from({ length: 20 }, (_, index) => `noise-${index}`),
    );
    await cluster.restartApiServer();
    await whenServing(() => createConfigMaps(namespace, "gone", ["b"]));
    await client.delete(Resources.configMap, "a", namespace);
    await cluster.compactEtcd();

    await eventually("cache caught up", async () => {
      const names = informer.list().map((object) => object.metadata!.name);
      return names.length === 1 && names[0] === "b";
    });
    expect(informer.listCount).toBeGreaterThanOrEqual(2);
    expect(count(recorded.adds, "b")).toBe(1);
    expect(count(recorded.deletes, "a")).toBe(1);
    expect(count(recorded.adds, "a")).toBe(1);
    await informer.stop();
  });

  test("periodic relist heals a silent watch", async () => {
    const namespace = await namespaceFor("silent");
    const informer = new Informer<KubeObject>(client, Resources.configMap, silentLogger(), {
      labelSelector: "set=silent",
      relistIntervalMs: 1000,
    });
    const recorded = record(informer);
    informer.start();
    await informer.waitForSync();

    // A paused API server keeps connections open but sends nothing: the watch goes silent, not broken.
    cluster.signalComponent("kube-apiserver", "SIGSTOP");
    await new Promise((resolve) => setTimeout(resolve, 2500));
    cluster.signalComponent("kube-apiserver", "SIGCONT");
    await whenServing(() => createConfigMaps(namespace, "silent", ["after-pause"]));

    await eventually("object seen", async () => informer.get(`${namespace}/after-pause`) !== undefined);
    expect(informer.listCount).toBeGreaterThanOrEqual(2);
    expect(count(recorded.adds, "after-pause")).toBe(1);
    await informer.stop();
  });
});
