import { useState } from "react";
import { type EditorProblem, YamlDiff, YamlEditor } from "../../../components/editor";
import { ErrorBanner } from "../parts";
import { usePackDefaults } from "./hooks";
import { LAYER_TITLES, type LayerChoice } from "./model";
import { schemaForPack } from "./schemas";

type View = "edit" | "diff";

const SEVERITY_WORD: Record<EditorProblem["severity"], string> = { error: "Error", warning: "Warning", info: "Note" };

function ProblemList({ problems }: { problems: EditorProblem[] }) {
  if (problems.length === 0) return null;
  return (
    <ul className="wf-findings" aria-label="Problems in the values">
      {problems.map((p, i) => (
        <li key={`${p.line}-${i}`} className="wf-finding" data-testid="profile-values-problem" data-severity={p.severity}>
          <span className="wf-severity" data-severity={p.severity}>
            {SEVERITY_WORD[p.severity]}
          </span>
          <span className="wf-finding-text">
            <span className="wf-finding-where">line {p.line}: </span>
            {p.message}
          </span>
        </li>
      ))}
    </ul>
  );
}

/**
 * One layer's values in the YAML editor, validated against the pack's schema, with a diff
 * against the pack version's defaults. Text equal to the defaults counts as untouched.
 */
export function LayerValues({ id, choice, onValues }: { id: string; choice: LayerChoice; onValues: (values: string | null) => void }) {
  const { defaults, problem } = usePackDefaults(choice);
  const [view, setView] = useState<View>("edit");
  const [problems, setProblems] = useState<EditorProblem[]>([]);
  const base = defaults?.values ?? null;
  const text = choice.values ?? base ?? "";
  const edited = choice.values !== null && choice.values !== base;
  // Until the defaults are in, typing would start from an empty text and lose them.
  const ready = choice.values !== null || base !== null || problem !== null;
  const title = LAYER_TITLES[choice.layer];
  const label = `${choice.packName} ${choice.version}`;

  function show(next: View) {
    setView(next);
    setProblems([]);
  }

  return (
    <div className="wf-template" data-testid="profile-values" data-layer={id} data-edited={edited}>
      <div className="wf-template-bar">
        <span className="wf-template-file">
          {title}: {label}
        </span>
        <div className="wf-segmented" role="group" aria-label="View">
          <button type="button" className="wf-segment" aria-pressed={view === "edit"} data-testid="profile-view-edit" onClick={() => show("edit")}>
            Values
          </button>
          <button type="button" className="wf-segment" aria-pressed={view === "diff"} disabled={base === null} data-testid="profile-view-diff" onClick={() => show("diff")}>
            Diff against defaults
          </button>
        </div>
      </div>
      {problem && <ErrorBanner title={`The default values of ${label} could not be read`} problem={problem} testId="profile-defaults-error" />}
      {!ready && <p className="wf-muted">Reading the default values of {label}…</p>}
      {ready && view === "edit" && (
        <YamlEditor
          value={text}
          onChange={(next) => onValues(base !== null && next === base ? null : next)}
          ariaLabel={`${title} values`}
          height={320}
          testId="profile-editor"
          schema={schemaForPack(choice.packName)}
          onProblems={setProblems}
        />
      )}
      {ready && view === "diff" && base !== null && <YamlDiff original={base} modified={text} originalLabel={`Defaults of ${label}`} modifiedLabel="This profile" height={320} testId="profile-editor" />}
      {view === "edit" && <ProblemList problems={problems} />}
      <div className="wf-row">
        <span className="wf-help">{edited ? "Edited: these values are sent with the layer." : "The pack's defaults: the layer is sent without values, so Palette uses its own."}</span>
        {choice.values !== null && (
          <button type="button" className="wf-link" data-testid="profile-values-reset" onClick={() => onValues(null)}>
            Back to the defaults
          </button>
        )}
      </div>
    </div>
  );
}
