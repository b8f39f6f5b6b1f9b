import { type KeyboardEvent, useCallback, useEffect, useId, useLayoutEffect, useMemo, useRef, useState } from "react";
import type { ActivityEvent, ErrorCode, LogLevel } from "../lib/bindings";
import { describeError, useBackend, useBackendEvent } from "../lib/backend";
import { FileIcon, SearchIcon } from "../components/Icons";
import { PageHeader } from "../components/Page";
import { formatClock } from "../lib/time";

export const LEVELS: readonly LogLevel[] = ["trace", "debug", "info", "warn", "error"];
const LEVEL_LABEL: Record<LogLevel, string> = { trace: "Trace", debug: "Debug", info: "Info", warn: "Warn", error: "Error" };
const rank = (l: LogLevel) => LEVELS.indexOf(l);

/** How many events are kept in memory; older ones drop off the top. */
export const MAX_EVENTS = 5000;
/** How many the backend is asked for on load (its maximum). */
const FETCH_LIMIT = 2000;
export const ROW_HEIGHT = 28;
const OVERSCAN = 12;
/** Used when layout is unavailable (jsdom) so rows still render. */
const FALLBACK_VIEWPORT = 640;

export function isLogLevel(value: string | null): value is LogLevel {
  return value !== null && (LEVELS as readonly string[]).includes(value);
}

export function matchesText(event: ActivityEvent, needle: string): boolean {
  if (needle === "") return true;
  if (event.message.toLowerCase().includes(needle) || event.target.toLowerCase().includes(needle)) return true;
  return Object.entries(event.fields).some(([k, v]) => k.toLowerCase().includes(needle) || v.toLowerCase().includes(needle));
}

function mergeBySeq(base: ActivityEvent[], extra: ActivityEvent[]): ActivityEvent[] {
  const seen = new Set(base.map((e) => e.seq));
  const merged = [...base, ...extra.filter((e) => !seen.has(e.seq))];
  merged.sort((a, b) => a.seq - b.seq);
  return merged.length > MAX_EVENTS ? merged.slice(merged.length - MAX_EVENTS) : merged;
}

function FieldChips({ fields }: { fields: Record<string, string> }) {
  const entries = Object.entries(fields);
  if (entries.length === 0) return null;
  return (
    <span className="activity-fields">
      {entries.map(([k, v]) => (
        <span key={k} className="field-chip">
          <span className="field-key">{k}</span>={v}
        </span>
      ))}
    </span>
  );
}

export function ActivityPage({ initialLevel }: { initialLevel?: LogLevel }) {
  const backend = useBackend();
  const [minLevel, setMinLevel] = useState<LogLevel>(initialLevel ?? "info");
  const [text, setText] = useState("");
  const [events, setEvents] = useState<ActivityEvent[]>([]);
  const [logFile, setLogFile] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [loadError, setLoadError] = useState<{ code: ErrorCode; message: string } | null>(null);
  const [reloadToken, setReloadToken] = useState(0);
  const [selectedSeq, setSelectedSeq] = useState<number | null>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [viewport, setViewport] = useState(FALLBACK_VIEWPORT);
  const scrollRef = useRef<HTMLDivElement>(null);
  const followRef = useRef(true);
  const liveBuffer = useRef<ActivityEvent[]>([]);
  const listId = useId();

  // Live events: appended at once; also buffered so a load in flight does not lose them.
  useBackendEvent("capstan://activity", (event) => {
    liveBuffer.current.push(event);
    if (liveBuffer.current.length > MAX_EVENTS) liveBuffer.current.splice(0, liveBuffer.current.length - MAX_EVENTS);
    setEvents((list) => mergeBySeq(list, [event]));
  });

  useEffect(() => {
    let cancelled = false;
    backend
      .call("activity_list", { limit: FETCH_LIMIT, minLevel })
      .then((page) => {
        if (cancelled) return;
        setEvents(mergeBySeq(page.events, liveBuffer.current));
        setLogFile(page.logFile);
        setLoadError(null);
        followRef.current = true;
      })
      .catch((error: unknown) => {
        if (!cancelled) setLoadError(describeError(error));
      })
      .finally(() => {
        if (!cancelled) setLoading(false);
      });
    return () => {
      cancelled = true;
    };
  }, [backend, minLevel, reloadToken]);

  const needle = text.trim().toLowerCase();
  // Live events of every level are kept, so switching level does not lose them before the reload.
  const atLevel = useMemo(() => events.filter((e) => rank(e.level) >= rank(minLevel)), [events, minLevel]);
  const visible = useMemo(() => atLevel.filter((e) => matchesText(e, needle)), [atLevel, needle]);

  // Track the viewport height of the scroller.
  useLayoutEffect(() => {
    const el = scrollRef.current;
    if (!el) return;
    const measure = () => setViewport(el.clientHeight || FALLBACK_VIEWPORT);
    measure();
    if (typeof ResizeObserver === "undefined") return;
    const observer = new ResizeObserver(measure);
    observer.observe(el);
    return () => observer.disconnect();
  }, []);

  // Keep the newest event in view while the user is at the bottom ("follow" mode).
  useLayoutEffect(() => {
    const el = scrollRef.current;
    if (el && followRef.current) {
      el.scrollTop = el.scrollHeight;
      setScrollTop(el.scrollTop);
    }
  }, [visible.length]);

  const onScroll = useCallback(() => {
    const el = scrollRef.current;
    if (!el) return;
    setScrollTop(el.scrollTop);
    followRef.current = el.scrollTop + el.clientHeight >= el.scrollHeight - ROW_HEIGHT / 2;
  }, []);

  const first = Math.max(0, Math.floor(scrollTop / ROW_HEIGHT) - OVERSCAN);
  const last = Math.min(visible.length, Math.ceil((scrollTop + viewport) / ROW_HEIGHT) + OVERSCAN);
  const rows = visible.slice(first, last);
  const selectedIndex = selectedSeq === null ? -1 : visible.findIndex((e) => e.seq === selectedSeq);
  const selected = selectedIndex >= 0 ? visible[selectedIndex] : null;

  // Keep the selected row in view, also after the details panel opens and shrinks the list.
  useLayoutEffect(() => {
    const el = scrollRef.current;
    if (!el || selectedIndex < 0) return;
    const top = selectedIndex * ROW_HEIGHT;
    if (top < el.scrollTop) el.scrollTop = top;
    else if (top + ROW_HEIGHT > el.scrollTop + el.clientHeight) el.scrollTop = top + ROW_HEIGHT - el.clientHeight;
  }, [selectedIndex, viewport]);

  function selectIndex(index: number) {
    const event = visible[index];
    if (event) setSelectedSeq(event.seq);
  }

  function onListKeyDown(e: KeyboardEvent<HTMLDivElement>) {
    const page = Math.max(1, Math.floor(viewport / ROW_HEIGHT) - 1);
    const moves: Record<string, number> = { ArrowDown: 1, ArrowUp: -1, PageDown: page, PageUp: -page };
    if (e.key in moves) {
      e.preventDefault();
      const from = selectedIndex < 0 ? visible.length : selectedIndex;
      selectIndex(Math.min(visible.length - 1, Math.max(0, from + moves[e.key])));
    } else if (e.key === "Home") {
      e.preventDefault();
      selectIndex(0);
    } else if (e.key === "End") {
      e.preventDefault();
      selectIndex(visible.length - 1);
    } else if (e.key === "Escape" && selectedSeq !== null) {
      e.preventDefault();
      setSelectedSeq(null);
    }
  }

  return (
    <div className="activity-page">
      <PageHeader title="Activity" subtitle="Everything Capstan did, newest at the bottom. Secrets are already redacted." />
      <div className="toolbar" role="toolbar" aria-label="Activity filters">
        <div className="segmented" role="radiogroup" aria-label="Minimum level" data-testid="activity-level">
          {LEVELS.map((level) => (
            <button
              key={level}
              type="button"
              role="radio"
              aria-checked={minLevel === level}
              className="segment"
              data-level={level}
              data-testid={`activity-level-${level}`}
              onClick={() => {
                if (level === minLevel) return;
                setLoading(true);
                setMinLevel(level);
              }}
              title={`Show ${level} and above`}
            >
              {LEVEL_LABEL[level]}
            </button>
          ))}
        </div>
        <label className="search-field">
          <SearchIcon size={14} />
          <input
            type="search"
            placeholder="Filter by message, target or field…"
            aria-label="Filter activity"
            data-testid="activity-filter"
            value={text}
            onChange={(e) => setText(e.target.value)}
            spellCheck={false}
          />
        </label>
        <span className="toolbar-spacer" />
        <span className="muted" data-testid="activity-count" aria-live="polite">
          {visible.length === atLevel.length ? `${atLevel.length} events` : `${visible.length} of ${atLevel.length} events`}
        </span>
        <span className="live-pill" title="New events appear as they happen">
          <span className="live-dot" aria-hidden="true" /> Live
        </span>
      </div>

      {loadError && (
        <div className="banner" role="alert" data-testid="activity-error">
          <div className="banner-body">
            <div className="banner-title">
              Could not load activity <code className="error-code">{loadError.code}</code>
            </div>
            <div className="banner-message">{loadError.message}</div>
          </div>
          <button type="button" className="button" onClick={() => {
              setLoading(true);
              setReloadToken((n) => n + 1);
            }}>
            Retry
          </button>
        </div>
      )}

      <div className="activity-table">
        <div className="activity-head" aria-hidden="true">
          <span>Time</span>
          <span>Level</span>
          <span>Target</span>
          <span>Message</span>
        </div>
        <div
          className="activity-scroll"
          ref={scrollRef}
          onScroll={onScroll}
          role="listbox"
          id={listId}
          tabIndex={0}
          aria-label="Activity events"
          aria-activedescendant={selected ? `${listId}-${selected.seq}` : undefined}
          onKeyDown={onListKeyDown}
          data-testid="activity-list"
        >
          <div style={{ height: visible.length * ROW_HEIGHT, position: "relative" }}>
            {rows.map((event, i) => {
              const index = first + i;
              return (
                <div
                  key={event.seq}
                  id={`${listId}-${event.seq}`}
                  role="option"
                  aria-selected={event.seq === selectedSeq}
                  className="activity-row"
                  data-level={event.level}
                  data-testid="activity-row"
                  style={{ top: index * ROW_HEIGHT, height: ROW_HEIGHT }}
                  onClick={() => setSelectedSeq(event.seq === selectedSeq ? null : event.seq)}
                >
                  <span className="activity-time mono" title={event.timestamp}>
                    {formatClock(event.timestamp)}
                  </span>
                  <span className="level-badge" data-level={event.level}>
                    {event.level}
                  </span>
                  <span className="activity-target mono" title={event.target}>
                    {event.target}
                  </span>
                  <span className="activity-message">
                    <span className="activity-message-text">{event.message}</span>
                    <FieldChips fields={event.fields} />
                  </span>
                </div>
              );
            })}
          </div>
          {!loading && visible.length === 0 && !loadError && (
            <div className="activity-empty" data-testid="activity-empty">
              {atLevel.length === 0 && needle === "" ? "No activity at this level yet." : "No events match these filters."}
            </div>
          )}
        </div>
        {selected && (
          <section className="activity-detail" aria-label="Event details" data-testid="activity-detail">
            <div className="activity-detail-head">
              <span className="level-badge" data-level={selected.level}>
                {selected.level}
              </span>
              <span className="activity-detail-message">{selected.message}</span>
              <span className="muted mono">#{selected.seq}</span>
            </div>
            <dl className="kv">
              <div className="kv-row">
                <dt>Time</dt>
                <dd className="mono">{selected.timestamp}</dd>
              </div>
              <div className="kv-row">
                <dt>Target</dt>
                <dd className="mono">{selected.target}</dd>
              </div>
              {Object.entries(selected.fields).map(([k, v]) => (
                <div key={k} className="kv-row">
                  <dt>{k}</dt>
                  <dd className="mono">{v}</dd>
                </div>
              ))}
            </dl>
          </section>
        )}
      </div>
      <div className="activity-foot muted">
        <FileIcon size={13} />
        <span>Log file</span>
        <span className="mono selectable" data-testid="activity-log-file" title={logFile ?? undefined}>
          {logFile ?? "…"}
        </span>
        <span className="toolbar-spacer" />
        <span className="activity-foot-hint">Keeps the newest {MAX_EVENTS.toLocaleString("en")} events; the log file has everything.</span>
      </div>
    </div>
  );
}
