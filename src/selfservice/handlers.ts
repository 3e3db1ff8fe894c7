// The handlers of the self-service API routes. Each one authorizes the caller for the tenant first (a tenant the
// caller may not see returns 404), takes a token from the caller's and the tenant's rate-limit buckets, and only
// then reads or writes TenantRequests with the operator's identity.

import type { Tenant, TenantRequest } from "../api/generated.js";
import type { UserInfo } from "../requests/approvers.js";
import { requestPhases, requestTypes } from "../requests/metrics.js";
import { ApiError } from "../runtime/client.js";
import { canDecide, canSee, canWriteRequests, ownerRoleOf, type TenantAccess } from "./authorization.js";
import type { TenantDirectory } from "./directory.js";
import type { PlatformEngineerCheck } from "./engineers.js";
import { typeLabel } from "./metrics.js";
import type { OpenApiDocument } from "./openapi.js";
import { ProblemError, type FieldError } from "./problem.js";
import type { KeyedRateLimiter } from "./rateLimit.js";
import { apiBasePath, type OperationId } from "./routeTable.js";
import type { BodyValidator, CreateRequestBody } from "./validation.js";
import { requestView, tenantDetail, tenantSummary } from "./views.js";

/** Fields of the audit line that handlers fill in as they learn them. */
export interface AuditFields {
  tenant?: string;
  request?: string;
  type?: string;
}

export interface CallContext {
  /** The authenticated caller; undefined only for routes without authentication. */
  user?: UserInfo;
  params: Record<string, string>;
  query: Record<string, unknown>;
  body: unknown;
  audit: AuditFields;
}

export interface HandlerResult {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export type Handler = (context: CallContext) => Promise<HandlerResult>;

export interface HandlerDependencies {
  directory: TenantDirectory;
  engineers: PlatformEngineerCheck;
  limiter: KeyedRateLimiter;
  validator: BodyValidator;
  openApi: OpenApiDocument;
}

interface TenantCall {
  user: UserInfo;
  tenant: Tenant;
  name: string;
  access: TenantAccess;
}

export class SelfServiceHandlers {
  constructor(private readonly deps: HandlerDependencies) {}

  /** Returns one handler for each operation of the route table. */
  handlers(): Record<OperationId, Handler> {
    return {
      getOpenApi: async () => ({ status: 200, body: this.deps.openApi }),
      listTenants: (context) => this.listTenants(context),
      getTenant: (context) => this.getTenant(context),
      listRequests: (context) => this.listRequests(context),
      createRequest: (context) => this.createRequest(context),
      getRequest: (context) => this.getRequest(context),
      cancelRequest: (context) => this.cancelRequest(context),
      approveRequest: (context) => this.decide(context, "Approved"),
      denyRequest: (context) => this.decide(context, "Denied"),
    };
  }

  private async listTenants(context: CallContext): Promise<HandlerResult> {
    const user = requireUser(context);
    this.takeToken(`caller:${user.username}`);
    const platformEngineer = await this.deps.engineers.isPlatformEngineer(user);
    const items = (await this.deps.directory.listTenants())
      .map((tenant) => ({
        tenant,
        access: { ownerRole: ownerRoleOf(user, tenant.spec.owners ?? []), platformEngineer },
      }))
      .filter(({ access }) => canSee(access))
      .sort((a, b) => a.tenant.metadata!.name!.localeCompare(b.tenant.metadata!.name!))
      .map(({ tenant, access }) => tenantSummary(tenant, withoutUndefined(access)));
    return { status: 200, body: { items } };
  }

  private async getTenant(context: CallContext): Promise<HandlerResult> {
    const { tenant, access } = await this.tenantCall(context);
    return { status: 200, body: tenantDetail(tenant, access) };
  }

  private async listRequests(context: CallContext): Promise<HandlerResult> {
    const call = await this.tenantCall(context);
    const filters = queryFilters(context.query);
    const namespaces = (await this.deps.directory.namespacesOf(call.tenant)).filter(
      (namespace) => !filters.namespace || namespace === filters.namespace,
    );
    const items = (await this.deps.directory.requestsOf(call.tenant, namespaces))
      .filter((request) => !filters.phase || request.status?.phase === filters.phase)
      .filter((request) => !filters.type || request.spec.type === filters.type)
      .map((request) => requestView(request, call.name));
    return { status: 200, body: { items } };
  }

  private async createRequest(context: CallContext): Promise<HandlerResult> {
    const call = await this.tenantCall(context);
    const spec = (context.body as { spec?: { type?: unknown } } | undefined)?.spec;
    context.audit.type = typeLabel(spec?.type);
    if (!canWriteRequests(call.access)) throw forbiddenToWrite(call, "create requests");
    if (call.tenant.metadata?.deletionTimestamp) {
      throw new ProblemError("conflict", `tenant "${call.name}" is being deleted; it takes no new requests`);
    }

    const validation = this.deps.validator.validateCreate(context.body);
    if (!validation.valid) {
      throw new ProblemError("validationFailed", "the request body does not match the CreateTenantRequest schema", {
        errors: validation.errors,
      });
    }
    const body = validation.value;
    const namespace = await this.namespaceFor(call, body);
    if (body.name) {
      const existing = await this.deps.directory.findRequests(call.tenant, body.name);
      if (existing.length > 0) {
        throw new ProblemError(
          "conflict",
          `tenant "${call.name}" already has a request named "${body.name}" in namespace ` +
            `"${existing[0]!.metadata!.namespace}"; choose another name`,
        );
      }
    }

    const created = await this.create(call, body, namespace);
    const name = created.metadata!.name!;
    context.audit.request = `${namespace}/${name}`;
    return {
      status: 201,
      body: requestView(created, call.name),
      headers: { location: `${apiBasePath}/tenants/${call.name}/requests/${name}` },
    };
  }

  private async getRequest(context: CallContext): Promise<HandlerResult> {
    const call = await this.tenantCall(context);
    const request = await this.requestOf(call, context);
    return { status: 200, body: requestView(request, call.name) };
  }

  private async cancelRequest(context: CallContext): Promise<HandlerResult> {
    const call = await this.tenantCall(context);
    if (!canWriteRequests(call.access)) throw forbiddenToWrite(call, "cancel requests");
    const request = await this.requestOf(call, context);
    context.audit.type = request.spec.type;
    context.audit.request = `${request.metadata!.namespace}/${request.metadata!.name}`;
    if (request.spec.cancelled === true) return { status: 200, body: requestView(request, call.name) };

    const updated = await this.deps.directory.patchRequestSpec(request, { cancelled: true });
    return { status: 200, body: requestView(updated, call.name) };
  }

  private async decide(context: CallContext, decision: "Approved" | "Denied"): Promise<HandlerResult> {
    const call = await this.tenantCall(context);
    const verb = decision === "Approved" ? "approve" : "deny";
    if (!canDecide(call.access)) {
      throw new ProblemError(
        "forbidden",
        `only platform engineers (allowed to approve tenantrequests in group tenancy.dev) may ${verb} requests; ` +
          `ask one to decide`,
      );
    }
    const validation = this.deps.validator.validateDecision(context.body);
    if (!validation.valid) {
      throw new ProblemError("validationFailed", "the request body does not match the Decision schema", {
        errors: validation.errors,
      });
    }
    const request = await this.requestOf(call, context);
    const key = `${request.metadata!.namespace}/${request.metadata!.name}`;
    context.audit.type = request.spec.type;
    context.audit.request = key;
    if (request.spec.cancelled === true) {
      throw new ProblemError("conflict", `request ${key} is cancelled; there is nothing to ${verb}`);
    }
    if (request.status?.phase === "Failed") {
      throw new ProblemError(
        "conflict",
        `request ${key} failed (${request.status.message ?? "no message"}); it cannot be decided`,
      );
    }
    // Deciding again the same way changes nothing, so a repeated approval provisions once.
    if (request.spec.approval?.decision === decision) return { status: 200, body: requestView(request, call.name) };

    const reason = validation.value.reason;
    const approval = { decision, by: call.user.username, ...(reason ? { reason } : {}) };
    // A merge patch keeps fields it does not name, so an earlier reason is removed explicitly.
    const patch = { approval: reason ? approval : { ...approval, reason: null } } as unknown as Partial<
      TenantRequest["spec"]
    >;
    const updated = await this.deps.directory.patchRequestSpec(request, patch);
    return { status: 200, body: requestView(updated, call.name) };
  }

  /**
   * Loads the tenant of the route and the caller's access to it. A tenant that does not exist, or that the caller
   * may not see, returns 404. Takes a token from the caller's bucket before the lookup and from the tenant's after.
   */
  private async tenantCall(context: CallContext): Promise<TenantCall> {
    const user = requireUser(context);
    this.takeToken(`caller:${user.username}`);
    const name = context.params.tenant ?? "";
    context.audit.tenant = name;

    const tenant = await this.deps.directory.getTenant(name);
    if (tenant) {
      const ownerRole = ownerRoleOf(user, tenant.spec.owners ?? []);
      const platformEngineer = await this.deps.engineers.isPlatformEngineer(user);
      const access = withoutUndefined({ ownerRole, platformEngineer });
      if (canSee(access)) {
        this.takeToken(`tenant:${name}`);
        return { user, tenant, name, access };
      }
    }
    throw new ProblemError("notFound", `tenant "${name}" not found`);
  }

  private async requestOf(call: TenantCall, context: CallContext): Promise<TenantRequest> {
    const name = context.params.name ?? "";
    const namespace = singleQueryValue(context.query, "namespace");
    const found = await this.deps.directory.findRequests(call.tenant, name, namespace);
    if (found.length === 0) throw new ProblemError("notFound", `request "${name}" not found in tenant "${call.name}"`);
    if (found.length > 1) {
      const namespaces = found.map((request) => request.metadata!.namespace).join(", ");
      throw new ProblemError(
        "conflict",
        `tenant "${call.name}" has requests named "${name}" in several namespaces (${namespaces}); add ?namespace=`,
      );
    }
    return found[0]!;
  }

  /** Picks the namespace of a new request: the one in the body, which must be Ready, or the first Ready one. */
  private async namespaceFor(call: TenantCall, body: CreateRequestBody): Promise<string> {
    const ready = await this.deps.directory.readyNamespacesOf(call.tenant);
    if (body.namespace) {
      if (ready.includes(body.namespace)) return body.namespace;
      throw new ProblemError("validationFailed", "the request body names a namespace the request cannot go to", {
        errors: [
          { pointer: "/namespace", detail: `"${body.namespace}" is not a Ready namespace of tenant "${call.name}"` },
        ],
      });
    }
    if (ready.length === 0) {
      throw new ProblemError(
        "conflict",
        `tenant "${call.name}" has no Ready namespace to hold the request; wait until one is Ready`,
      );
    }
    return ready[0]!;
  }

  private async create(call: TenantCall, body: CreateRequestBody, namespace: string): Promise<TenantRequest> {
    const metadata = body.name
      ? { name: body.name, namespace }
      : { generateName: `${body.spec.type.toLowerCase()}-`, namespace };
    try {
      return await this.deps.directory.createRequest({
        metadata,
        spec: { ...body.spec, requestedBy: { username: call.user.username, groups: call.user.groups } },
      });
    } catch (error) {
      if (error instanceof ApiError && error.status === 409) {
        throw new ProblemError("conflict", `a request named "${body.name}" already exists in namespace "${namespace}"`);
      }
      if (error instanceof ApiError && error.status === 422) {
        throw new ProblemError("validationFailed", "the API server rejected the request", {
          errors: fieldErrorsOf(error),
          cause: error,
        });
      }
      throw error;
    }
  }

  private takeToken(key: string): void {
    const decision = this.deps.limiter.take(key);
    if (decision.allowed) return;
    throw new ProblemError(
      "rateLimited",
      `too many requests for ${key.startsWith("tenant:") ? "this tenant" : "this caller"}; retry after ` +
        `${decision.retryAfterSeconds} s`,
      { headers: { "retry-after": String(decision.retryAfterSeconds) } },
    );
  }
}

function requireUser(context: CallContext): UserInfo {
  if (!context.user) throw new ProblemError("unauthenticated", "send a bearer token: Authorization: Bearer <token>");
  return context.user;
}

function forbiddenToWrite(call: TenantCall, what: string): ProblemError {
  const why = call.access.ownerRole
    ? `owners with role ${call.access.ownerRole} may only read; owners with role admin or edit ${what}`
    : `only the tenant's owners with role admin or edit ${what}; platform engineers approve or deny`;
  return new ProblemError("forbidden", `${why} (tenant "${call.name}")`);
}

function withoutUndefined(access: TenantAccess): TenantAccess {
  return access.ownerRole ? access : { platformEngineer: access.platformEngineer };
}

interface QueryFilters {
  phase?: string;
  type?: string;
  namespace?: string;
}

/** Reads the list filters; a repeated or unknown value is a 422 naming the parameter. */
function queryFilters(query: Record<string, unknown>): QueryFilters {
  const errors: FieldError[] = [];
  const read = (name: string, allowed?: readonly string[]): string | undefined => {
    const value = query[name];
    if (value === undefined) return undefined;
    if (typeof value !== "string") {
      errors.push({ parameter: name, detail: "must be given once, as a single value" });
      return undefined;
    }
    if (allowed && !allowed.includes(value)) {
      errors.push({ parameter: name, detail: `must be one of ${allowed.join(", ")}` });
      return undefined;
    }
    return value;
  };
  const filters = {
    phase: read("phase", requestPhases),
    type: read("type", requestTypes),
    namespace: read("namespace"),
  };
  if (errors.length > 0) throw new ProblemError("validationFailed", "invalid query parameters", { errors });
  return filters;
}

function singleQueryValue(query: Record<string, unknown>, name: string): string | undefined {
  const value = query[name];
  if (value === undefined) return undefined;
  if (typeof value !== "string") {
    throw new ProblemError("validationFailed", "invalid query parameters", {
      errors: [{ parameter: name, detail: "must be given once, as a single value" }],
    });
  }
  return value;
}

/** Turns the causes of an API server 422 into field errors; `spec.quota.hard.requests.cpu` becomes a pointer. */
function fieldErrorsOf(error: ApiError): FieldError[] {
  const causes = (error.details as { causes?: { field?: string; message?: string }[] } | undefined)?.causes ?? [];
  const errors = causes.map((cause) => ({
    pointer: pointerOfField(cause.field ?? ""),
    detail: cause.message ?? "is invalid",
  }));
  return errors.length > 0 ? errors : [{ pointer: "/spec", detail: error.message }];
}

function pointerOfField(field: string): string {
  // Keys of quota.hard contain dots themselves, so everything after it is one token.
  const hard = /^spec\.quota\.hard\.(.+)$/.exec(field);
  if (hard) return `/spec/quota/hard/${hard[1]!.replace(/~/g, "~0").replace(/\//g, "~1")}`;
  return field ? `/${field.split(".").join("/")}` : "";
}
