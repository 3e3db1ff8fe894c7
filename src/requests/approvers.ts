// Who may decide TenantRequests: platform engineers, the users allowed the verb `approve` on `tenantrequests` in
// group tenancy.dev across the cluster, as CertificateSigningRequest approvers are. Asked with a SubjectAccessReview,
// so the result follows whatever RBAC (or another authorizer) the cluster uses.

import type { KubeClient } from "../runtime/client.js";

/** An authenticated caller: the username and groups the authenticator returned. */
export interface UserInfo {
  username: string;
  groups: string[];
}

interface SubjectAccessReviewStatus {
  status?: { allowed?: boolean; denied?: boolean; reason?: string; evaluationError?: string };
}

const reviewPath = "/apis/authorization.k8s.io/v1/subjectaccessreviews";

/** Builds the SubjectAccessReview asking whether `user` may approve tenantrequests in every namespace. */
export function approveReview(user: UserInfo): Record<string, unknown> {
  return {
    apiVersion: "authorization.k8s.io/v1",
    kind: "SubjectAccessReview",
    spec: {
      user: user.username,
      groups: user.groups,
      resourceAttributes: { group: "tenancy.dev", resource: "tenantrequests", verb: "approve" },
    },
  };
}

/**
 * Returns the groups that every user with this name has for sure: system:authenticated, and for a service account
 * system:serviceaccounts and system:serviceaccounts:NAMESPACE. Used where only a username is recorded
 * (spec.approval.by), so an approver allowed only through another group is not confirmed.
 */
export function groupsImpliedBy(username: string): string[] {
  const groups = ["system:authenticated"];
  const serviceAccount = /^system:serviceaccount:([^:]+):[^:]+$/.exec(username);
  if (serviceAccount) groups.push("system:serviceaccounts", `system:serviceaccounts:${serviceAccount[1]}`);
  return groups;
}

export class ApproverCheck {
  constructor(private readonly client: KubeClient) {}

  /** Returns whether `user` may approve tenantrequests; throws when the review itself fails. */
  async canApprove(user: UserInfo): Promise<boolean> {
    try {
      const review = await this.client.post<SubjectAccessReviewStatus>(reviewPath, approveReview(user));
      return review.status?.allowed === true;
    } catch (error) {
      throw new Error(`SubjectAccessReview of "${user.username}" for approve on tenantrequests failed`, {
        cause: error,
      });
    }
  }
}
