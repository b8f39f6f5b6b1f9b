import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./app/App";
import type { Backend } from "./lib/backend";
import { BridgeBackend } from "./lib/backend/bridge";
import { TauriBackend } from "./lib/backend/tauri";
import { applyTheme, systemPrefersDark } from "./lib/theme";
import "./styles.css";

// Paint in the system theme straight away; the saved preference is applied once read.
applyTheme(systemPrefersDark() ? "dark" : "light");

if (import.meta.env.VITE_E2E_MOCKS === "1") {
  await import("./lib/backend/mock-ipc");
}

// `VITE_CAPSTAN_BRIDGE=1` builds talk to capstan-bridge (the real engine over loopback HTTP).
const backend: Backend = import.meta.env.VITE_CAPSTAN_BRIDGE === "1" ? new BridgeBackend() : new TauriBackend();

const root = document.getElementById("root");
if (!root) throw new Error("index.html has no #root element");
createRoot(root).render(
  <StrictMode>
    <App backend={backend} />
  </StrictMode>,
);
