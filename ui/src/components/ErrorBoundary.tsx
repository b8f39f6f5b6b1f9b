import { Component, type ErrorInfo, type ReactNode } from "react";
import { AlertIcon } from "./Icons";

interface Props {
  /** Where this boundary sits, for the message ("the Activity page"). */
  where: string;
  children: ReactNode;
}

interface State {
  error: Error | null;
}

/** Catches render errors so one broken view never blanks the whole window. */
export class ErrorBoundary extends Component<Props, State> {
  override state: State = { error: null };

  static getDerivedStateFromError(error: unknown): State {
    return { error: error instanceof Error ? error : new Error(String(error)) };
  }

  override componentDidCatch(error: Error, info: ErrorInfo): void {
    console.error(`Render error in ${this.props.where}`, error, info.componentStack);
  }

  override render() {
    const { error } = this.state;
    if (!error) return this.props.children;
    return (
      <div className="crash" role="alert" data-testid="error-boundary">
        <AlertIcon size={22} />
        <h2>Something went wrong in {this.props.where}</h2>
        <p className="crash-message">
          <code className="error-code">internal</code> {error.message}
        </p>
        <p className="muted">The rest of Capstan still works. The details are in the developer console and the log.</p>
        <button type="button" className="button" onClick={() => this.setState({ error: null })}>
          Try again
        </button>
      </div>
    );
  }
}
