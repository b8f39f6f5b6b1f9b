/// <reference types="vite/client" />

interface ImportMetaEnv {
  /** "1" in the Playwright build: answer IPC from in-page mocks. */
  readonly VITE_E2E_MOCKS?: string;
}

interface ImportMeta {
  readonly env: ImportMetaEnv;
}
