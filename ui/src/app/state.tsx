import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useRef, useState } from "react";
import type { EnvironmentList, ErrorCode, Status, ThemePreference } from "../lib/bindings";
import { describeError, useBackend, useBackendEvent } from "../lib/backend";
import { applyTheme, type ResolvedTheme, resolveTheme, useSystemPrefersDark } from "../lib/theme";

export interface AppNotice {
  id: string;
  title: string;
  code: ErrorCode;
  message: string;
  /** Label and action of the retry button, when retrying makes sense. */
  retry?: { label: string; run: () => void };
}

export interface AppState {
  status: Status | null;
  /** A refresh is in flight. */
  checking: boolean;
  refreshStatus(): Promise<void>;

  environments: EnvironmentList | null;
  loadEnvironments(): Promise<void>;
  /** The id being activated, while it is. */
  activating: string | null;
  activateEnvironment(id: string): Promise<void>;

  themePreference: ThemePreference;
  resolvedTheme: ResolvedTheme;
  setThemePreference(theme: ThemePreference): Promise<void>;

  notices: AppNotice[];
  dismissNotice(id: string): void;

  /** Errors and warnings recorded since the Activity page was last open. */
  unseenProblems: number;
  markActivitySeen(): void;
}

const AppStateContext = createContext<AppState | null>(null);

export function useAppState(): AppState {
  const state = useContext(AppStateContext);
  if (!state) throw new Error("useAppState() must be used inside <AppStateProvider>.");
  return state;
}

export function AppStateProvider({ children, activityOpen }: { children: ReactNode; activityOpen: boolean }) {
  const backend = useBackend();
  const [status, setStatus] = useState<Status | null>(null);
  const [checking, setChecking] = useState(false);
  const [environments, setEnvironments] = useState<EnvironmentList | null>(null);
  const [activating, setActivating] = useState<string | null>(null);
  const [themePreference, setThemePreferenceState] = useState<ThemePreference>("system");
  const [notices, setNotices] = useState<AppNotice[]>([]);
  const [unseenProblems, setUnseenProblems] = useState(0);
  const systemDark = useSystemPrefersDark();
  const resolvedTheme = resolveTheme(themePreference, systemDark);
  // Read through a ref so the activity subscription does not resubscribe on navigation.
  const activityOpenRef = useRef(activityOpen);
  useEffect(() => {
    activityOpenRef.current = activityOpen;
  }, [activityOpen]);

  useEffect(() => {
    applyTheme(resolvedTheme, themePreference);
  }, [resolvedTheme, themePreference]);

  const putNotice = useCallback((notice: AppNotice) => {
    setNotices((list) => [...list.filter((n) => n.id !== notice.id), notice]);
  }, []);
  const dismissNotice = useCallback((id: string) => {
    setNotices((list) => list.filter((n) => n.id !== id));
  }, []);

  // Retry buttons call the latest version of these without making them depend on themselves.
  const refreshStatusRef = useRef<() => Promise<void>>(async () => {});
  const loadEnvironmentsRef = useRef<() => Promise<void>>(async () => {});

  const refreshStatus = useCallback(async () => {
    setChecking(true);
    try {
      const next = await backend.call("status_refresh", {});
      setStatus(next);
      dismissNotice("status");
    } catch (error) {
      const { code, message } = describeError(error);
      putNotice({
        id: "status",
        title: "Connection check failed",
        code,
        message,
        retry: { label: "Check now", run: () => void refreshStatusRef.current() },
      });
    } finally {
      setChecking(false);
    }
  }, [backend, dismissNotice, putNotice]);
  useEffect(() => {
    refreshStatusRef.current = refreshStatus;
  }, [refreshStatus]);

  const loadEnvironments = useCallback(async () => {
    try {
      setEnvironments(await backend.call("environments_list", {}));
      dismissNotice("environments");
    } catch (error) {
      const { code, message } = describeError(error);
      putNotice({
        id: "environments",
        title: "Could not load environments",
        code,
        message,
        retry: { label: "Retry", run: () => void loadEnvironmentsRef.current() },
      });
    }
  }, [backend, dismissNotice, putNotice]);
  useEffect(() => {
    loadEnvironmentsRef.current = loadEnvironments;
  }, [loadEnvironments]);

  const activateEnvironment = useCallback(
    async (id: string) => {
      setActivating(id);
      try {
        const next = await backend.call("environment_activate", { id });
        setStatus(next);
        setEnvironments((list) => (list ? { ...list, activeId: next.environment.id } : list));
        dismissNotice("activate");
      } catch (error) {
        const { code, message } = describeError(error);
        putNotice({ id: "activate", title: "Could not switch environment", code, message });
      } finally {
        setActivating(null);
      }
    },
    [backend, dismissNotice, putNotice],
  );

  const setThemePreference = useCallback(
    async (theme: ThemePreference) => {
      const previous = themePreference;
      // Apply at once; the backend only persists it.
      setThemePreferenceState(theme);
      try {
        const saved = await backend.call("settings_update", { theme });
        setThemePreferenceState(saved.theme);
        dismissNotice("settings");
      } catch (error) {
        setThemePreferenceState(previous);
        const { code, message } = describeError(error);
        putNotice({ id: "settings", title: "Could not save the theme", code, message });
      }
    },
    [backend, themePreference, dismissNotice, putNotice],
  );

  // Initial load: status, environments and settings in parallel.
  useEffect(() => {
    let cancelled = false;
    backend
      .call("status_get", {})
      .then((s) => {
        if (!cancelled) setStatus((current) => current ?? s);
      })
      .catch((error: unknown) => {
        if (cancelled) return;
        const { code, message } = describeError(error);
        putNotice({
          id: "status",
          title: "Could not read the connection status",
          code,
          message,
          retry: { label: "Check now", run: () => void refreshStatusRef.current() },
        });
      });
    backend
      .call("settings_get", {})
      .then((s) => {
        if (!cancelled) setThemePreferenceState(s.theme);
      })
      .catch((error: unknown) => {
        if (cancelled) return;
        const { code, message } = describeError(error);
        putNotice({ id: "settings", title: "Could not read settings", code, message });
      });
    void loadEnvironmentsRef.current();
    return () => {
      cancelled = true;
    };
  }, [backend, putNotice]);

  useBackendEvent("capstan://status", (next) => {
    setStatus(next);
    setEnvironments((list) => (list && list.activeId !== next.environment.id ? { ...list, activeId: next.environment.id } : list));
  });

  useBackendEvent("capstan://activity", (event) => {
    if (!activityOpenRef.current && (event.level === "error" || event.level === "warn")) {
      setUnseenProblems((n) => n + 1);
    }
  });

  const markActivitySeen = useCallback(() => setUnseenProblems(0), []);

  const value = useMemo<AppState>(
    () => ({
      status,
      checking,
      refreshStatus,
      environments,
      loadEnvironments,
      activating,
      activateEnvironment,
      themePreference,
      resolvedTheme,
      setThemePreference,
      notices,
      dismissNotice,
      unseenProblems,
      markActivitySeen,
    }),
    [
      status,
      checking,
      refreshStatus,
      environments,
      loadEnvironments,
      activating,
      activateEnvironment,
      themePreference,
      resolvedTheme,
      setThemePreference,
      notices,
      dismissNotice,
      unseenProblems,
      markActivitySeen,
    ],
  );

  return <AppStateContext.Provider value={value}>{children}</AppStateContext.Provider>;
}
