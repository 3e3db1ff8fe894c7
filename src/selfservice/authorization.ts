// Who may do what through the self-service API. The rules are pure, and whether a caller is a platform engineer
// comes from a SubjectAccessReview that the caller of these functions makes.
//
// A caller sees a tenant when it is one of the tenant's owners or a platform engineer; to anyone else the tenant
// does not exist (404), so tenant names never leak. Owners with role admin or edit create and cancel requests,
// as the tenant roles let them do with kubectl; role view only reads. Only platform engineers decide requests.

import type { UserInfo } from "../requests/approvers.js";
import type { Owner } from "../tenant/effective.js";

export type OwnerRole = "admin" | "edit" | "view";

/** The rights of one caller on one tenant. */
export interface TenantAccess {
  /** The caller's highest owner role, or undefined when it is not an owner. */
  ownerRole?: OwnerRole;
  platformEngineer: boolean;
}

const roleRank: Record<OwnerRole, number> = { view: 1, edit: 2, admin: 3 };

/**
 * Returns whether `owner` names `user`: a User by exact username, a Group by membership, and a ServiceAccount only
 * by its full username system:serviceaccount:NAMESPACE:NAME, so two service accounts with the same name in
 * different namespaces never match each other's tenants.
 */
export function ownerMatches(user: UserInfo, owner: Owner): boolean {
  switch (owner.kind) {
    case "User":
      return user.username === owner.name;
    case "Group":
      return user.groups.includes(owner.name);
    case "ServiceAccount":
      return (
        owner.namespace !== undefined && user.username === `system:serviceaccount:${owner.namespace}:${owner.name}`
      );
  }
}

/** Returns the highest role of `user` among `owners`, or undefined when none names it. */
export function ownerRoleOf(user: UserInfo, owners: readonly Owner[]): OwnerRole | undefined {
  let best: OwnerRole | undefined;
  for (const owner of owners) {
    if (!ownerMatches(user, owner)) continue;
    const role = owner.role ?? "admin";
    if (!best || roleRank[role] > roleRank[best]) best = role;
  }
  return best;
}

export function canSee(access: TenantAccess): boolean {
  return access.ownerRole !== undefined || access.platformEngineer;
}

/** Creating and cancelling requests: owners with role admin or edit. */
export function canWriteRequests(access: TenantAccess): boolean {
  return access.ownerRole === "admin" || access.ownerRole === "edit";
}

/** Approving and denying requests: platform engineers. */
export function canDecide(access: TenantAccess): boolean {
  return access.platformEngineer;
}
