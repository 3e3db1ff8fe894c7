// Loaded into the operator process by the benchmark only (NODE_OPTIONS=--import=...), to see from inside what
// limits it: event-loop delay and utilization, CPU time, heap, and on request a V8 CPU profile. Plain JavaScript,
// because NODE_OPTIONS preloads run before tsx is registered.
//
// On SIGUSR2 it reads $BENCH_SNAPSHOT_DIR/request.json ({"profile": "start" | "stop"}, optional), writes one
// snapshot covering the time since the previous one to $BENCH_SNAPSHOT_DIR/<pid>-<n>.json, then runs a full GC
// so that the snapshot's `afterGc` heap is the live heap. A stopped profile goes to <pid>-<n>.cpuprofile, and a
// profile still running at exit to <pid>-exit.cpuprofile.
// The profiler is driven through node:inspector because Node 20 rejects --cpu-prof in NODE_OPTIONS.
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector";
import path from "node:path";
import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import v8 from "node:v8";
import vm from "node:vm";

const directory = process.env.BENCH_SNAPSHOT_DIR;
if (directory) {
  v8.setFlagsFromString("--expose-gc");
  const collectGarbage = vm.runInNewContext("gc");
  // 20 ms sampling keeps the monitor's own cost negligible; delays shorter than that are not resolved.
  const delay = monitorEventLoopDelay({ resolution: 20 });
  delay.enable();
  let utilizationStart = performance.eventLoopUtilization();
  let sequence = 0;
  let session;

  const writeAtomically = (file, text) => {
    writeFileSync(`${file}.tmp`, text);
    renameSync(`${file}.tmp`, file);
  };

  // A session connected to this thread runs its callbacks synchronously, so the profile is written before return.
  const controlProfiler = (command, file) => {
    if (command === "start" && !session) {
      session = new Session();
      session.connect();
      session.post("Profiler.enable");
      session.post("Profiler.start");
    } else if (command === "stop" && session) {
      session.post("Profiler.stop", (error, result) => {
        if (!error) writeFileSync(file, JSON.stringify(result.profile));
      });
      session.disconnect();
      session = undefined;
    }
  };

  // A process that exits while profiling (for example after losing its Lease) still leaves its profile.
  process.on("exit", () => controlProfiler("stop", path.join(directory, `${process.pid}-exit.cpuprofile`)));

  process.on("SIGUSR2", () => {
    const base = path.join(directory, `${process.pid}-${sequence++}`);
    const requestFile = path.join(directory, "request.json");
    const request = existsSync(requestFile) ? JSON.parse(readFileSync(requestFile, "utf8")) : {};
    rmSync(requestFile, { force: true });

    const milliseconds = (nanoseconds) => Math.round((nanoseconds / 1e6) * 10) / 10;
    const utilization = performance.eventLoopUtilization(utilizationStart);
    const snapshot = {
      pid: process.pid,
      time: Date.now(),
      cpuMicros: process.cpuUsage(),
      eventLoopUtilization: utilization.utilization,
      eventLoopDelayMs: {
        mean: milliseconds(delay.mean),
        p50: milliseconds(delay.percentile(50)),
        p99: milliseconds(delay.percentile(99)),
        max: milliseconds(delay.max),
      },
      memory: process.memoryUsage(),
    };
    // The forced GC stays out of the profile: it runs after a stop and before a start.
    if (request.profile === "stop") controlProfiler("stop", `${base}.cpuprofile`);
    collectGarbage();
    snapshot.afterGc = process.memoryUsage();
    if (request.profile === "start") controlProfiler("start");

    writeAtomically(`${base}.json`, JSON.stringify(snapshot));
    delay.reset();
    utilizationStart = performance.eventLoopUtilization();
  });
}
