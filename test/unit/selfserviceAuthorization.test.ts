// Unit tests of the self-service API's authorization rules.
import { describe, expect, test } from "@jest/globals";
import { canDecide, canSee, canWriteRequests, ownerMatches, ownerRoleOf } from "../../src/selfservice/authorization.js";
import { groupsImpliedBy } from "../../src/requests/approvers.js";

const alice = { username: "alice", groups: ["team-a", "system:authenticated"] };
const ciInA = { username: "system:serviceaccount:team-a:ci", groups: ["system:serviceaccounts"] };
const ciInB = { username: "system:serviceaccount:team-b:ci", groups: ["system:serviceaccounts"] };

describe("ownerMatches", () => {
  test("user owner matches the exact username", () => {
    expect(ownerMatches(alice, { kind: "User", name: "alice" })).toBe(true);
    expect(ownerMatches(alice, { kind: "User", name: "Alice" })).toBe(false);
    expect(ownerMatches(alice, { kind: "User", name: "team-a" })).toBe(false);
  });

  test("group owner matches by membership", () => {
    expect(ownerMatches(alice, { kind: "Group", name: "team-a" })).toBe(true);
    expect(ownerMatches(alice, { kind: "Group", name: "alice" })).toBe(false);
  });

  test("service account owner matches namespace and name", () => {
    const owner = { kind: "ServiceAccount" as const, name: "ci", namespace: "team-a" };

    expect(ownerMatches(ciInA, owner)).toBe(true);
    expect(ownerMatches(ciInB, owner)).toBe(false);
  });

  test("service account owner never matches by name alone", () => {
    const nameOnly = { username: "ci", groups: [] };

    expect(ownerMatches(nameOnly, { kind: "ServiceAccount", name: "ci", namespace: "team-a" })).toBe(false);
    expect(ownerMatches(ciInA, { kind: "ServiceAccount", name: "ci" })).toBe(false);
    expect(ownerMatches(ciInA, { kind: "User", name: "ci" })).toBe(false);
  });

  test("service account group does not make a service account owner", () => {
    expect(ownerMatches(ciInA, { kind: "ServiceAccount", name: "ci", namespace: "system:serviceaccounts" })).toBe(
      false,
    );
  });
});

describe("ownerRoleOf", () => {
  test("highest role among matching owners wins", () => {
    const owners = [
      { kind: "Group" as const, name: "team-a", role: "view" as const },
      { kind: "User" as const, name: "alice", role: "edit" as const },
      { kind: "User" as const, name: "bob", role: "admin" as const },
    ];

    expect(ownerRoleOf(alice, owners)).toBe("edit");
  });

  test("role defaults to admin", () => {
    expect(ownerRoleOf(alice, [{ kind: "User", name: "alice" }])).toBe("admin");
  });

  test("no matching owner has no role", () => {
    expect(ownerRoleOf(ciInB, [{ kind: "ServiceAccount", name: "ci", namespace: "team-a" }])).toBeUndefined();
  });
});

describe("access rules", () => {
  test("owners and platform engineers see the tenant, others do not", () => {
    expect(canSee({ ownerRole: "view", platformEngineer: false })).toBe(true);
    expect(canSee({ platformEngineer: true })).toBe(true);
    expect(canSee({ platformEngineer: false })).toBe(false);
  });

  test("admin and edit owners write requests, view owners and engineers do not", () => {
    expect(canWriteRequests({ ownerRole: "admin", platformEngineer: false })).toBe(true);
    expect(canWriteRequests({ ownerRole: "edit", platformEngineer: false })).toBe(true);
    expect(canWriteRequests({ ownerRole: "view", platformEngineer: true })).toBe(false);
    expect(canWriteRequests({ platformEngineer: true })).toBe(false);
  });

  test("only platform engineers decide, owners included", () => {
    expect(canDecide({ ownerRole: "admin", platformEngineer: false })).toBe(false);
    expect(canDecide({ platformEngineer: true })).toBe(true);
    expect(canDecide({ ownerRole: "admin", platformEngineer: true })).toBe(true);
  });
});

describe("groupsImpliedBy", () => {
  test("user gets system:authenticated only", () => {
    expect(groupsImpliedBy("oidc:pe")).toEqual(["system:authenticated"]);
  });

  test("service account gets its service-account groups", () => {
    expect(groupsImpliedBy("system:serviceaccount:ops:approver")).toEqual([
      "system:authenticated",
      "system:serviceaccounts",
      "system:serviceaccounts:ops",
    ]);
  });
});
