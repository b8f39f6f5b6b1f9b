import "@testing-library/jest-dom/vitest";
import { cleanup } from "@testing-library/react";
import { afterEach } from "vitest";

afterEach(() => {
  cleanup();
  window.location.hash = "";
  window.localStorage.clear();
  document.documentElement.removeAttribute("data-theme");
  document.documentElement.removeAttribute("data-theme-preference");
});

// jsdom lacks these; components use them for scrolling the active option into view.
if (!Element.prototype.scrollIntoView) {
  Element.prototype.scrollIntoView = function scrollIntoView() {};
}

// jsdom has no ResizeObserver; pages that measure themselves (the topology map) must still
// mount in whole-app tests. Topology's own tests install one that reports sizes.
if (!("ResizeObserver" in window)) {
  class SilentResizeObserver {
    observe() {}
    unobserve() {}
    disconnect() {}
  }
  Object.defineProperty(window, "ResizeObserver", { value: SilentResizeObserver, configurable: true, writable: true });
}
