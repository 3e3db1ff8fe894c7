// Authentication of self-service API callers by bearer token. A JWT whose issuer is the configured OIDC issuer is
// verified against that issuer's JWKS; any other token goes to the API server in a TokenReview, which accepts
// service-account tokens and whatever else the cluster authenticates.
//
// OIDC usernames and groups get a prefix (default "oidc:"), as kube-apiserver's --oidc-username-prefix does, so an
// external identity can never pose as a service account or a system group.

import { readFileSync } from "node:fs";
import https from "node:https";
import { createRemoteJWKSet, customFetch, decodeJwt, errors as joseErrors, jwtVerify, type JWTPayload } from "jose";
import type { UserInfo } from "../requests/approvers.js";
import type { KubeClient } from "../runtime/client.js";
import { ProblemError } from "./problem.js";

/** The token is invalid: expired, wrongly signed, for another audience, or unknown. The API returns 401. */
export class InvalidTokenError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "InvalidTokenError";
  }
}

/** The token could not be checked because the API server or the issuer did not respond. The API returns 503. */
export class AuthenticatorUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "AuthenticatorUnavailableError";
  }
}

export interface TokenAuthenticator {
  /** Returns the caller of a valid token; throws InvalidTokenError or AuthenticatorUnavailableError. */
  authenticate(token: string): Promise<UserInfo>;
}

interface TokenReviewStatus {
  status?: { authenticated?: boolean; user?: { username?: string; groups?: string[] }; error?: string };
}

/** Checks tokens with the API server's TokenReview API. */
export class TokenReviewAuthenticator implements TokenAuthenticator {
  constructor(private readonly client: KubeClient) {}

  async authenticate(token: string): Promise<UserInfo> {
    let review: TokenReviewStatus;
    try {
      review = await this.client.post<TokenReviewStatus>("/apis/authentication.k8s.io/v1/tokenreviews", {
        apiVersion: "authentication.k8s.io/v1",
        kind: "TokenReview",
        spec: { token },
      });
    } catch (error) {
      throw new AuthenticatorUnavailableError("TokenReview failed; the API server did not check the token", {
        cause: error,
      });
    }
    const user = review.status?.user;
    if (review.status?.authenticated !== true || !user?.username) {
      throw new InvalidTokenError("the Kubernetes token is not valid: expired, revoked or not issued by this cluster");
    }
    return { username: user.username, groups: user.groups ?? [] };
  }
}

export interface OidcOptions {
  /** Issuer URL, exactly as in the tokens' iss claim; https only. */
  issuerUrl: string;
  /** The audience (client id) tokens must carry. */
  audience: string;
  usernameClaim: string;
  groupsClaim: string;
  usernamePrefix: string;
  groupsPrefix: string;
  /** PEM file of the CA that signs the issuer's certificate; the system CAs when left out. */
  caFile?: string;
  /** Accepted clock skew for exp and nbf, in seconds. */
  clockToleranceSeconds?: number;
}

type HttpsGet = (url: string, signal?: AbortSignal) => Promise<{ status: number; body: string; contentType: string }>;

const asymmetricAlgorithms = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"];

/** Verifies JWTs of one OIDC issuer with the keys its discovery document points to. */
export class OidcAuthenticator implements TokenAuthenticator {
  private keys: Promise<ReturnType<typeof createRemoteJWKSet>> | undefined;
  private readonly get: HttpsGet;

  constructor(private readonly options: OidcOptions) {
    if (new URL(options.issuerUrl).protocol !== "https:") {
      throw new Error(`invalid OIDC issuer URL "${options.issuerUrl}": it must use https`);
    }
    this.get = httpsGetter(options.caFile ? readFileSync(options.caFile) : undefined);
  }

  get issuer(): string {
    return this.options.issuerUrl;
  }

  async authenticate(token: string): Promise<UserInfo> {
    const keys = await this.keySet();
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys, {
        issuer: this.options.issuerUrl,
        audience: this.options.audience,
        algorithms: asymmetricAlgorithms,
        clockTolerance: this.options.clockToleranceSeconds ?? 5,
        requiredClaims: ["exp"],
      }));
    } catch (error) {
      if (error instanceof joseErrors.JWKSTimeout || !(error instanceof joseErrors.JOSEError)) {
        throw new AuthenticatorUnavailableError(`fetching the keys of OIDC issuer ${this.options.issuerUrl} failed`, {
          cause: error,
        });
      }
      throw new InvalidTokenError(`the OIDC token is not valid: ${invalidReason(error)}`, { cause: error });
    }
    return this.userOf(payload);
  }

  private userOf(payload: JWTPayload): UserInfo {
    const { usernameClaim, groupsClaim, usernamePrefix, groupsPrefix } = this.options;
    const name = payload[usernameClaim];
    if (typeof name !== "string" || name === "") {
      throw new InvalidTokenError(`the OIDC token has no string claim "${usernameClaim}" to name the user`);
    }
    if (usernameClaim === "email" && payload.email_verified === false) {
      throw new InvalidTokenError("the OIDC token's email is not verified (email_verified is false)");
    }
    const username = usernamePrefix + name;
    if (username.startsWith("system:")) {
      throw new InvalidTokenError(`the OIDC username "${username}" is reserved for Kubernetes system users`);
    }
    const claimed = payload[groupsClaim];
    const rawGroups = typeof claimed === "string" ? [claimed] : Array.isArray(claimed) ? claimed : [];
    const groups = rawGroups
      .filter((group): group is string => typeof group === "string" && group !== "")
      .map((group) => groupsPrefix + group)
      .filter((group) => !group.startsWith("system:"));
    return { username, groups };
  }

  /** Discovers the JWKS URL once; a failed discovery is tried again on the next token. */
  private keySet(): Promise<ReturnType<typeof createRemoteJWKSet>> {
    if (!this.keys) {
      this.keys = this.discover().catch((error: unknown) => {
        this.keys = undefined;
        throw new AuthenticatorUnavailableError(`OIDC discovery of ${this.options.issuerUrl} failed`, { cause: error });
      });
    }
    return this.keys;
  }

  private async discover(): Promise<ReturnType<typeof createRemoteJWKSet>> {
    const url = `${this.options.issuerUrl.replace(/\/$/, "")}/.well-known/openid-configuration`;
    const response = await this.get(url);
    if (response.status !== 200) throw new Error(`GET ${url} returned ${response.status}`);
    const document = JSON.parse(response.body) as { issuer?: string; jwks_uri?: string };
    if (document.issuer !== this.options.issuerUrl) {
      throw new Error(`${url} names issuer "${document.issuer}", expected "${this.options.issuerUrl}"`);
    }
    if (!document.jwks_uri || new URL(document.jwks_uri).protocol !== "https:") {
      throw new Error(`${url} has no https jwks_uri`);
    }
    const fetchJwks = async (resource: string, init: { signal: AbortSignal }): Promise<Response> => {
      const result = await this.get(resource, init.signal);
      return new Response(result.body, { status: result.status, headers: { "content-type": result.contentType } });
    };
    return createRemoteJWKSet(new URL(document.jwks_uri), { [customFetch]: fetchJwks });
  }
}

function invalidReason(error: InstanceType<typeof joseErrors.JOSEError>): string {
  switch (error.code) {
    case "ERR_JWT_EXPIRED":
      return "it has expired";
    case "ERR_JWS_SIGNATURE_VERIFICATION_FAILED":
    case "ERR_JWKS_NO_MATCHING_KEY":
      return "its signature does not verify with the issuer's keys";
    case "ERR_JWT_CLAIM_VALIDATION_FAILED":
      return (error as InstanceType<typeof joseErrors.JWTClaimValidationFailed>).claim === "aud"
        ? "it is not issued for this API (audience)"
        : `claim "${(error as InstanceType<typeof joseErrors.JWTClaimValidationFailed>).claim}" is invalid`;
    default:
      return "it is malformed or uses an algorithm the API does not accept";
  }
}

const maxResponseBytes = 1024 * 1024;

/** GET over https only, with an optional CA, a 5 s timeout and a 1 MiB cap; redirects are not followed. */
function httpsGetter(ca: Buffer | undefined): HttpsGet {
  return (url, signal) =>
    new Promise((resolve, reject) => {
      if (new URL(url).protocol !== "https:") {
        reject(new Error(`refusing to fetch ${url}: only https is allowed`));
        return;
      }
      const request = https.get(url, { ca, timeout: 5_000, signal }, (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on("data", (chunk: Buffer) => {
          size += chunk.length;
          if (size > maxResponseBytes)
            request.destroy(new Error(`${url} returned more than ${maxResponseBytes} bytes`));
          else chunks.push(chunk);
        });
        response.on("end", () =>
          resolve({
            status: response.statusCode ?? 0,
            body: Buffer.concat(chunks).toString("utf8"),
            contentType: String(response.headers["content-type"] ?? "application/json"),
          }),
        );
        response.on("error", reject);
      });
      request.on("timeout", () => request.destroy(new Error(`GET ${url} timed out after 5 s`)));
      request.on("error", reject);
    });
}

/**
 * Reads the bearer token of a request and authenticates it. Throws a ProblemError with 401 for a missing or
 * invalid token, and with 503 when no authenticator could check it.
 */
export class BearerAuthenticator {
  constructor(
    private readonly kubernetes: TokenAuthenticator,
    private readonly oidc?: TokenAuthenticator & { readonly issuer: string },
  ) {}

  async authenticate(authorization: string | undefined): Promise<UserInfo> {
    const match = /^Bearer\s+([A-Za-z0-9\-._~+/]+=*)\s*$/i.exec(authorization ?? "");
    if (!match) {
      throw new ProblemError("unauthenticated", "send a bearer token: Authorization: Bearer <token>", {
        headers: { "www-authenticate": 'Bearer realm="tenant-operator"' },
      });
    }
    const token = match[1]!;
    try {
      return await this.authenticatorFor(token).authenticate(token);
    } catch (error) {
      if (error instanceof InvalidTokenError) {
        throw new ProblemError("unauthenticated", error.message, {
          headers: { "www-authenticate": 'Bearer realm="tenant-operator", error="invalid_token"' },
        });
      }
      throw new ProblemError("upstreamUnavailable", "the token could not be checked now; try again shortly", {
        cause: error,
      });
    }
  }

  private authenticatorFor(token: string): TokenAuthenticator {
    if (!this.oidc) return this.kubernetes;
    try {
      return decodeJwt(token).iss === this.oidc.issuer ? this.oidc : this.kubernetes;
    } catch {
      // Not a JWT: only the API server can know it.
      return this.kubernetes;
    }
  }
}
