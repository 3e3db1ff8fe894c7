// The self-service API as a process of its own (`--api-only`): no caches, no controllers and no leader election,
// only the HTTPS API and the probe server with /metrics, /healthz and /readyz.

import * as k8s from "@kubernetes/client-node";
import type { Logger } from "pino";
import { ProbeServer } from "../runtime/probes.js";
import { SelfServiceServer, type SelfServiceOptions } from "./server.js";

export interface ApiOnlyOptions {
  api: Omit<SelfServiceOptions, "kubeConfig" | "log">;
  probeAddress: { host: string; port: number };
  kubeConfig?: k8s.KubeConfig;
  log: Logger;
}

export interface RunningApi {
  apiPort: number;
  probePort: number;
  stop(): Promise<void>;
}

/** Starts the probe server and the API; ready as soon as the API listens. */
export async function startApiOnly(options: ApiOnlyOptions): Promise<RunningApi> {
  const kubeConfig = options.kubeConfig ?? defaultKubeConfig();
  const api = new SelfServiceServer({ ...options.api, kubeConfig, log: options.log });
  const probes = new ProbeServer(options.log);
  let listening = false;
  probes.addReadyCheck("api-listening", () => listening);
  const probePort = await probes.listen(options.probeAddress.port, options.probeAddress.host);
  const apiPort = await api.start();
  listening = true;
  return {
    apiPort,
    probePort,
    async stop() {
      await api.stop();
      await probes.close();
    },
  };
}

function defaultKubeConfig(): k8s.KubeConfig {
  const kubeConfig = new k8s.KubeConfig();
  kubeConfig.loadFromDefault();
  return kubeConfig;
}
