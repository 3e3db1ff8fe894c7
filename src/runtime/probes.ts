// The operator's HTTP endpoints for Prometheus and the kubelet: /metrics, /healthz and /readyz.
//
// /healthz answers 200 while the process runs. /readyz answers 200 only once every registered check passes
// (informer caches synced), and lists the failing checks otherwise, as kube-apiserver's /readyz does.

import http from "node:http";
import type { Logger } from "pino";
import { registry } from "./metrics.js";

export type ReadyCheck = { name: string; check: () => boolean };

export class ProbeServer {
  private readonly checks: ReadyCheck[] = [];
  private server: http.Server | undefined;

  constructor(private readonly log: Logger) {}

  addReadyCheck(name: string, check: () => boolean): void {
    this.checks.push({ name, check });
  }

  /** Listens on `host:port` (port 0 picks a free one) and returns the port. */
  async listen(port: number, host: string): Promise<number> {
    this.server = http.createServer((request, response) => void this.handle(request, response));
    await new Promise<void>((resolve, reject) => {
      this.server!.once("error", reject);
      this.server!.listen(port, host, resolve);
    });
    const actual = (this.server.address() as { port: number }).port;
    this.log.info({ host, port: actual }, "probe server listening");
    return actual;
  }

  async close(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server!.close(resolve));
  }

  private async handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const path = new URL(request.url ?? "/", "http://localhost").pathname;
    if (path === "/metrics") {
      response.writeHead(200, { "content-type": registry.contentType });
      response.end(await registry.metrics());
      return;
    }
    if (path === "/healthz" || path === "/livez") {
      response.writeHead(200, { "content-type": "text/plain" });
      response.end("ok");
      return;
    }
    if (path === "/readyz") {
      const failing = this.checks.filter((check) => !check.check()).map((check) => check.name);
      response.writeHead(failing.length === 0 ? 200 : 503, { "content-type": "text/plain" });
      response.end(failing.length === 0 ? "ok" : failing.map((name) => `[-]${name} failed`).join("\n") + "\n");
      return;
    }
    response.writeHead(404, { "content-type": "text/plain" });
    response.end("not found");
  }
}
