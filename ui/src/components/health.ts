import type { EnvironmentKind, HealthState } from "../lib/bindings";

export const HEALTH_WORD: Record<HealthState, string> = {
  ok: "Connected",
  degraded: "Degraded",
  down: "Down",
  checking: "Checking…",
  unknown: "Not checked",
};

export const KIND_LABEL: Record<EnvironmentKind, string> = {
  sandbox: "Sandbox",
  real: "Real",
};
