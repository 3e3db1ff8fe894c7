// Builds the NetworkPolicies of each tenant namespace:
// - deny-other-tenants: ingress only from namespaces with this tenant's id label (which tenants cannot set);
// - allow-platform: ingress from named platform namespaces, matched by kubernetes.io/metadata.name;
// - extra-ingress: the spec's extra ingress rules;
// - restrict-egress (when egress is restricted): egress inside the tenant, to DNS, and the spec's egress rules.

import type { V1NetworkPolicy } from "@kubernetes/client-node";
import { namespaceNameLabel, ownershipLabels, tenantIdLabel } from "../labels.js";
import type { TenantContext } from "./types.js";

export function buildNetworkPolicies(context: TenantContext): V1NetworkPolicy[] {
  const policies: V1NetworkPolicy[] = [];
  for (const namespace of context.namespaces) {
    // Specs are written in the wire format (`from`), which the generated client types spell `_from`.
    const policy = (name: string, spec: Record<string, unknown>): V1NetworkPolicy => ({
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name, namespace, labels: ownershipLabels(context.tenant, context.tenantId) },
      spec: spec as V1NetworkPolicy["spec"],
    });
    const sameTenant = { namespaceSelector: { matchLabels: { [tenantIdLabel]: context.tenantId } } };
    const { network } = context.spec;

    policies.push(
      policy("deny-other-tenants", { podSelector: {}, policyTypes: ["Ingress"], ingress: [{ from: [sameTenant] }] }),
    );

    if (network.allowFromNamespaces.length > 0) {
      const platform = {
        namespaceSelector: {
          matchExpressions: [
            { key: namespaceNameLabel, operator: "In", values: [...network.allowFromNamespaces].sort() },
          ],
        },
      };
      policies.push(
        policy("allow-platform", { podSelector: {}, policyTypes: ["Ingress"], ingress: [{ from: [platform] }] }),
      );
    }

    if (network.ingressRules.length > 0) {
      policies.push(
        policy("extra-ingress", { podSelector: {}, policyTypes: ["Ingress"], ingress: network.ingressRules }),
      );
    }

    if (network.restrictEgress) {
      const egress: Record<string, unknown>[] = [{ to: [sameTenant] }];
      if (network.allowDNS) {
        egress.push({
          to: [{ namespaceSelector: { matchLabels: { [namespaceNameLabel]: context.platform.dnsNamespace } } }],
          ports: [
            { protocol: "UDP", port: 53 },
            { protocol: "TCP", port: 53 },
          ],
        });
      }
      egress.push(...network.egressRules);
      policies.push(policy("restrict-egress", { podSelector: {}, policyTypes: ["Egress"], egress }));
    }
  }
  return policies;
}
