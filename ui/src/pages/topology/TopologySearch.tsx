import { type KeyboardEvent, type Ref, useEffect, useId, useState } from "react";
import type { SearchHit } from "../../lib/bindings";
import { describeError, useBackend } from "../../lib/backend";
import { SearchIcon } from "../../components/Icons";
import { KIND_LABEL } from "./graph";

const SEARCH_DELAY_MS = 150;
const SEARCH_LIMIT = 20;

interface Answer {
  query: string;
  hits: SearchHit[];
  error: string | null;
}

/**
 * Finds any node, including VMs inside collapsed groups (the backend says which group to
 * expand). Picking a hit hands it to `onPick`; `/` anywhere on the page focuses the box.
 */
export function TopologySearch({ expanded, onPick, inputRef }: { expanded: readonly string[]; onPick: (hit: SearchHit) => void; inputRef: Ref<HTMLInputElement> }) {
  const backend = useBackend();
  const [text, setText] = useState("");
  const [answer, setAnswer] = useState<Answer | null>(null);
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(0);
  const listId = useId();
  const query = text.trim();

  useEffect(() => {
    if (query === "") return;
    let cancelled = false;
    const timer = setTimeout(() => {
      backend
        .call("topology_search", { text: query, expanded: [...expanded], limit: SEARCH_LIMIT })
        .then((result) => {
          if (cancelled) return;
          setAnswer({ query, hits: result.hits, error: null });
          setActive(0);
        })
        .catch((error: unknown) => {
          if (!cancelled) setAnswer({ query, hits: [], error: describeError(error).message });
        });
    }, SEARCH_DELAY_MS);
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
  }, [backend, query, expanded]);

  const current = answer && answer.query === query && query !== "" ? answer : null;
  const hits = current?.hits ?? [];
  const showList = open && query !== "" && current !== null;

  const pick = (hit: SearchHit) => {
    setOpen(false);
    onPick(hit);
  };

  const onKeyDown = (e: KeyboardEvent<HTMLInputElement>) => {
    if (e.key === "ArrowDown" && hits.length > 0) {
      e.preventDefault();
      setOpen(true);
      setActive((i) => Math.min(hits.length - 1, i + 1));
    } else if (e.key === "ArrowUp" && hits.length > 0) {
      e.preventDefault();
      setActive((i) => Math.max(0, i - 1));
    } else if (e.key === "Enter") {
      const hit = hits[Math.min(active, hits.length - 1)];
      if (hit) {
        e.preventDefault();
        pick(hit);
      }
    } else if (e.key === "Escape" && showList) {
      // Handled here, so the page does not also close the inspector.
      e.preventDefault();
      setOpen(false);
    }
  };

  return (
    <div className="topo-search">
      <label className="search-field">
        <SearchIcon size={14} />
        <input
          ref={inputRef}
          type="search"
          placeholder="Find a cluster, VM, IP, subnet…"
          aria-label="Search the topology"
          aria-keyshortcuts="/"
          role="combobox"
          aria-expanded={showList}
          aria-controls={listId}
          aria-autocomplete="list"
          aria-activedescendant={showList && hits.length > 0 ? `${listId}-${Math.min(active, hits.length - 1)}` : undefined}
          data-testid="topology-search"
          value={text}
          spellCheck={false}
          onChange={(e) => {
            setText(e.target.value);
            setOpen(true);
          }}
          onFocus={() => setOpen(true)}
          onBlur={() => setOpen(false)}
          onKeyDown={onKeyDown}
        />
        <kbd aria-hidden="true">/</kbd>
      </label>
      {showList && (
        <ul className="topo-search-results" role="listbox" id={listId} aria-label="Search results">
          {current.error && <li className="topo-search-empty">{current.error}</li>}
          {!current.error && hits.length === 0 && <li className="topo-search-empty">Nothing matches “{query}”.</li>}
          {hits.map((hit, i) => (
            <li
              key={hit.nodeId}
              id={`${listId}-${i}`}
              role="option"
              aria-selected={i === active}
              className="topo-search-result"
              data-testid="topology-search-result"
              data-node-id={hit.nodeId}
              // mousedown, not click: the input's blur would close the list first.
              onMouseDown={(e) => {
                e.preventDefault();
                pick(hit);
              }}
              onMouseEnter={() => setActive(i)}
            >
              <span className="topo-search-kind">{KIND_LABEL[hit.kind]}</span>
              <span className="topo-search-label">{hit.label}</span>
              {hit.expand && <span className="topo-search-note muted">in a collapsed group</span>}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
