export { CacheFreshness, FreshnessNote, SyncBar } from "./SyncBar";
export { formatCount, KIND_WORDS } from "./kinds";
export { type SyncState, SyncStateProvider, useSyncState } from "./SyncState";
