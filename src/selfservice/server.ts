// The self-service HTTPS server: express routes from the route table, bearer-token authentication, JSON bodies of
// at most 64 KiB, problem-detail errors, one audit line per write, and metrics on the operator's registry.
//
// It keeps no state besides rate-limit buckets and short-lived caches: every read and write goes to the API
// server, so any number of replicas can serve, leader or not.

import { readFileSync } from "node:fs";
import https from "node:https";
import type { AddressInfo } from "node:net";
import type * as k8s from "@kubernetes/client-node";
import express, { type NextFunction, type Request, type Response } from "express";
import type { Logger } from "pino";
import { ApproverCheck } from "../requests/approvers.js";
import { ApiError, KubeClient } from "../runtime/client.js";
import type { Clock } from "../runtime/clock.js";
import {
  BearerAuthenticator,
  OidcAuthenticator,
  TokenReviewAuthenticator,
  type OidcOptions,
} from "./authentication.js";
import { TenantDirectory } from "./directory.js";
import { PlatformEngineerCheck } from "./engineers.js";
import { SelfServiceHandlers, type AuditFields, type CallContext, type Handler } from "./handlers.js";
import { httpRequestDuration, httpRequests, outcomeOf, requestWrites, unmatchedRoute } from "./metrics.js";
import { buildOpenApiDocument } from "./openapi.js";
import { ProblemError, problemContentType } from "./problem.js";
import { KeyedRateLimiter } from "./rateLimit.js";
import { expressPath, routes, templatePath, type RouteSpec } from "./routeTable.js";
import { loadCrdSchemas } from "./schemas.js";
import { BodyValidator } from "./validation.js";

export interface SelfServiceOptions {
  kubeConfig: k8s.KubeConfig;
  address: { host: string; port: number };
  tlsCertFile: string;
  tlsKeyFile: string;
  oidc?: OidcOptions;
  rateLimit: { ratePerSecond: number; burst: number };
  /** Largest accepted request body, in bytes. */
  bodyLimitBytes?: number;
  log: Logger;
  clock?: Clock;
}

/** Body size limit: requests are small JSON objects, so 64 KiB leaves ample room. */
export const defaultBodyLimitBytes = 64 * 1024;

export class SelfServiceServer {
  private server: https.Server | undefined;
  private readonly log: Logger;
  private readonly authenticator: BearerAuthenticator;
  private readonly handlers: Record<string, Handler>;
  private readonly bodyLimitBytes: number;

  constructor(private readonly options: SelfServiceOptions) {
    this.log = options.log.child({ component: "selfservice" });
    // The API's own client: no leader-election write gate, since every replica serves the API.
    const client = new KubeClient(options.kubeConfig, { fieldManager: "tenant-operator-api" });
    this.authenticator = new BearerAuthenticator(
      new TokenReviewAuthenticator(client),
      options.oidc ? new OidcAuthenticator(options.oidc) : undefined,
    );
    const crd = loadCrdSchemas();
    this.handlers = new SelfServiceHandlers({
      directory: new TenantDirectory(client),
      engineers: new PlatformEngineerCheck(new ApproverCheck(client), 10_000, options.clock),
      limiter: new KeyedRateLimiter({ ...options.rateLimit, clock: options.clock }),
      validator: new BodyValidator(crd),
      openApi: buildOpenApiDocument(crd, "v1"),
    }).handlers();
    this.bodyLimitBytes = options.bodyLimitBytes ?? defaultBodyLimitBytes;
  }

  /** Listens on the configured address (port 0 picks a free one) and returns the port. */
  async start(): Promise<number> {
    const tls = {
      cert: readFileSync(this.options.tlsCertFile),
      key: readFileSync(this.options.tlsKeyFile),
      minVersion: "TLSv1.2" as const,
    };
    this.server = https.createServer(tls, this.buildApp());
    const { host, port } = this.options.address;
    await new Promise<void>((resolve, reject) => {
      this.server!.once("error", reject);
      this.server!.listen(port, host, resolve);
    });
    const actual = (this.server.address() as AddressInfo).port;
    this.log.info({ host, port: actual, oidcIssuer: this.options.oidc?.issuerUrl }, "self-service API listening");
    return actual;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server!.close(resolve));
    this.log.info("self-service API stopped");
  }

  private buildApp(): express.Express {
    const app = express();
    app.disable("x-powered-by");
    app.disable("etag");
    app.set("query parser", "simple");
    app.use((request, response, next) => this.observe(request, response, next));

    const json = express.json({ limit: this.bodyLimitBytes, type: ["application/json", "application/*+json"] });
    for (const route of routes) {
      const steps = [
        (_request: Request, response: Response, next: NextFunction) => {
          response.locals.route = templatePath(route);
          next();
        },
        ...(route.write ? [this.auditor(route)] : []),
        ...(route.authenticated ? [this.authenticate()] : []),
        ...(route.requestBody ? [requireJsonBody(route), json] : []),
        this.dispatch(route),
      ];
      app[route.method](expressPath(route), ...steps);
    }

    app.use((request: Request) => {
      throw new ProblemError("notFound", `no route ${request.method} ${request.path}`);
    });
    app.use((error: unknown, request: Request, response: Response, _next: NextFunction) =>
      this.sendError(error, request, response),
    );
    return app;
  }

  private authenticate() {
    // NOTE: tokens are checked before any rate limit, because the buckets are keyed by caller and tenant. A flood of
    // invalid tokens therefore reaches the API server as TokenReviews, bounded only by the API server's own limits.
    return async (request: Request, response: Response, next: NextFunction): Promise<void> => {
      response.locals.user = await this.authenticator.authenticate(request.headers.authorization);
      next();
    };
  }

  private dispatch(route: RouteSpec) {
    const handler = this.handlers[route.operationId]!;
    return async (request: Request, response: Response): Promise<void> => {
      const context: CallContext = {
        user: response.locals.user,
        params: request.params as Record<string, string>,
        query: request.query as Record<string, unknown>,
        body: request.body,
        audit: response.locals.audit ?? {},
      };
      const result = await handler(context);
      response
        .status(result.status)
        .set(result.headers ?? {})
        .json(result.body);
    };
  }

  /** Returns the middleware that writes one audit line and counts one write metric for each write. */
  private auditor(route: RouteSpec) {
    return (request: Request, response: Response, next: NextFunction): void => {
      const audit: AuditFields = { tenant: request.params.tenant as string | undefined };
      response.locals.audit = audit;
      response.on("finish", () => {
        const outcome = outcomeOf(response.statusCode);
        const user = response.locals.user as { username: string } | undefined;
        requestWrites.inc({ type: audit.type ?? "unknown", action: route.write!, outcome });
        this.log.info(
          {
            audit: true,
            user: user?.username,
            tenant: audit.tenant,
            action: route.write,
            request: audit.request ?? request.params.name,
            type: audit.type,
            outcome,
            status: response.statusCode,
          },
          "api write",
        );
      });
      next();
    };
  }

  private observe(request: Request, response: Response, next: NextFunction): void {
    const started = performance.now();
    response.on("finish", () => {
      const route = (response.locals.route as string | undefined) ?? unmatchedRoute;
      const method = request.method;
      const seconds = (performance.now() - started) / 1000;
      httpRequests.inc({ route, method, code: String(response.statusCode) });
      httpRequestDuration.observe({ route, method }, seconds);
      this.log.debug(
        { route, method, status: response.statusCode, durationMs: Math.round(seconds * 1000) },
        "api request",
      );
    });
    next();
  }

  private sendError(error: unknown, request: Request, response: Response): void {
    const problem = this.problemOf(error, request);
    if (response.headersSent) {
      this.log.error({ err: error, path: request.path }, "api error after the response started");
      return;
    }
    response
      .status(problem.problem.status)
      .set(problem.headers)
      .type(problemContentType)
      .send(JSON.stringify(problem.problem));
  }

  /** Maps any error to a problem. Errors the caller cannot fix are logged, and the response leaves out internals. */
  private problemOf(error: unknown, request: Request): ProblemError {
    if (error instanceof ProblemError) {
      if (error.problem.status >= 500) this.log.warn({ err: error.cause ?? error, path: request.path }, error.message);
      return error;
    }
    const bodyError = error as { type?: string; status?: number };
    switch (bodyError.type) {
      case "entity.too.large":
        return new ProblemError("payloadTooLarge", `the request body exceeds ${this.bodyLimitBytes} bytes`);
      case "entity.parse.failed":
        return new ProblemError("malformedRequest", "the request body is not valid JSON");
      case "encoding.unsupported":
      case "charset.unsupported":
        return new ProblemError("unsupportedMediaType", "send the body as UTF-8 JSON without content encoding");
    }
    if (error instanceof ApiError && error.status === 409) {
      return new ProblemError("conflict", "the request changed meanwhile; read it again and retry");
    }
    if (error instanceof ApiError && error.status === 404) {
      return new ProblemError("notFound", "the object is gone; it was deleted meanwhile");
    }
    const unavailable = !(error instanceof ApiError) || error.status >= 500 || error.status === 429;
    this.log.error({ err: error, path: request.path, method: request.method }, "api request failed");
    return unavailable
      ? new ProblemError("upstreamUnavailable", "the Kubernetes API server did not respond as expected; retry shortly")
      : new ProblemError("internal", "the operator could not complete the request; see the operator's log");
  }
}

/** A body with a media type other than JSON is a 415; no body at all is left to the handler. */
function requireJsonBody(route: RouteSpec) {
  return (request: Request, _response: Response, next: NextFunction): void => {
    const hasBody =
      Number(request.headers["content-length"] ?? 0) > 0 || request.headers["transfer-encoding"] !== undefined;
    if (hasBody && !request.is(["application/json", "application/*+json"])) {
      throw new ProblemError(
        "unsupportedMediaType",
        `send the ${route.requestBody!.schema} body as application/json (got ${request.headers["content-type"] ?? "none"})`,
      );
    }
    next();
  };
}
