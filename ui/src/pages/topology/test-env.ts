/**
 * What xyflow needs from the browser and jsdom lacks. Call from a test file (jsdom only).
 * Sizes come from inline styles so xyflow sees the sizes the layout gave each node.
 */
export function installFlowStubs(): void {
  if (typeof window === "undefined") return;

  class StubResizeObserver {
    constructor(private readonly callback: ResizeObserverCallback) {}
    observe(target: Element) {
      this.callback([{ target } as ResizeObserverEntry], this as unknown as ResizeObserver);
    }
    unobserve() {}
    disconnect() {}
  }
  // Always this one: the global test setup installs a silent stub, and xyflow needs one that
  // reports the observed element.
  Object.defineProperty(window, "ResizeObserver", { value: StubResizeObserver, configurable: true, writable: true });

  class StubDOMMatrixReadOnly {
    m22: number;
    constructor(transform?: string) {
      const scale = transform?.match(/scale\(([\d.]+)\)/)?.[1];
      this.m22 = scale !== undefined ? Number(scale) : 1;
    }
  }
  if (!("DOMMatrixReadOnly" in window)) {
    Object.defineProperty(window, "DOMMatrixReadOnly", { value: StubDOMMatrixReadOnly, configurable: true, writable: true });
  }

  const size = (el: HTMLElement, prop: "width" | "height") => parseFloat(el.style[prop]) || 1;
  Object.defineProperties(HTMLElement.prototype, {
    offsetWidth: { configurable: true, get(this: HTMLElement) { return size(this, "width"); } },
    offsetHeight: { configurable: true, get(this: HTMLElement) { return size(this, "height"); } },
  });

  if (!("getBBox" in SVGElement.prototype)) {
    Object.defineProperty(SVGElement.prototype, "getBBox", { configurable: true, value: () => ({ x: 0, y: 0, width: 0, height: 0 }) });
  }
}
