// Summarizes a V8 CPU profile (`node --cpu-prof` output) as self time per function and per source area, which
// is what the report needs to say where the operator's CPU goes.
import { readFileSync } from "node:fs";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileSummary {
  file: string;
  /** Profiled wall time in seconds. */
  wallSeconds: number;
  /** Time the main thread was not idle, in seconds. */
  busySeconds: number;
  /** Self time in ms per function, largest first. */
  functions: { name: string; location: string; selfMs: number }[];
  /** Self time in ms per source area (src/runtime, a package, node internals, GC), largest first. */
  areas: { area: string; selfMs: number }[];
}

export function summarizeProfile(file: string, top = 25): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfMicros = new Map<number, number>();
  profile.samples.forEach((id, index) => {
    selfMicros.set(id, (selfMicros.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0));
  });

  const functions = new Map<string, { name: string; location: string; selfMs: number }>();
  const areas = new Map<string, number>();
  let idleMicros = 0;
  for (const [id, micros] of selfMicros) {
    const frame = byId.get(id)!.callFrame;
    if (frame.functionName === "(idle)") idleMicros += micros;
    // Code that tsx compiled reports line 1 for everything, so only a later line is worth showing.
    const line = frame.lineNumber > 0 ? `:${frame.lineNumber + 1}` : "";
    const location = frame.url ? `${shortUrl(frame.url)}${line}` : "";
    const key = `${frame.functionName}@${frame.url}:${frame.lineNumber}:${frame.columnNumber}`;
    const entry = functions.get(key) ?? { name: frame.functionName || "(anonymous)", location, selfMs: 0 };
    entry.selfMs += micros / 1000;
    functions.set(key, entry);
    const area = areaOf(frame.functionName, frame.url);
    areas.set(area, (areas.get(area) ?? 0) + micros / 1000);
  }

  const wallSeconds = (profile.endTime - profile.startTime) / 1e6;
  return {
    file,
    wallSeconds,
    busySeconds: wallSeconds - idleMicros / 1e6,
    functions: [...functions.values()].sort((a, b) => b.selfMs - a.selfMs).slice(0, top),
    areas: [...areas.entries()].map(([area, selfMs]) => ({ area, selfMs })).sort((a, b) => b.selfMs - a.selfMs),
  };
}

function shortUrl(url: string): string {
  return url.replace(/^file:\/\/.*?\/(src|node_modules|bench|test)\//, "$1/");
}

function areaOf(functionName: string, url: string): string {
  if (!url) return functionName.startsWith("(") ? functionName : "(native)";
  const local = url.match(/\/(src\/[^/]+)\//);
  if (local) return local[1]!;
  const dependency = url.match(/\/node_modules\/((?:@[^/]+\/)?[^/]+)\//);
  if (dependency) return dependency[1]!;
  if (url.startsWith("node:")) return "node internals";
  return shortUrl(url);
}
