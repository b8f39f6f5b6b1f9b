export { BackendProvider, useBackend, useBackendEvent } from "./context";
export { type Backend, BackendError, describeError, isBackendError, toBackendError } from "./types";
