import { useEffect, useRef, useState } from "react";
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

/** Loads Monaco unless it cannot run here; `plain` = show the text without it. */
function useMonaco(): { monaco: Monaco | null; state: LoadState; error: string | null } {
  const supported = monacoSupported();
  const [monaco, setMonaco] = useState<Monaco | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (!supported) return;
    let live = true;
    loadMonaco()
      .then((m) => {
        if (live) setMonaco(m.monaco);
      })
      .catch((e: unknown) => {
        if (live) setError(e instanceof Error ? e.message : String(e));
      });
    return () => {
      live = false;
    };
  }, [supported]);
  const state: LoadState = !supported || error ? "plain" : monaco ? "ready" : "loading";
  return { monaco, state, error };
}

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
}

/** A YAML editor (Monaco, loaded lazily), or plain text where Monaco cannot run. */
export function YamlEditor({ value, onChange, readOnly = false, height = 360, ariaLabel, testId }: YamlEditorProps) {
  const { monaco, state, error } = useMonaco();
  const host = useRef<HTMLDivElement>(null);
  const editor = useRef<CodeEditor | null>(null);
  const onChangeRef = useRef(onChange);
  useEffect(() => {
    onChangeRef.current = onChange;
  });

  useEffect(() => {
    if (!monaco || !host.current) return;
    const model = monaco.editor.createModel("", "yaml");
    const created = monaco.editor.create(host.current, { ...COMMON_OPTIONS, model, readOnly, ariaLabel });
    const sub = created.onDidChangeModelContent(() => onChangeRef.current?.(created.getValue()));
    editor.current = created;
    return () => {
      sub.dispose();
      created.dispose();
      model.dispose();
      editor.current = null;
    };
  }, [monaco, readOnly, ariaLabel]);

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
