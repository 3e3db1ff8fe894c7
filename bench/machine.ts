// Facts about the machine a run used, recorded next to the figures because absolute times only mean something
// for one machine. The load averages show how busy the shared machine was around the run.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import os from "node:os";

export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  nodeVersion: string;
  kernel: string;
  loadAverage: [number, number, number];
}

export function describeMachine(): MachineInfo {
  const cpuinfo = readFileSync("/proc/cpuinfo", "utf8");
  const meminfo = readFileSync("/proc/meminfo", "utf8");
  const memoryKiB = Number(meminfo.match(/^MemTotal:\s+(\d+) kB/m)?.[1] ?? Number.NaN);
  const [one, five, fifteen] = os.loadavg();
  return {
    // os.availableParallelism() is what `nproc` prints: the CPUs this process may run on.
    cpus: os.availableParallelism(),
    cpuModel: cpuinfo.match(/^model name\s*:\s*(.+)$/m)?.[1]?.trim() ?? "unknown",
    memoryGiB: Math.round((memoryKiB / 1024 / 1024) * 10) / 10,
    nodeVersion: process.version,
    kernel: os.release(),
    loadAverage: [one!, five!, fifteen!],
  };
}

/** The operator source a run measured: the checked-out commit and whether src/ had uncommitted changes. */
export interface SourceVersion {
  commit: string;
  srcModified: boolean;
}

/** Reads the source version with read-only git commands; others may commit while a run goes on, so call it twice. */
export function describeSource(): SourceVersion {
  const git = (...args: string[]): string => execFileSync("git", args, { encoding: "utf8" }).trim();
  try {
    return {
      commit: git("rev-parse", "--short", "HEAD"),
      srcModified: git("status", "--porcelain", "--", "src") !== "",
    };
  } catch {
    return { commit: "unknown (git failed)", srcModified: false };
  }
}

export function loadAverage(): [number, number, number] {
  const [one, five, fifteen] = os.loadavg();
  return [one!, five!, fifteen!];
}
