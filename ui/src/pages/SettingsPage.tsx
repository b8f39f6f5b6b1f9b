import { useEffect, useState } from "react";
import { useAppState } from "../app/state";
import type { AppInfo, ErrorCode, ThemePreference } from "../lib/bindings";
import { describeError, useBackend } from "../lib/backend";
import { MonitorIcon, MoonIcon, SunIcon } from "../components/Icons";
import { PageHeader } from "../components/Page";
import { CacheSection } from "./CacheSection";

const THEMES: Array<{ value: ThemePreference; label: string; hint: string; Icon: typeof SunIcon }> = [
  { value: "system", label: "System", hint: "Follow the operating system", Icon: MonitorIcon },
  { value: "light", label: "Light", hint: "Always light", Icon: SunIcon },
  { value: "dark", label: "Dark", hint: "Always dark", Icon: MoonIcon },
];

export function SettingsPage() {
  const backend = useBackend();
  const { themePreference, resolvedTheme, setThemePreference } = useAppState();
  const [info, setInfo] = useState<AppInfo | null>(null);
  const [infoError, setInfoError] = useState<{ code: ErrorCode; message: string } | null>(null);

  useEffect(() => {
    let cancelled = false;
    backend
      .call("app_info", {})
      .then((i) => !cancelled && setInfo(i))
      .catch((error: unknown) => !cancelled && setInfoError(describeError(error)));
    return () => {
      cancelled = true;
    };
  }, [backend]);

  return (
    <>
      <PageHeader title="Settings" subtitle="Appearance and information about this installation." />
      <section className="card settings-section" aria-labelledby="appearance-heading">
        <h2 id="appearance-heading" className="section-title">
          Appearance
        </h2>
        <div className="setting-row">
          <div>
            <div className="setting-label" id="theme-label">
              Theme
            </div>
            <div className="setting-hint">
              {themePreference === "system" ? `Following the system: currently ${resolvedTheme}.` : `Always ${themePreference}.`}
            </div>
          </div>
          <div className="theme-choices" role="radiogroup" aria-labelledby="theme-label" data-testid="theme-choices">
            {THEMES.map(({ value, label, hint, Icon }) => (
              <button
                key={value}
                type="button"
                role="radio"
                aria-checked={themePreference === value}
                className="theme-choice"
                data-testid={`theme-${value}`}
                title={hint}
                onClick={() => void setThemePreference(value)}
              >
                <span className={`theme-swatch theme-swatch-${value}`} aria-hidden="true" />
                <span className="theme-choice-label">
                  <Icon size={14} /> {label}
                </span>
              </button>
            ))}
          </div>
        </div>
      </section>

      <section className="card settings-section" aria-labelledby="about-heading" data-testid="app-info">
        <h2 id="about-heading" className="section-title">
          About
        </h2>
        {infoError && (
          <div className="banner" role="alert">
            <div className="banner-body">
              <div className="banner-title">
                Could not read app information <code className="error-code">{infoError.code}</code>
              </div>
              <div className="banner-message">{infoError.message}</div>
            </div>
          </div>
        )}
        {!info && !infoError && <div className="muted">Loading…</div>}
        {info && (
          <dl className="kv kv-wide">
            <div className="kv-row">
              <dt>Version</dt>
              <dd data-testid="app-version">
                {info.name} {info.version} <span className="muted">({info.buildProfile}, {info.platform})</span>
              </dd>
            </div>
            <div className="kv-row">
              <dt>Data directory</dt>
              <dd className="mono selectable" data-testid="app-data-dir">
                {info.dataDir}
              </dd>
            </div>
            <div className="kv-row">
              <dt>Log directory</dt>
              <dd className="mono selectable" data-testid="app-log-dir">
                {info.logDir}
              </dd>
            </div>
          </dl>
        )}
      </section>

      <CacheSection />

      <section className="card settings-section" aria-labelledby="keys-heading">
        <h2 id="keys-heading" className="section-title">
          Keyboard
        </h2>
        <dl className="kv kv-wide">
          <div className="kv-row">
            <dt>Command palette</dt>
            <dd>
              <kbd>Ctrl</kbd> <kbd>K</kbd> <span className="muted">(⌘K on macOS)</span>
            </dd>
          </div>
          <div className="kv-row">
            <dt>Go to page</dt>
            <dd>
              <kbd>Alt</kbd> <kbd>1</kbd>…<kbd>6</kbd> <span className="muted">or</span> <kbd>Ctrl</kbd> <kbd>1</kbd>…<kbd>6</kbd>
            </dd>
          </div>
          <div className="kv-row">
            <dt>Move in the sidebar</dt>
            <dd>
              <kbd>↑</kbd> <kbd>↓</kbd> <kbd>Home</kbd> <kbd>End</kbd>
            </dd>
          </div>
          <div className="kv-row">
            <dt>Close a popup</dt>
            <dd>
              <kbd>Esc</kbd>
            </dd>
          </div>
        </dl>
      </section>
    </>
  );
}
