import { type KeyboardEvent, useRef } from "react";
import { hrefFor, PAGES, type PageId } from "../lib/router";
import { CapstanLogo, CollapseIcon, ExpandIcon, PAGE_ICONS, SearchIcon } from "./Icons";

export interface SidebarProps {
  active: PageId;
  collapsed: boolean;
  onToggleCollapsed(): void;
  onOpenPalette(): void;
  /** Problems (warnings/errors) not yet seen on the Activity page. */
  activityBadge: number;
  shortcutModifier: string;
}

export function Sidebar({ active, collapsed, onToggleCollapsed, onOpenPalette, activityBadge, shortcutModifier }: SidebarProps) {
  const listRef = useRef<HTMLUListElement>(null);

  // Arrow keys move between nav items (wrapping); Home/End jump to the ends.
  function onNavKeyDown(e: KeyboardEvent<HTMLUListElement>) {
    const links = Array.from(listRef.current?.querySelectorAll<HTMLAnchorElement>("a[data-nav-item]") ?? []);
    const current = links.indexOf(document.activeElement as HTMLAnchorElement);
    let next = -1;
    if (e.key === "ArrowDown") next = current < 0 ? 0 : (current + 1) % links.length;
    else if (e.key === "ArrowUp") next = current < 0 ? links.length - 1 : (current - 1 + links.length) % links.length;
    else if (e.key === "Home") next = 0;
    else if (e.key === "End") next = links.length - 1;
    if (next >= 0) {
      e.preventDefault();
      links[next].focus();
    }
  }

  return (
    <aside className="sidebar" data-collapsed={collapsed || undefined} data-testid="sidebar">
      <div className="sidebar-brand">
        <CapstanLogo size={22} />
        <span className="sidebar-brand-name">Capstan</span>
      </div>
      <button
        type="button"
        className="sidebar-search"
        onClick={onOpenPalette}
        data-testid="open-palette"
        aria-label="Open command palette"
        title={`Command palette (${shortcutModifier}+K)`}
      >
        <SearchIcon />
        <span className="sidebar-label">Search…</span>
        <kbd className="sidebar-label">{shortcutModifier === "⌘" ? "⌘K" : "Ctrl K"}</kbd>
      </button>
      <nav aria-label="Main" className="sidebar-nav">
        <ul ref={listRef} onKeyDown={onNavKeyDown}>
          {PAGES.map((page, i) => {
            const Icon = PAGE_ICONS[page.id];
            const isActive = page.id === active;
            const badge = page.id === "activity" && activityBadge > 0 ? activityBadge : 0;
            return (
              <li key={page.id}>
                <a
                  href={hrefFor(page.id)}
                  data-nav-item
                  data-testid={`nav-${page.id}`}
                  className="nav-item"
                  aria-current={isActive ? "page" : undefined}
                  title={collapsed ? `${page.label} (Alt+${i + 1})` : undefined}
                  aria-keyshortcuts={`Alt+${i + 1} Control+${i + 1}`}
                >
                  <Icon size={17} />
                  <span className="sidebar-label">{page.label}</span>
                  {badge > 0 && (
                    <span className="nav-badge" data-testid="activity-badge" aria-label={`${badge} new problems`}>
                      {badge > 99 ? "99+" : badge}
                    </span>
                  )}
                  <kbd className="nav-shortcut sidebar-label" aria-hidden="true">
                    {i + 1}
                  </kbd>
                </a>
              </li>
            );
          })}
        </ul>
      </nav>
      <div className="sidebar-footer">
        <button
          type="button"
          className="icon-button"
          onClick={onToggleCollapsed}
          data-testid="toggle-sidebar"
          aria-label={collapsed ? "Expand sidebar" : "Collapse sidebar"}
          aria-expanded={!collapsed}
          title={collapsed ? "Expand sidebar" : "Collapse sidebar"}
        >
          {collapsed ? <ExpandIcon /> : <CollapseIcon />}
        </button>
      </div>
    </aside>
  );
}
