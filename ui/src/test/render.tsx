import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { App } from "../app/App";
import { MockBackend } from "../lib/backend/mock";

/** Renders the whole app on `hash` against a fresh MockBackend, and waits for the status bar. */
export async function renderApp(options: { hash?: string; backend?: MockBackend; waitForStatus?: boolean } = {}) {
  window.location.hash = options.hash ?? "#/setup";
  const backend = options.backend ?? new MockBackend();
  const user = userEvent.setup();
  const utils = render(<App backend={backend} />);
  if (options.waitForStatus ?? true) {
    await screen.findByText("Local sandbox", { selector: "[data-testid=status-environment-name]" });
  }
  return { backend, user, ...utils };
}
