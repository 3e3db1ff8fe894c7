import type { V1NetworkPolicy, V1NetworkPolicyIngressRule } from "@kubernetes/client-node";
import { evaluateIsolation, type NamespaceInfo } from "../../src/tenant/networkIsolation.js";

const TENANT_LABEL = "tenancy.dev/tenant";
const TENANT_ID_LABEL = "tenancy.dev/tenant-id";

const namespaces: NamespaceInfo[] = [
  { name: "t-a-dev", labels: { [TENANT_LABEL]: "t-a", env: "dev" } },
  { name: "t-a-prod", labels: { [TENANT_LABEL]: "t-a", env: "prod" } },
  { name: "t-b-dev", labels: { [TENANT_LABEL]: "t-b", env: "dev" } },
  { name: "t-c-prod", labels: { [TENANT_LABEL]: "t-c", env: "prod" } },
  { name: "monitoring", labels: { "kubernetes.io/metadata.name": "monitoring" } },
  { name: "ingress-nginx", labels: {} },
  { name: "default", labels: {} },
  { name: "kube-system", labels: {} },
];

function policy(namespace: string, name: string, spec: V1NetworkPolicy["spec"]): V1NetworkPolicy {
  return { apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", metadata: { namespace, name }, spec };
}

// The two policies the operator creates in every tenant namespace.
function operatorPolicies(namespace: string): V1NetworkPolicy[] {
  return [
    policy(namespace, "deny-other-tenants", {
      podSelector: {},
      policyTypes: ["Ingress"],
      ingress: [{ _from: [{ namespaceSelector: { matchLabels: { [TENANT_LABEL]: "t-a" } } }] }],
    }),
    policy(namespace, "allow-platform", {
      podSelector: {},
      policyTypes: ["Ingress"],
      ingress: [
        {
          _from: [
            {
              namespaceSelector: {
                matchExpressions: [{ key: "kubernetes.io/metadata.name", operator: "In", values: ["monitoring"] }],
              },
            },
          ],
        },
      ],
    }),
  ];
}

function evaluate(extra: V1NetworkPolicy[], tenantNamespaces = ["t-a-dev", "t-a-prod"]) {
  return evaluateIsolation({
    tenant: "t-a",
    tenantNamespaces,
    platformNamespaces: ["monitoring", "ingress-nginx"],
    policies: [...tenantNamespaces.flatMap(operatorPolicies), ...extra],
    namespaces,
  });
}

function tenantPolicy(ingress: V1NetworkPolicyIngressRule[]): V1NetworkPolicy {
  return policy("t-a-dev", "tenant-policy", { podSelector: { matchLabels: { app: "web" } }, ingress });
}

describe("evaluateIsolation", () => {
  test("evaluateIsolation accepts operator policies", () => {
    const result = evaluate([]);

    expect(result.findings).toEqual([]);
    expect(result.isolated).toBe(true);
  });

  test("evaluateIsolation flags rule without peers", () => {
    const result = evaluate([tenantPolicy([{ ports: [{ port: 80 }] }])]);

    expect(result.isolated).toBe(false);
    expect(result.findings).toEqual([
      { policy: "t-a-dev/tenant-policy", reason: "spec.ingress[0] allows ingress from every source" },
    ]);
  });

  test("evaluateIsolation flags empty from list", () => {
    const result = evaluate([tenantPolicy([{ _from: [] }])]);

    expect(result.findings).toEqual([
      { policy: "t-a-dev/tenant-policy", reason: "spec.ingress[0] allows ingress from every source" },
    ]);
  });

  test("evaluateIsolation flags empty namespaceSelector", () => {
    const result = evaluate([tenantPolicy([{ _from: [{ namespaceSelector: {} }] }])]);

    expect(result.findings).toEqual([
      {
        policy: "t-a-dev/tenant-policy",
        reason:
          "spec.ingress[0].from[0] allows ingress from namespaces outside the tenant: default, kube-system, t-b-dev and 1 more",
      },
    ]);
  });

  test("evaluateIsolation flags empty peer", () => {
    const result = evaluate([tenantPolicy([{ _from: [{}] }])]);

    expect(result.findings).toEqual([
      {
        policy: "t-a-dev/tenant-policy",
        reason: "spec.ingress[0].from[0] has an empty peer, which is treated as allowing ingress from every source",
      },
    ]);
  });

  test("evaluateIsolation flags other tenant namespace", () => {
    const result = evaluate([
      tenantPolicy([{ _from: [{ namespaceSelector: { matchLabels: { [TENANT_LABEL]: "t-b" } } }] }]),
    ]);

    expect(result.isolated).toBe(false);
    expect(result.findings).toEqual([
      {
        policy: "t-a-dev/tenant-policy",
        reason: "spec.ingress[0].from[0] allows ingress from namespaces outside the tenant: t-b-dev",
      },
    ]);
  });

  test("evaluateIsolation flags selector with podSelector", () => {
    const result = evaluate([
      tenantPolicy([
        {
          _from: [
            {
              namespaceSelector: { matchLabels: { env: "prod" } },
              podSelector: { matchLabels: { role: "client" } },
            },
          ],
        },
      ]),
    ]);

    expect(result.findings).toEqual([
      {
        policy: "t-a-dev/tenant-policy",
        reason: "spec.ingress[0].from[0] allows ingress from namespaces outside the tenant: t-c-prod",
      },
    ]);
  });

  test("evaluateIsolation flags ipBlock", () => {
    const result = evaluate([
      tenantPolicy([{ _from: [{ ipBlock: { cidr: "10.0.0.0/8", except: ["10.1.0.0/16"] } }] }]),
    ]);

    expect(result.findings).toEqual([
      { policy: "t-a-dev/tenant-policy", reason: "spec.ingress[0].from[0] allows ingress from ipBlock 10.0.0.0/8" },
    ]);
  });

  test("evaluateIsolation accepts podSelector-only peer", () => {
    const result = evaluate([tenantPolicy([{ _from: [{ podSelector: { matchLabels: { app: "frontend" } } }] }])]);

    expect(result.findings).toEqual([]);
    expect(result.isolated).toBe(true);
  });

  test("evaluateIsolation flags NotIn matching foreign namespaces", () => {
    const result = evaluate([
      tenantPolicy([
        {
          _from: [
            { namespaceSelector: { matchExpressions: [{ key: TENANT_LABEL, operator: "NotIn", values: ["t-b"] }] } },
          ],
        },
      ]),
    ]);

    // NotIn also matches namespaces without the label, such as default and kube-system.
    expect(result.findings).toEqual([
      {
        policy: "t-a-dev/tenant-policy",
        reason:
          "spec.ingress[0].from[0] allows ingress from namespaces outside the tenant: default, kube-system, t-c-prod",
      },
    ]);
  });

  test("evaluateIsolation resolves Exists and DoesNotExist", () => {
    const exists = evaluate([
      tenantPolicy([{ _from: [{ namespaceSelector: { matchExpressions: [{ key: "env", operator: "Exists" }] } }] }]),
    ]);
    const doesNotExist = evaluate([
      tenantPolicy([
        { _from: [{ namespaceSelector: { matchExpressions: [{ key: TENANT_LABEL, operator: "DoesNotExist" }] } }] },
      ]),
    ]);

    expect(exists.findings.map((finding) => finding.reason)).toEqual([
      "spec.ingress[0].from[0] allows ingress from namespaces outside the tenant: t-b-dev, t-c-prod",
    ]);
    expect(doesNotExist.findings.map((finding) => finding.reason)).toEqual([
      "spec.ingress[0].from[0] allows ingress from namespaces outside the tenant: default, kube-system",
    ]);
  });

  test("evaluateIsolation flags labels another tenant could set", () => {
    const result = evaluate([
      tenantPolicy([{ _from: [{ namespaceSelector: { matchLabels: { team: "payments" } } }] }]),
    ]);

    expect(result.findings).toEqual([
      {
        policy: "t-a-dev/tenant-policy",
        reason: "spec.ingress[0].from[0] selects namespaces by labels another tenant could set",
      },
    ]);
  });

  test("evaluateIsolation trusts tenant label with other labels", () => {
    const result = evaluate([
      tenantPolicy([{ _from: [{ namespaceSelector: { matchLabels: { [TENANT_LABEL]: "t-a", env: "prod" } } }] }]),
    ]);

    expect(result.isolated).toBe(true);
  });

  test("evaluateIsolation trusts names of own namespaces", () => {
    const result = evaluate([
      tenantPolicy([
        {
          _from: [
            {
              namespaceSelector: {
                matchExpressions: [
                  { key: "kubernetes.io/metadata.name", operator: "In", values: ["t-a-prod", "ingress-nginx"] },
                ],
              },
            },
          ],
        },
      ]),
    ]);

    expect(result.isolated).toBe(true);
  });

  test("evaluateIsolation flags name of missing namespace", () => {
    const result = evaluate([
      tenantPolicy([
        { _from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "t-b-staging" } } }] },
      ]),
    ]);

    expect(result.findings.map((finding) => finding.reason)).toEqual([
      "spec.ingress[0].from[0] selects namespaces by labels another tenant could set",
    ]);
  });

  test("evaluateIsolation matches name label without explicit label", () => {
    const result = evaluate([
      tenantPolicy([{ _from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "default" } } }] }]),
    ]);

    expect(result.findings.map((finding) => finding.reason)).toEqual([
      "spec.ingress[0].from[0] allows ingress from namespaces outside the tenant: default",
    ]);
  });

  test("evaluateIsolation flags invalid operator", () => {
    const result = evaluate([
      tenantPolicy([
        { _from: [{ namespaceSelector: { matchExpressions: [{ key: "env", operator: "Like", values: ["p"] }] } }] },
      ]),
    ]);

    expect(result.findings.map((finding) => finding.reason)).toEqual([
      'spec.ingress[0].from[0] has an invalid namespaceSelector (unknown operator "Like" on "env"), so the namespaces it selects are unknown',
    ]);
  });

  test("evaluateIsolation flags namespace without isolation", () => {
    const result = evaluateIsolation({
      tenant: "t-a",
      tenantNamespaces: ["t-a-dev", "t-a-prod"],
      platformNamespaces: ["monitoring"],
      policies: operatorPolicies("t-a-dev"),
      namespaces,
    });

    expect(result.isolated).toBe(false);
    expect(result.findings).toEqual([{ policy: "t-a-prod/*", reason: "no policy isolates ingress in this namespace" }]);
  });

  test("evaluateIsolation flags partial pod isolation", () => {
    const result = evaluateIsolation({
      tenant: "t-a",
      tenantNamespaces: ["t-a-dev"],
      platformNamespaces: [],
      policies: [tenantPolicy([{ _from: [{ podSelector: {} }] }])],
      namespaces,
    });

    expect(result.findings).toEqual([
      {
        policy: "t-a-dev/*",
        reason:
          "no policy isolates ingress for every pod in this namespace, so pods outside the podSelectors accept ingress from every source",
      },
    ]);
  });

  test("evaluateIsolation ignores egress-only policy", () => {
    const egressOnly = policy("t-a-prod", "egress-open", {
      podSelector: {},
      policyTypes: ["Egress"],
      ingress: [{}],
      egress: [{}],
    });
    const result = evaluateIsolation({
      tenant: "t-a",
      tenantNamespaces: ["t-a-dev", "t-a-prod"],
      platformNamespaces: ["monitoring"],
      policies: [...operatorPolicies("t-a-dev"), egressOnly],
      namespaces,
    });

    // The open ingress rule is ignored because policyTypes lacks Ingress, and t-a-prod stays unisolated.
    expect(result.findings).toEqual([{ policy: "t-a-prod/*", reason: "no policy isolates ingress in this namespace" }]);
  });

  test("evaluateIsolation treats missing policyTypes as Ingress", () => {
    const defaulted = policy("t-a-prod", "deny-all", { podSelector: {} });
    const result = evaluateIsolation({
      tenant: "t-a",
      tenantNamespaces: ["t-a-prod"],
      platformNamespaces: [],
      policies: [defaulted],
      namespaces,
    });

    expect(result.isolated).toBe(true);
  });

  test("evaluateIsolation reads raw JSON from field", () => {
    // Watch events and YAML carry the wire name `from`, not the client's `_from`.
    const raw = JSON.parse(
      JSON.stringify({
        metadata: { namespace: "t-a-dev", name: "raw" },
        spec: {
          podSelector: {},
          ingress: [{ from: [{ namespaceSelector: { matchLabels: { [TENANT_LABEL]: "t-b" } } }] }],
        },
      }),
    ) as V1NetworkPolicy;
    const result = evaluate([raw]);

    expect(result.findings).toEqual([
      {
        policy: "t-a-dev/raw",
        reason: "spec.ingress[0].from[0] allows ingress from namespaces outside the tenant: t-b-dev",
      },
    ]);
  });

  describe("with tenantId", () => {
    const idNamespaces: NamespaceInfo[] = [
      { name: "t-a-dev", labels: { [TENANT_LABEL]: "t-a", [TENANT_ID_LABEL]: "t1" } },
      { name: "t-a-old", labels: { [TENANT_LABEL]: "t-a", [TENANT_ID_LABEL]: "t0" } },
      { name: "t-b-dev", labels: { [TENANT_LABEL]: "t-b", [TENANT_ID_LABEL]: "t2" } },
      { name: "monitoring", labels: {} },
    ];

    // Written in the wire format with `from`, as the operator builds its policies.
    function idPolicy(name: string, from: unknown[]): V1NetworkPolicy {
      const spec = { podSelector: {}, policyTypes: ["Ingress"], ingress: [{ from }] };
      return { metadata: { namespace: "t-a-dev", name }, spec: spec as V1NetworkPolicy["spec"] };
    }

    function evaluateWithId(policies: V1NetworkPolicy[]) {
      return evaluateIsolation({
        tenant: "t-a",
        tenantId: "t1",
        tenantNamespaces: ["t-a-dev"],
        platformNamespaces: ["monitoring"],
        policies,
        namespaces: idNamespaces,
      });
    }

    test("evaluateIsolation trusts tenant id selector", () => {
      const result = evaluateWithId([
        idPolicy("deny-other-tenants", [{ namespaceSelector: { matchLabels: { [TENANT_ID_LABEL]: "t1" } } }]),
      ]);

      expect(result.findings).toEqual([]);
      expect(result.isolated).toBe(true);
    });

    test("evaluateIsolation flags other tenant id", () => {
      const result = evaluateWithId([
        idPolicy("wrong-id", [{ namespaceSelector: { matchLabels: { [TENANT_ID_LABEL]: "t2" } } }]),
      ]);

      expect(result.findings).toEqual([
        {
          policy: "t-a-dev/wrong-id",
          reason: "spec.ingress[0].from[0] allows ingress from namespaces outside the tenant: t-b-dev",
        },
      ]);
    });

    test("evaluateIsolation flags namespace of earlier tenant", () => {
      const result = evaluateWithId([
        idPolicy("by-name", [{ namespaceSelector: { matchLabels: { [TENANT_LABEL]: "t-a" } } }]),
      ]);

      // t-a-old carries this tenant's name but the id of an earlier Tenant, so it is not this tenant's.
      expect(result.findings).toEqual([
        {
          policy: "t-a-dev/by-name",
          reason: "spec.ingress[0].from[0] allows ingress from namespaces outside the tenant: t-a-old",
        },
      ]);
    });

    test("evaluateIsolation ignores id label without tenantId", () => {
      const result = evaluateIsolation({
        tenant: "t-a",
        tenantNamespaces: ["t-a-dev"],
        platformNamespaces: [],
        policies: [idPolicy("by-id", [{ namespaceSelector: { matchLabels: { [TENANT_ID_LABEL]: "t9" } } }])],
        namespaces: idNamespaces,
      });

      expect(result.findings.map((finding) => finding.reason)).toEqual([
        "spec.ingress[0].from[0] selects namespaces by labels another tenant could set",
      ]);
    });
  });

  test("evaluateIsolation ignores policies of other namespaces", () => {
    const elsewhere = policy("t-b-dev", "open", { podSelector: {}, ingress: [{}] });
    const result = evaluate([elsewhere]);

    expect(result.isolated).toBe(true);
  });

  test("evaluateIsolation sorts findings by policy", () => {
    const result = evaluate([
      policy("t-a-prod", "z-open", { podSelector: {}, ingress: [{}] }),
      policy("t-a-dev", "b-open", { podSelector: {}, ingress: [{ _from: [{ ipBlock: { cidr: "0.0.0.0/0" } }] }, {}] }),
    ]);

    expect(result.findings).toEqual([
      { policy: "t-a-dev/b-open", reason: "spec.ingress[0].from[0] allows ingress from ipBlock 0.0.0.0/0" },
      { policy: "t-a-dev/b-open", reason: "spec.ingress[1] allows ingress from every source" },
      { policy: "t-a-prod/z-open", reason: "spec.ingress[0] allows ingress from every source" },
    ]);
  });

  test("evaluateIsolation rejects policy without namespace", () => {
    const policyWithoutNamespace: V1NetworkPolicy = { metadata: { name: "lost" }, spec: { podSelector: {} } };

    expect(() => evaluate([policyWithoutNamespace])).toThrow('NetworkPolicy "lost" has no metadata.namespace');
  });
});
