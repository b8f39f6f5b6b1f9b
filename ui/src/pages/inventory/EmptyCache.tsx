import { formatCount, KIND_WORDS, useSyncState } from "../../components/sync";
import type { ErrorCode } from "../../lib/bindings";

/** Shown instead of a list while nothing of its kind was ever synced. */
export function EmptyCache({ what }: { what: string }) {
  const { running, start } = useSyncState();
  return (
    <section className="card inventory-empty" data-testid="inventory-empty">
      <h2 className="inventory-empty-title">Nothing cached yet</h2>
      {running ? (
        <p className="muted">
          A sync is running ({running.kind ? `${KIND_WORDS[running.kind].toLowerCase()} ${formatCount(running.done)}` : "starting"}); {what} appear
          here when it finishes.
        </p>
      ) : (
        <>
          <p className="muted">
            Capstan lists {what} from a local cache of Prism Central and Palette, so the lists open at once and work offline. Sync once to fill it.
          </p>
          <button type="button" className="button button-primary" onClick={() => void start("full")} data-testid="inventory-empty-sync">
            Sync now
          </button>
        </>
      )}
    </section>
  );
}

/** A failed list call: the message, the code, and a retry. */
export function LoadError({ title, error, onRetry, testId }: { title: string; error: { code: ErrorCode; message: string }; onRetry(): void; testId: string }) {
  return (
    <div className="banner" role="alert" data-testid={testId}>
      <div className="banner-body">
        <div className="banner-title">
          {title} <code className="error-code">{error.code}</code>
        </div>
        <div className="banner-message">{error.message}</div>
      </div>
      <button type="button" className="button" onClick={onRetry}>
        Retry
      </button>
    </div>
  );
}
