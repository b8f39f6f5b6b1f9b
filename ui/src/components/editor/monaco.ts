/**
 * Monaco with YAML support, configured for an offline desktop app. Only ever loaded through
 * `loadMonaco()` (a dynamic import), so it lands in its own chunk and the main bundle stays
 * small. The editor core without the other languages, the YAML grammar for highlighting,
 * monaco-yaml for validation/hover/completion, and the two workers bundled by Vite (`?worker`):
 * nothing is fetched from a CDN, and monaco-yaml never downloads schemas.
 */
import "monaco-editor/esm/vs/editor/edcore.main";
import "monaco-editor/esm/vs/basic-languages/yaml/yaml.contribution";
import * as monaco from "monaco-editor/esm/vs/editor/editor.api";
import EditorWorker from "monaco-editor/esm/vs/editor/editor.worker?worker";
import { configureMonacoYaml, type JSONSchema, type MonacoYaml, type SchemasSettings } from "monaco-yaml";
import YamlWorker from "monaco-yaml/yaml.worker?worker";

self.MonacoEnvironment = {
  getWorker(_workerId: string, label: string): Worker {
    return label === "yaml" ? new YamlWorker() : new EditorWorker();
  },
};

/** The one monaco-yaml instance; pages add JSON schemas with `yaml.update({schemas})`. */
export const yaml: MonacoYaml = configureMonacoYaml(monaco, {
  enableSchemaRequest: false,
  validate: true,
  hover: true,
  completion: true,
  format: { enable: false },
  schemas: [],
});

/** The schemas registered so far, by the folder whose models they validate. */
const schemaFolders = new Map<string, SchemasSettings>();

/**
 * Validates every model under `inmemory://capstan/<folder>/` against `schema`. Registered once
 * per folder and never removed: `yaml.update` replaces the whole list and restarts the YAML
 * worker (failing its requests in flight), so it runs only for a schema not seen before, and
 * callers do it before creating the model.
 */
export function registerSchema(folder: string, schema: { uri: string; schema: JSONSchema }): void {
  if (schemaFolders.has(folder)) return;
  schemaFolders.set(folder, { uri: schema.uri, fileMatch: [`${folder}/*.yaml`], schema: schema.schema });
  yaml.update({ schemas: [...schemaFolders.values()] }).catch(() => undefined);
}

function applyTheme(): void {
  monaco.editor.setTheme(document.documentElement.dataset.theme === "dark" ? "vs-dark" : "vs");
}

// The app switches themes by setting <html data-theme>; follow it.
applyTheme();
new MutationObserver(applyTheme).observe(document.documentElement, { attributes: true, attributeFilter: ["data-theme"] });

export { monaco };
