import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { ErrorBoundary } from "./ErrorBoundary";

let shouldThrow = true;
function Fragile() {
  if (shouldThrow) throw new Error("cannot read properties of undefined (reading 'nodes')");
  return <p>recovered</p>;
}

describe("ErrorBoundary", () => {
  it("shows the error instead of a blank view and can try again", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    shouldThrow = true;
    render(
      <ErrorBoundary where="the Topology page">
        <Fragile />
      </ErrorBoundary>,
    );
    const alert = screen.getByRole("alert");
    expect(alert).toHaveTextContent("Something went wrong in the Topology page");
    expect(alert).toHaveTextContent("reading 'nodes'");
    shouldThrow = false;
    await userEvent.click(screen.getByRole("button", { name: "Try again" }));
    expect(screen.getByText("recovered")).toBeInTheDocument();
  });
});
