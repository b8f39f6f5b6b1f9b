import type { EnvironmentKind } from "../lib/bindings";
import { KIND_LABEL } from "./health";

export function EnvironmentBadge({ kind, testId }: { kind: EnvironmentKind; testId?: string }) {
  return (
    <span className="kind-badge" data-kind={kind} data-testid={testId}>
      {KIND_LABEL[kind]}
    </span>
  );
}
