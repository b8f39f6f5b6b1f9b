import { type Backend, BackendProvider } from "../lib/backend";
import { useRoute } from "../lib/router";
import { ErrorBoundary } from "../components/ErrorBoundary";
import { Shell } from "./Shell";
import { AppStateProvider } from "./state";

function Routed() {
  const route = useRoute();
  return (
    <AppStateProvider activityOpen={route.page === "activity"}>
      <Shell route={route} />
    </AppStateProvider>
  );
}

export function App({ backend }: { backend: Backend }) {
  return (
    <ErrorBoundary where="Capstan">
      <BackendProvider backend={backend}>
        <Routed />
      </BackendProvider>
    </ErrorBoundary>
  );
}
