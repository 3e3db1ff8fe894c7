// Status conditions in the Kubernetes convention (metav1.Condition).

export interface Condition {
  type: string;
  status: "True" | "False" | "Unknown";
  observedGeneration?: number;
  lastTransitionTime: string;
  reason: string;
  message: string;
}

export type ConditionInput = Omit<Condition, "lastTransitionTime" | "observedGeneration">;

/**
 * Returns the new condition list with `input` set. lastTransitionTime moves only when the status changes; a
 * changed reason or message alone keeps the old time. Order follows `previous`, with new types appended.
 */
export function setCondition(
  previous: readonly Condition[],
  input: ConditionInput,
  observedGeneration: number | undefined,
  now: Date,
): Condition[] {
  const existing = previous.find((condition) => condition.type === input.type);
  const lastTransitionTime =
    existing && existing.status === input.status
      ? existing.lastTransitionTime
      : now.toISOString().replace(/\.\d+Z$/, "Z");
  const updated: Condition = { ...input, observedGeneration, lastTransitionTime };
  if (!existing) return [...previous, updated];
  return previous.map((condition) => (condition.type === input.type ? updated : condition));
}

export function findCondition(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((condition) => condition.type === type);
}
