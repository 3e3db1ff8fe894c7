// The operator's one pino logger. Child loggers carry the stable keys: tenant, namespace, kind, name, reconcileId.
import { pino, type Logger } from "pino";

export type { Logger };

export const logger: Logger = pino({
  level: process.env.LOG_LEVEL ?? "info",
  base: { component: "tenant-operator" },
  timestamp: pino.stdTimeFunctions.isoTime,
});

/** Returns a logger that writes nothing, for unit tests and library callers without a logger. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
