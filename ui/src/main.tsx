import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./app/App";
import { TauriBackend } from "./lib/backend/tauri";
import { applyTheme, systemPrefersDark } from "./lib/theme";
import "./styles.css";

// Paint in the system theme straight away; the saved preference is applied once read.
applyTheme(systemPrefersDark() ? "dark" : "light");

if (import.meta.env.VITE_E2E_MOCKS === "1") {
  await import("./lib/backend/mock-ipc");
}

const root = document.getElementById("root");
if (!root) throw new Error("index.html has no #root element");
createRoot(root).render(
  <StrictMode>
    <App backend={new TauriBackend()} />
  </StrictMode>,
);
