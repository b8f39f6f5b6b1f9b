/// <reference types="vite/client" />

interface ImportMetaEnv {
  /** "1" in the Playwright build: answer IPC from in-page mocks. */
  readonly VITE_E2E_MOCKS?: string;
  /** "1" in the bridge build: talk to capstan-bridge over HTTP instead of Tauri IPC. */
  readonly VITE_CAPSTAN_BRIDGE?: string;
}

interface ImportMeta {
  readonly env: ImportMetaEnv;
}
