// Types of the in-page mock control that the dist-e2e build installs (ui/src/lib/backend/mock-ipc.ts).
import type { CapstanMockControl, CapstanMockInit } from "../../ui/src/lib/backend/mock-ipc";

declare global {
  interface Window {
    __CAPSTAN_MOCK__?: CapstanMockControl;
    __CAPSTAN_MOCK_INIT__?: CapstanMockInit;
  }
}
export {};
