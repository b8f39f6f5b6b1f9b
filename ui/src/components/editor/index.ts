export { type EditorProblem, type EditorSchema, YamlDiff, YamlEditor, type YamlDiffProps, type YamlEditorProps } from "./YamlEditor";
export { loadMonaco, monacoSupported } from "./loader";
