import { type KeyboardEvent, useEffect, useRef } from "react";
import { useAppState } from "../app/state";
import { EnvironmentBadge } from "./EnvironmentBadge";
import { CheckIcon } from "./Icons";

/** The environment switcher that pops up from the status bar. */
export function EnvironmentMenu({ onClose }: { onClose(): void }) {
  const { environments, loadEnvironments, activateEnvironment, activating } = useAppState();
  const menuRef = useRef<HTMLDivElement>(null);

  useEffect(() => {
    void loadEnvironments();
  }, [loadEnvironments]);

  // Focus the active entry once the list is there.
  const listReady = environments !== null;
  useEffect(() => {
    if (!listReady) return;
    const items = menuRef.current?.querySelectorAll<HTMLButtonElement>("[role=menuitemradio]");
    const checked = menuRef.current?.querySelector<HTMLButtonElement>("[aria-checked=true]");
    (checked ?? items?.[0])?.focus();
  }, [listReady]);

  useEffect(() => {
    function onPointerDown(e: PointerEvent) {
      const target = e.target as Node;
      if (menuRef.current && !menuRef.current.contains(target) && !(target as Element).closest?.("[data-testid=status-environment]")) {
        onClose();
      }
    }
    document.addEventListener("pointerdown", onPointerDown);
    return () => document.removeEventListener("pointerdown", onPointerDown);
  }, [onClose]);

  function onKeyDown(e: KeyboardEvent<HTMLDivElement>) {
    const items = Array.from(menuRef.current?.querySelectorAll<HTMLButtonElement>("[role=menuitemradio]") ?? []);
    const current = items.indexOf(document.activeElement as HTMLButtonElement);
    if (e.key === "Escape") {
      e.preventDefault();
      e.stopPropagation();
      onClose();
    } else if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      const delta = e.key === "ArrowDown" ? 1 : -1;
      items[(current + delta + items.length) % items.length]?.focus();
    } else if (e.key === "Tab") {
      onClose();
    }
  }

  return (
    <div className="popover env-menu" role="menu" aria-label="Environments" ref={menuRef} onKeyDown={onKeyDown} data-testid="environment-menu">
      <div className="popover-title">Switch environment</div>
      {environments === null && <div className="popover-empty">Loading environments…</div>}
      {environments?.environments.map((env) => {
        const active = env.id === environments.activeId;
        return (
          <button
            key={env.id}
            type="button"
            role="menuitemradio"
            aria-checked={active}
            className="menu-item"
            data-testid={`environment-option-${env.id}`}
            disabled={activating !== null}
            onClick={async () => {
              if (!active) await activateEnvironment(env.id);
              onClose();
            }}
          >
            <span className="menu-check">{active && <CheckIcon size={14} />}</span>
            <span className="menu-item-main">
              <span className="menu-item-title">
                {env.name}
                <EnvironmentBadge kind={env.kind} />
              </span>
              <span className="menu-item-sub">{env.paletteUrl ?? "Palette URL not set"}</span>
            </span>
            {activating === env.id && <span className="muted">Switching…</span>}
          </button>
        );
      })}
    </div>
  );
}
