import type { AppNotice } from "../app/state";
import { AlertIcon, CloseIcon } from "./Icons";

export function NoticeBanner({ notice, onDismiss }: { notice: AppNotice; onDismiss(): void }) {
  return (
    <div className="banner" role="alert" data-testid={`notice-${notice.id}`}>
      <AlertIcon size={16} className="banner-icon" />
      <div className="banner-body">
        <div className="banner-title">
          {notice.title} <code className="error-code" data-testid="notice-code">{notice.code}</code>
        </div>
        <div className="banner-message" data-testid="notice-message">
          {notice.message}
        </div>
      </div>
      {notice.retry && (
        <button type="button" className="button" onClick={notice.retry.run} data-testid="notice-retry">
          {notice.retry.label}
        </button>
      )}
      <button type="button" className="icon-button" onClick={onDismiss} aria-label="Dismiss" title="Dismiss">
        <CloseIcon size={14} />
      </button>
    </div>
  );
}
