// Splits a tenant-wide quota across the tenant's namespaces as per-namespace ResourceQuota hard limits.
//
// Contract: for every resource in `total`, the sum of the namespace targets never exceeds the total. Applying
// `steps` in order also keeps the sum of the namespaces' hard limits within the total after every single write,
// provided the current hard limits were within it. When they were not (for example after the total was lowered),
// the sums only go down during the lower phase and are within the total once it ends. A resource missing from a
// namespace's current hard counts as 0 for these sums, because the namespace has no share of it yet.
//
// Algorithm, for each resource in `total`, with namespaces sorted by name so the result is deterministic:
// 1. Floors: every namespace keeps at least what it uses (`used`). If the usage sum already exceeds the total,
//    the floors are the usages scaled down in proportion so that their sum fits, and never negative.
// 2. Headroom: total minus the sum of floors is divided equally, and the remainder goes one split unit at a time
//    to the first namespaces in name order. So target = floor + headroom / N.
//    Every namespace keeps room to grow, and as usage moves and the plan is recomputed, a namespace whose
//    neighbours use little grows into the headroom they leave unused.
// 3. Steps: a namespace whose limit goes down for some resource is written first, in phase "lower", with only
//    those resources lowered and every other value kept as it is. Once every lower is saved, phase "raise" writes
//    the full targets. Raising one resource while lowering another in the same write could push the first one's
//    sum over the total, which is why a namespace can appear in both phases.
//
// The split unit is 1 milli-unit for cpu resources. Every other resource is split in whole units, because the
// API server rejects fractional values for integer resources such as pods and count/*, and fractional bytes of
// memory or storage mean nothing. A total that is itself fractional is split in milli-units.

import { formatQuantity, parseQuantity } from "./quantity.js";

export interface NamespaceQuotaState {
  namespace: string;
  hard?: Record<string, string>;
  used?: Record<string, string>;
}

export interface QuotaSplitStep {
  phase: "lower" | "raise";
  namespace: string;
  /** The complete spec.hard to write to the namespace's ResourceQuota. */
  hard: Record<string, string>;
}

export interface QuotaSplitPlan {
  /** Desired hard for each namespace (only resources present in total). */
  targets: Record<string, Record<string, string>>;
  /**
   * Writes to do in order: first every namespace whose limit goes down for some resource (phase "lower"), then the
   * others (phase "raise"). A raise may only be written after all lowers are saved.
   */
  steps: QuotaSplitStep[];
}

const MILLI_PER_UNIT = 1000n;

/** Plans per-namespace hard limits and the order of writes for a tenant-wide `total`. See the module header. */
export function planQuotaSplit(total: Record<string, string>, namespaces: NamespaceQuotaState[]): QuotaSplitPlan {
  const ordered = sortByNamespace(namespaces);
  const resources = Object.keys(total).sort(compareStrings);
  const targetMilli = new Map<string, Map<string, bigint>>(ordered.map((state) => [state.namespace, new Map()]));
  const targets: Record<string, Record<string, string>> = {};
  for (const state of ordered) {
    targets[state.namespace] = {};
  }

  for (const resource of resources) {
    const totalText = total[resource] ?? "0";
    const totalValue = parseField(totalText, `total["${resource}"]`);
    if (totalValue < 0n) {
      throw new Error(`invalid total for "${resource}": ${totalText} is negative, a quota must be 0 or more`);
    }

    // ResourceQuota status never reports negative usage, so a negative value is treated as no usage.
    const used = ordered.map((state) => {
      const value = parseField(state.used?.[resource] ?? "0", `used["${resource}"] of namespace ${state.namespace}`);
      return value < 0n ? 0n : value;
    });
    const split = splitResource(totalValue, used, splitUnit(resource, totalValue));

    ordered.forEach((state, index) => {
      const value = split[index] ?? 0n;
      targetMilli.get(state.namespace)?.set(resource, value);
      const namespaceTargets = targets[state.namespace];
      if (namespaceTargets !== undefined) {
        namespaceTargets[resource] = formatQuantity(value, totalText);
      }
    });
  }

  const lowers: QuotaSplitStep[] = [];
  const raises: QuotaSplitStep[] = [];
  for (const state of ordered) {
    const desired = targetMilli.get(state.namespace) ?? new Map<string, bigint>();
    const { lowered, hard } = lowerOnly(state, desired, targets[state.namespace] ?? {});
    if (lowered) {
      lowers.push({ phase: "lower", namespace: state.namespace, hard });
    }
    if (!sameHard(hard, desired)) {
      raises.push({ phase: "raise", namespace: state.namespace, hard: { ...targets[state.namespace] } });
    }
  }

  return { targets, steps: [...lowers, ...raises] };
}

/**
 * Returns true when, for every resource in `total`, the sum over `hards` is at most the total.
 * A hard list that is undefined or lacks the resource counts as 0.
 */
export function sumWithin(
  total: Record<string, string>,
  hards: readonly (Record<string, string> | undefined)[],
): boolean {
  for (const [resource, totalText] of Object.entries(total)) {
    let sum = 0n;
    for (const hard of hards) {
      const value = hard?.[resource];
      if (value !== undefined) {
        sum += parseQuantity(value);
      }
    }
    if (sum > parseQuantity(totalText)) {
      return false;
    }
  }
  return true;
}

// Splits one resource: floors first, then the headroom in equal shares of whole split units.
function splitResource(total: bigint, used: readonly bigint[], unit: bigint): bigint[] {
  const count = BigInt(used.length);
  if (count === 0n) {
    return [];
  }

  // Only whole split units are handed out, so a fractional rest of the total stays unassigned.
  const capacityUnits = total / unit;
  const usedUnits = used.map((value) => (value + unit - 1n) / unit);
  const usedSum = usedUnits.reduce((sum, value) => sum + value, 0n);
  const floorUnits = usedSum <= capacityUnits ? usedUnits : usedUnits.map((value) => (value * capacityUnits) / usedSum);

  const headroomUnits = capacityUnits - floorUnits.reduce((sum, value) => sum + value, 0n);
  const share = headroomUnits / count;
  const remainder = headroomUnits % count;
  return floorUnits.map((floor, index) => {
    const extra = BigInt(index) < remainder ? 1n : 0n;
    return (floor + share + extra) * unit;
  });
}

function splitUnit(resource: string, total: bigint): bigint {
  const isCpu = resource === "cpu" || resource.endsWith(".cpu");
  return isCpu || total % MILLI_PER_UNIT !== 0n ? 1n : MILLI_PER_UNIT;
}

// Builds the hard for the lower phase: each resource of `total` that goes down takes its target, and every
// other current value stays, so this write only ever decreases sums. Resources missing today stay missing.
function lowerOnly(
  state: NamespaceQuotaState,
  desired: ReadonlyMap<string, bigint>,
  targets: Record<string, string>,
): { lowered: boolean; hard: Record<string, string> } {
  const current = state.hard ?? {};
  const hard: Record<string, string> = {};
  let lowered = false;
  for (const resource of Object.keys(current).sort(compareStrings)) {
    const currentText = current[resource] ?? "0";
    const target = desired.get(resource);
    const targetText = targets[resource];
    const currentValue = parseField(currentText, `hard["${resource}"] of namespace ${state.namespace}`);
    if (target !== undefined && targetText !== undefined && target < currentValue) {
      hard[resource] = targetText;
      lowered = true;
    } else {
      hard[resource] = currentText;
    }
  }
  return { lowered, hard };
}

// Compares by value, so "1000m" and "1" are the same limit and need no write.
function sameHard(hard: Record<string, string>, desired: ReadonlyMap<string, bigint>): boolean {
  const keys = Object.keys(hard);
  if (keys.length !== desired.size) {
    return false;
  }
  return keys.every((resource) => {
    const target = desired.get(resource);
    return target !== undefined && parseQuantity(hard[resource] ?? "0") === target;
  });
}

function sortByNamespace(namespaces: readonly NamespaceQuotaState[]): NamespaceQuotaState[] {
  const ordered = [...namespaces].sort((a, b) => compareStrings(a.namespace, b.namespace));
  for (let index = 1; index < ordered.length; index++) {
    const name = ordered[index]?.namespace;
    if (name === ordered[index - 1]?.namespace) {
      throw new Error(`duplicate namespace "${name}" in quota split input, each namespace must appear once`);
    }
  }
  return ordered;
}

// Compares by UTF-16 code units, so the order does not depend on the process locale.
function compareStrings(a: string, b: string): number {
  if (a < b) {
    return -1;
  }
  return a > b ? 1 : 0;
}

function parseField(text: string, field: string): bigint {
  try {
    return parseQuantity(text);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`${field}: ${message}`, { cause: error });
  }
}
