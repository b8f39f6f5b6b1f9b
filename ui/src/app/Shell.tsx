import { lazy, Suspense, useCallback, useEffect, useMemo, useState } from "react";
import { CommandPalette, type PaletteAction } from "../components/CommandPalette";
import { ErrorBoundary } from "../components/ErrorBoundary";
import { ActivityIcon, MonitorIcon, MoonIcon, PAGE_ICONS, RefreshIcon, ServerIcon, SunIcon, CollapseIcon } from "../components/Icons";
import { NoticeBanner } from "../components/NoticeBanner";
import { Sidebar } from "../components/Sidebar";
import { StatusBar } from "../components/StatusBar";
import { SyncBar, SyncStateProvider } from "../components/sync";
import { KIND_LABEL } from "../components/health";
import { ActivityPage, isLogLevel } from "../pages/ActivityPage";
import { ClustersPage } from "../pages/ClustersPage";
import { SettingsPage } from "../pages/SettingsPage";
import { SetupPage } from "../pages/SetupPage";
import { WorkflowPage } from "../pages/WorkflowPage";
import { navigate, PAGES, type Route } from "../lib/router";
import { useAppState } from "./state";

const COLLAPSED_KEY = "capstan.sidebarCollapsed";

function isMac(): boolean {
  return /Mac|iPhone|iPad/.test(navigator.platform || navigator.userAgent);
}

function readCollapsed(): boolean {
  try {
    return window.localStorage.getItem(COLLAPSED_KEY) === "1";
  } catch {
    return false;
  }
}

// The map (xyflow, elk) is the heaviest page: loaded when first opened, not at start-up.
const TopologyPage = lazy(() => import("../pages/TopologyPage").then((m) => ({ default: m.TopologyPage })));

function PageView({ route }: { route: Route }) {
  switch (route.page) {
    case "setup":
      return <SetupPage />;
    case "workflow":
      return <WorkflowPage />;
    case "topology":
      return (
        <Suspense fallback={<div className="muted" data-testid="page-loading">Loading the map…</div>}>
          <TopologyPage />
        </Suspense>
      );
    case "clusters":
      return <ClustersPage />;
    case "activity": {
      const level = route.params.get("level");
      // Keyed on the level so "show errors" from the palette re-applies even when already here.
      return <ActivityPage key={level ?? ""} initialLevel={isLogLevel(level) ? level : undefined} />;
    }
    case "settings":
      return <SettingsPage />;
  }
}

export function Shell({ route }: { route: Route }) {
  const state = useAppState();
  const { notices, dismissNotice, environments, status, refreshStatus, activateEnvironment, setThemePreference, unseenProblems, markActivitySeen, loadEnvironments } = state;
  const [paletteOpen, setPaletteOpen] = useState(false);
  const [collapsed, setCollapsed] = useState(readCollapsed);
  const mac = useMemo(() => isMac(), []);
  const modifier = mac ? "⌘" : "Ctrl";
  const page = PAGES.find((p) => p.id === route.page) ?? PAGES[0];

  useEffect(() => {
    document.title = "Capstan";
  }, []);

  useEffect(() => {
    if (route.page === "activity") markActivitySeen();
  }, [route.page, unseenProblems, markActivitySeen]);

  const toggleCollapsed = useCallback(() => {
    setCollapsed((c) => {
      try {
        window.localStorage.setItem(COLLAPSED_KEY, c ? "0" : "1");
      } catch {
        // Storage can be unavailable (private mode); the toggle still works for this session.
      }
      return !c;
    });
  }, []);

  useEffect(() => {
    function onKeyDown(e: KeyboardEvent) {
      if ((e.ctrlKey || e.metaKey) && !e.altKey && !e.shiftKey && e.key.toLowerCase() === "k") {
        e.preventDefault();
        setPaletteOpen((open) => !open);
        return;
      }
      // e.code, not e.key: Option+1 on macOS types "¡".
      const digit = /^Digit([1-9])$/.exec(e.code)?.[1] ?? (/^[1-9]$/.test(e.key) ? e.key : null);
      if (digit && (e.altKey || e.ctrlKey) && !e.shiftKey && !e.metaKey) {
        const target = PAGES[Number(digit) - 1];
        if (target) {
          e.preventDefault();
          setPaletteOpen(false);
          navigate(target.id);
        }
      }
    }
    window.addEventListener("keydown", onKeyDown);
    return () => window.removeEventListener("keydown", onKeyDown);
  }, []);

  // The palette offers environment switching; make sure the list is there.
  useEffect(() => {
    if (paletteOpen && !environments) void loadEnvironments();
  }, [paletteOpen, environments, loadEnvironments]);

  const actions = useMemo<PaletteAction[]>(() => {
    const list: PaletteAction[] = PAGES.map((p, i) => {
      const Icon = PAGE_ICONS[p.id];
      return {
        id: `go-${p.id}`,
        title: `Go to ${p.label}`,
        section: "Navigate",
        keywords: p.description,
        shortcut: `Alt+${i + 1}`,
        icon: <Icon size={15} />,
        run: () => navigate(p.id),
      };
    });
    list.push({
      id: "check-now",
      title: "Check connection now",
      section: "Status",
      keywords: "refresh health palette prism status",
      icon: <RefreshIcon size={15} />,
      run: () => void refreshStatus(),
    });
    list.push({
      id: "activity-errors",
      title: "Show errors in Activity",
      section: "Activity",
      keywords: "log problems failures",
      icon: <ActivityIcon size={15} />,
      run: () => navigate("activity", { level: "error" }),
    });
    for (const env of environments?.environments ?? []) {
      const active = env.id === (status?.environment.id ?? environments?.activeId);
      list.push({
        id: `env-${env.id}`,
        title: `Switch environment to ${env.name}${active ? " (active)" : ""}`,
        section: KIND_LABEL[env.kind],
        keywords: `environment ${env.kind} ${env.paletteUrl ?? ""}`,
        icon: <ServerIcon size={15} />,
        run: () => {
          if (!active) void activateEnvironment(env.id);
        },
      });
    }
    list.push(
      { id: "theme-system", title: "Theme: follow system", section: "Appearance", keywords: "auto os", icon: <MonitorIcon size={15} />, run: () => void setThemePreference("system") },
      { id: "theme-light", title: "Theme: light", section: "Appearance", icon: <SunIcon size={15} />, run: () => void setThemePreference("light") },
      { id: "theme-dark", title: "Theme: dark", section: "Appearance", icon: <MoonIcon size={15} />, run: () => void setThemePreference("dark") },
      { id: "toggle-sidebar", title: "Toggle sidebar", section: "View", keywords: "collapse expand navigation", icon: <CollapseIcon size={15} />, run: toggleCollapsed },
    );
    return list;
  }, [environments, status, refreshStatus, activateEnvironment, setThemePreference, toggleCollapsed]);

  const shell = (
    <div className="app" data-testid="app-shell">
      <Sidebar
        active={route.page}
        collapsed={collapsed}
        onToggleCollapsed={toggleCollapsed}
        onOpenPalette={() => setPaletteOpen(true)}
        activityBadge={unseenProblems}
        shortcutModifier={modifier}
      />
      <main className="main" id="main" data-testid={`page-${route.page}`} aria-label={page.label}>
        {notices.length > 0 && (
          <div className="notices">
            {notices.map((n) => (
              <NoticeBanner key={n.id} notice={n} onDismiss={() => dismissNotice(n.id)} />
            ))}
          </div>
        )}
        <div className={route.page === "activity" || route.page === "clusters" || route.page === "topology" ? "page page-fill" : "page"}>
          <ErrorBoundary key={route.page} where={`the ${page.label} page`}>
            <PageView route={route} />
          </ErrorBoundary>
        </div>
        <SyncBar />
      </main>
      <StatusBar />
      {paletteOpen && <CommandPalette actions={actions} onClose={() => setPaletteOpen(false)} />}
    </div>
  );
  return <SyncStateProvider environmentId={status?.environment.id}>{shell}</SyncStateProvider>;
}
