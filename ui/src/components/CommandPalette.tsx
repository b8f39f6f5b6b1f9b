import { type KeyboardEvent, type ReactNode, useEffect, useId, useMemo, useRef, useState } from "react";
import { fuzzyFilter } from "../lib/fuzzy";

export interface PaletteAction {
  id: string;
  title: string;
  /** Shown at the right, e.g. "Navigate", "Environment". */
  section: string;
  /** Extra words to match on that are not in the title. */
  keywords?: string;
  shortcut?: string;
  icon?: ReactNode;
  run(): void;
}

function Highlighted({ text, positions }: { text: string; positions: number[] }) {
  if (positions.length === 0) return <>{text}</>;
  const marks = new Set(positions);
  return (
    <>
      {Array.from(text).map((ch, i) =>
        marks.has(i) ? (
          <mark key={i} className="palette-match">
            {ch}
          </mark>
        ) : (
          <span key={i}>{ch}</span>
        ),
      )}
    </>
  );
}

/**
 * Ctrl/Cmd+K command palette: a modal dialog with a combobox over a listbox. Focus stays in
 * the input; arrows move the active option (aria-activedescendant); Enter runs it.
 */
export function CommandPalette({ actions, onClose }: { actions: PaletteAction[]; onClose(): void }) {
  const [query, setQuery] = useState("");
  const [activeIndex, setActiveIndex] = useState(0);
  const inputRef = useRef<HTMLInputElement>(null);
  const listRef = useRef<HTMLUListElement>(null);
  const listId = useId();
  const optionId = (i: number) => `${listId}-option-${i}`;

  const results = useMemo(() => fuzzyFilter(actions, query, (a) => `${a.title}`), [actions, query]);
  const keywordResults = useMemo(() => {
    // Keywords widen the match without polluting highlight positions in the title.
    if (query.trim() === "") return results;
    const seen = new Set(results.map((r) => r.item.id));
    const extra = fuzzyFilter(
      actions.filter((a) => a.keywords && !seen.has(a.id)),
      query,
      (a) => a.keywords ?? "",
    ).map((r) => ({ item: r.item, match: { score: r.match.score - 5, positions: [] as number[] } }));
    return [...results, ...extra];
  }, [actions, query, results]);

  const active = Math.min(activeIndex, Math.max(keywordResults.length - 1, 0));

  useEffect(() => {
    const previouslyFocused = document.activeElement as HTMLElement | null;
    inputRef.current?.focus();
    return () => {
      // Give focus back to where the user was.
      previouslyFocused?.focus?.();
    };
  }, []);

  useEffect(() => {
    const el = listRef.current?.querySelector<HTMLElement>(`[data-index="${active}"]`);
    el?.scrollIntoView?.({ block: "nearest" });
  }, [active]);

  function run(index: number) {
    const action = keywordResults[index]?.item;
    if (!action) return;
    onClose();
    action.run();
  }

  function onKeyDown(e: KeyboardEvent<HTMLDivElement>) {
    const count = keywordResults.length;
    switch (e.key) {
      case "ArrowDown":
        e.preventDefault();
        if (count) setActiveIndex((active + 1) % count);
        break;
      case "ArrowUp":
        e.preventDefault();
        if (count) setActiveIndex((active - 1 + count) % count);
        break;
      case "PageDown":
        e.preventDefault();
        if (count) setActiveIndex(Math.min(active + 8, count - 1));
        break;
      case "PageUp":
        e.preventDefault();
        if (count) setActiveIndex(Math.max(active - 8, 0));
        break;
      case "Enter":
        e.preventDefault();
        run(active);
        break;
      case "Escape":
        e.preventDefault();
        e.stopPropagation();
        onClose();
        break;
      case "Tab":
        // Focus trap: the input is the only focus stop inside the dialog.
        e.preventDefault();
        inputRef.current?.focus();
        break;
    }
  }

  return (
    <div className="overlay" data-testid="palette-overlay" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <div className="palette" role="dialog" aria-modal="true" aria-label="Command palette" data-testid="command-palette" onKeyDown={onKeyDown}>
        <div className="palette-input-row">
          <input
            ref={inputRef}
            className="palette-input"
            data-testid="palette-input"
            role="combobox"
            aria-expanded="true"
            aria-controls={listId}
            aria-autocomplete="list"
            aria-activedescendant={keywordResults.length ? optionId(active) : undefined}
            aria-label="Type a command"
            placeholder="Type a command or search…"
            value={query}
            spellCheck={false}
            autoComplete="off"
            onChange={(e) => {
              setQuery(e.target.value);
              setActiveIndex(0);
            }}
          />
          <kbd className="palette-esc">Esc</kbd>
        </div>
        <ul className="palette-list" role="listbox" id={listId} ref={listRef} aria-label="Commands">
          {keywordResults.map(({ item, match }, i) => (
            // Options are reached via aria-activedescendant from the input, not by Tab.
            <li
              key={item.id}
              id={optionId(i)}
              role="option"
              aria-selected={i === active}
              data-index={i}
              data-testid={`palette-option-${item.id}`}
              className="palette-option"
              onMouseMove={() => i !== active && setActiveIndex(i)}
              onMouseDown={(e) => e.preventDefault()}
              onClick={() => run(i)}
            >
              <span className="palette-option-icon">{item.icon}</span>
              <span className="palette-option-title">
                <Highlighted text={item.title} positions={match.positions} />
              </span>
              {item.shortcut && <kbd className="palette-shortcut">{item.shortcut}</kbd>}
              <span className="palette-section">{item.section}</span>
            </li>
          ))}
        </ul>
        {keywordResults.length === 0 && (
          <div className="palette-empty" data-testid="palette-empty">
            No commands match “{query}”.
          </div>
        )}
      </div>
    </div>
  );
}
