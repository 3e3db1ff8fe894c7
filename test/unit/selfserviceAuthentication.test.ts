// Unit tests of bearer-token handling: which authenticator gets a token and how failures map to problems.
import { describe, expect, test } from "@jest/globals";
import { SignJWT, generateKeyPair } from "jose";
import type { UserInfo } from "../../src/requests/approvers.js";
import {
  AuthenticatorUnavailableError,
  BearerAuthenticator,
  InvalidTokenError,
  type TokenAuthenticator,
} from "../../src/selfservice/authentication.js";
import { ProblemError } from "../../src/selfservice/problem.js";

const issuer = "https://127.0.0.1:9/issuer";

class Recording implements TokenAuthenticator {
  readonly tokens: string[] = [];
  constructor(
    private readonly result: UserInfo | Error,
    readonly issuer = "",
  ) {}
  async authenticate(token: string): Promise<UserInfo> {
    this.tokens.push(token);
    if (this.result instanceof Error) throw this.result;
    return this.result;
  }
}

async function jwt(iss: string): Promise<string> {
  const { privateKey } = await generateKeyPair("ES256");
  return new SignJWT({}).setProtectedHeader({ alg: "ES256" }).setIssuer(iss).setExpirationTime("1h").sign(privateKey);
}

async function problemOf(call: Promise<unknown>): Promise<ProblemError> {
  try {
    await call;
  } catch (error) {
    if (error instanceof ProblemError) return error;
    throw error;
  }
  throw new Error("expected a ProblemError");
}

describe("BearerAuthenticator", () => {
  test("JWT of the OIDC issuer goes to OIDC", async () => {
    const kube = new Recording({ username: "kube", groups: [] });
    const oidc = new Recording({ username: "oidc:alice", groups: [] }, issuer);
    const token = await jwt(issuer);

    const user = await new BearerAuthenticator(kube, oidc).authenticate(`Bearer ${token}`);

    expect(user.username).toBe("oidc:alice");
    expect(oidc.tokens).toEqual([token]);
    expect(kube.tokens).toEqual([]);
  });

  test("JWT of another issuer goes to the API server", async () => {
    const kube = new Recording({ username: "system:serviceaccount:a:b", groups: [] });
    const oidc = new Recording({ username: "never", groups: [] }, issuer);

    const user = await new BearerAuthenticator(kube, oidc).authenticate(
      `Bearer ${await jwt("https://kubernetes.default.svc")}`,
    );

    expect(user.username).toBe("system:serviceaccount:a:b");
    expect(oidc.tokens).toEqual([]);
  });

  test("opaque token goes to the API server", async () => {
    const kube = new Recording({ username: "static", groups: [] });

    await new BearerAuthenticator(kube, new Recording({ username: "x", groups: [] }, issuer)).authenticate(
      "Bearer abc123",
    );

    expect(kube.tokens).toEqual(["abc123"]);
  });

  test.each([undefined, "", "Basic dXNlcjpwYXNz", "Bearer", "Bearer two tokens"])(
    "missing or malformed header %p is 401",
    async (header) => {
      const problem = await problemOf(
        new BearerAuthenticator(new Recording({ username: "x", groups: [] })).authenticate(header),
      );

      expect(problem.problem.status).toBe(401);
      expect(problem.headers["www-authenticate"]).toBe('Bearer realm="tenant-operator"');
    },
  );

  test("invalid token is 401 with invalid_token", async () => {
    const kube = new Recording(new InvalidTokenError("the Kubernetes token is not valid"));

    const problem = await problemOf(new BearerAuthenticator(kube).authenticate("Bearer abc"));

    expect(problem.problem.status).toBe(401);
    expect(problem.problem.detail).toBe("the Kubernetes token is not valid");
    expect(problem.headers["www-authenticate"]).toContain('error="invalid_token"');
  });

  test("unreachable authenticator is 503", async () => {
    const kube = new Recording(new AuthenticatorUnavailableError("TokenReview failed"));

    const problem = await problemOf(new BearerAuthenticator(kube).authenticate("Bearer abc"));

    expect(problem.problem.status).toBe(503);
    expect(problem.problem.detail).not.toContain("abc");
  });
});
