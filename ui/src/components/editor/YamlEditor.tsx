import { useEffect, useId, useRef, useState } from "react";
import type { JSONSchema } from "monaco-yaml";
import { loadMonaco, type MonacoModule, monacoSupported } from "./loader";
import "./editor.css";

type LoadState = "loading" | "ready" | "plain";

type Monaco = MonacoModule["monaco"];
type CodeEditor = ReturnType<Monaco["editor"]["create"]>;
type DiffEditor = ReturnType<Monaco["editor"]["createDiffEditor"]>;

const COMMON_OPTIONS = {
  automaticLayout: true,
  minimap: { enabled: false },
  scrollBeyondLastLine: false,
  fontSize: 12,
  lineNumbersMinChars: 3,
  renderWhitespace: "none",
  tabSize: 2,
} as const;

/** A bundled JSON schema; `uri` names it in hovers and is never fetched. */
export interface EditorSchema {
  uri: string;
  schema: JSONSchema;
}

/** A syntax or schema problem Monaco found in the text (line is 1-based). */
export interface EditorProblem {
  severity: "error" | "warning" | "info";
  message: string;
  line: number;
}

/** Loads Monaco unless it cannot run here; `plain` = show the text without it. */
function useMonaco(): { monaco: Monaco | null; module: MonacoModule | null; state: LoadState; error: string | null } {
  const supported = monacoSupported();
  const [module, setModule] = useState<MonacoModule | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (!supported) return;
    let live = true;
    loadMonaco()
      .then((m) => {
        if (live) setModule(m);
      })
      .catch((e: unknown) => {
        if (live) setError(e instanceof Error ? e.message : String(e));
      });
    return () => {
      live = false;
    };
  }, [supported]);
  const monaco = module?.monaco ?? null;
  const state: LoadState = !supported || error ? "plain" : monaco ? "ready" : "loading";
  return { monaco, module, state, error };
}

const SEVERITY: Record<number, EditorProblem["severity"]> = { 8: "error", 4: "warning", 2: "info", 1: "info" };

/** The model folder a schema validates: its URI as one path segment. */
const schemaFolder = (uri: string) => uri.replace(/[^A-Za-z0-9_-]+/g, "-");

function EditorNote({ error }: { error: string | null }) {
  if (!error) return null;
  return <div className="editor-note">The editor could not load ({error}); showing plain text.</div>;
}

export interface YamlEditorProps {
  value: string;
  /** Called with the new text as the user types (ignored when read-only). */
  onChange?: (value: string) => void;
  readOnly?: boolean;
  height?: number;
  ariaLabel: string;
  testId?: string;
  /** Validates the text against this schema (Monaco only). Pass a stable object, e.g. a module constant. */
  schema?: EditorSchema;
  /** Called with Monaco's syntax and schema problems whenever they change (never in the plain fallback). */
  onProblems?: (problems: EditorProblem[]) => void;
}

/** A YAML editor (Monaco, loaded lazily), or plain text where Monaco cannot run. */
export function YamlEditor({ value, onChange, readOnly = false, height = 360, ariaLabel, testId, schema, onProblems }: YamlEditorProps) {
  const { monaco, module, state, error } = useMonaco();
  const host = useRef<HTMLDivElement>(null);
  const editor = useRef<CodeEditor | null>(null);
  // monaco-yaml finds a model's schema by its URI: a folder per schema, a file per editor.
  const fileName = `${useId().replace(/[^A-Za-z0-9_-]/g, "")}.yaml`;
  const onChangeRef = useRef(onChange);
  const onProblemsRef = useRef(onProblems);
  const valueRef = useRef(value);
  useEffect(() => {
    onChangeRef.current = onChange;
    onProblemsRef.current = onProblems;
    valueRef.current = value;
  });

  useEffect(() => {
    if (!module || !host.current) return;
    const { monaco: m } = module;
    const folder = schema ? schemaFolder(schema.uri) : "plain";
    // Before the model exists: registering restarts the YAML worker.
    if (schema) module.registerSchema(folder, schema);
    // A recreated editor (new schema, label or read-only) starts from the current text.
    const model = m.editor.createModel(valueRef.current, "yaml", m.Uri.parse(`inmemory://capstan/${folder}/${fileName}`));
    const created = m.editor.create(host.current, { ...COMMON_OPTIONS, model, readOnly, ariaLabel });
    const sub = created.onDidChangeModelContent(() => onChangeRef.current?.(created.getValue()));
    const markers = m.editor.onDidChangeMarkers((uris) => {
      if (!uris.some((u) => u.toString() === model.uri.toString())) return;
      const problems = m.editor
        .getModelMarkers({ resource: model.uri })
        .map((marker) => ({ severity: SEVERITY[marker.severity] ?? "info", message: marker.message, line: marker.startLineNumber }));
      onProblemsRef.current?.(problems);
    });
    editor.current = created;
    return () => {
      markers.dispose();
      sub.dispose();
      created.dispose();
      model.dispose();
      editor.current = null;
    };
  }, [module, readOnly, ariaLabel, fileName, schema]);

  // Push outside changes in without resetting the cursor on every keystroke.
  useEffect(() => {
    const current = editor.current;
    if (current && current.getValue() !== value) current.setValue(value);
  }, [value, monaco, readOnly]);

  if (state === "plain") {
    return (
      <div className="editor" data-testid={testId} data-editor="plain">
        <EditorNote error={error} />
        {readOnly || !onChange ? (
          <pre className="editor-plain" aria-label={ariaLabel} style={{ maxHeight: height }}>
            {value}
          </pre>
        ) : (
          <textarea className="editor-plain" aria-label={ariaLabel} style={{ height }} value={value} spellCheck={false} onChange={(e) => onChange(e.target.value)} />
        )}
      </div>
    );
  }
  return (
    <div className="editor" data-testid={testId} data-editor={state === "ready" ? "monaco" : "loading"}>
      <div ref={host} className="editor-host" style={{ height }} />
      {state === "loading" && <div className="editor-loading">Loading the editor…</div>}
    </div>
  );
}

export interface YamlDiffProps {
  original: string;
  modified: string;
  originalLabel: string;
  modifiedLabel: string;
  height?: number;
  testId?: string;
}

/** A read-only side-by-side diff (Monaco's diff editor), or both texts where Monaco cannot run. */
export function YamlDiff({ original, modified, originalLabel, modifiedLabel, height = 360, testId }: YamlDiffProps) {
  const { monaco, state, error } = useMonaco();
  const host = useRef<HTMLDivElement>(null);
  const diff = useRef<DiffEditor | null>(null);

  useEffect(() => {
    if (!monaco || !host.current) return;
    const originalModel = monaco.editor.createModel("", "yaml");
    const modifiedModel = monaco.editor.createModel("", "yaml");
    const created = monaco.editor.createDiffEditor(host.current, {
      ...COMMON_OPTIONS,
      readOnly: true,
      originalEditable: false,
      renderSideBySide: true,
      // The labels above name the two sides; keep them side by side even in a narrow panel.
      useInlineViewWhenSpaceIsLimited: false,
      ignoreTrimWhitespace: false,
      hideUnchangedRegions: { enabled: true },
    });
    created.setModel({ original: originalModel, modified: modifiedModel });
    diff.current = created;
    return () => {
      created.dispose();
      originalModel.dispose();
      modifiedModel.dispose();
      diff.current = null;
    };
  }, [monaco]);

  useEffect(() => {
    const model = diff.current?.getModel();
    if (!model) return;
    if (model.original.getValue() !== original) model.original.setValue(original);
    if (model.modified.getValue() !== modified) model.modified.setValue(modified);
  }, [original, modified, monaco]);

  const labels = (
    <div className="editor-diff-labels">
      <span>{originalLabel}</span>
      <span>{modifiedLabel}</span>
    </div>
  );
  if (state === "plain") {
    return (
      <div className="editor" data-testid={testId} data-editor="plain">
        <EditorNote error={error} />
        {labels}
        <div className="editor-diff-plain">
          <pre className="editor-plain" aria-label={originalLabel} style={{ maxHeight: height }}>
            {original}
          </pre>
          <pre className="editor-plain" aria-label={modifiedLabel} style={{ maxHeight: height }}>
            {modified}
          </pre>
        </div>
      </div>
    );
  }
  return (
    <div className="editor" data-testid={testId} data-editor={state === "ready" ? "monaco-diff" : "loading"}>
      {labels}
      <div ref={host} className="editor-host" style={{ height }} />
      {state === "loading" && <div className="editor-loading">Loading the editor…</div>}
    </div>
  );
}
