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
import { configureMonacoYaml, type MonacoYaml } from "monaco-yaml";
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

function applyTheme(): void {
  monaco.editor.setTheme(document.documentElement.dataset.theme === "dark" ? "vs-dark" : "vs");
}

// The app switches themes by setting <html data-theme>; follow it.
applyTheme();
new MutationObserver(applyTheme).observe(document.documentElement, { attributes: true, attributeFilter: ["data-theme"] });

export { monaco };
