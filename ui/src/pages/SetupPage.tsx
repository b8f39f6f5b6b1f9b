import { useCallback, useEffect, useState } from "react";
import { useAppState } from "../app/state";
import type { EnvironmentDetail, ErrorCode, SecretStoreStatus } from "../lib/bindings";
import { describeError, useBackend } from "../lib/backend";
import { navigate } from "../lib/router";
import { EnvironmentCard } from "../components/EnvironmentCard";
import { PageHeader } from "../components/Page";
import { EnvironmentForm } from "./setup/EnvironmentForm";
import { EnvironmentList } from "./setup/EnvironmentList";
import { savedCredentialsWhere, SecretStorePanel } from "./setup/SecretStorePanel";
import { Welcome } from "./setup/Welcome";
import "./setup/setup.css";

const SANDBOX_ID = "sandbox";

interface Editor {
  /** Changes for every opening, so a new form starts empty. */
  session: number;
  detail: EnvironmentDetail | null;
}

interface Flash {
  name: string;
  activated: boolean;
}

export function SetupPage() {
  const backend = useBackend();
  const { environments, loadEnvironments, activateEnvironment, activating, status } = useAppState();
  const [store, setStore] = useState<SecretStoreStatus | null>(null);
  const [storeError, setStoreError] = useState<string | null>(null);
  const [editor, setEditor] = useState<Editor | null>(null);
  const [busyId, setBusyId] = useState<string | null>(null);
  const [listProblem, setListProblem] = useState<{ title: string; code: ErrorCode; message: string } | null>(null);
  const [flash, setFlash] = useState<Flash | null>(null);
  const [exploring, setExploring] = useState(false);

  const loadStore = useCallback(() => {
    backend
      .call("secret_store_status", {})
      .then((s) => {
        setStore(s);
        setStoreError(null);
      })
      .catch((error: unknown) => setStoreError(describeError(error).message));
  }, [backend]);

  useEffect(() => {
    loadStore();
  }, [loadStore]);

  const realCount = environments?.environments.filter((e) => e.kind === "real").length ?? 0;
  const firstRun = environments !== null && realCount === 0 && editor === null;

  function openNew() {
    setFlash(null);
    setListProblem(null);
    setEditor((e) => ({ session: (e?.session ?? 0) + 1, detail: null }));
  }

  async function openEdit(id: string) {
    setFlash(null);
    setListProblem(null);
    setBusyId(id);
    try {
      const detail = await backend.call("environment_get", { id });
      setEditor((e) => ({ session: (e?.session ?? 0) + 1, detail }));
    } catch (error) {
      setListProblem({ title: "Could not open the environment", ...describeError(error) });
    } finally {
      setBusyId(null);
    }
  }

  async function remove(id: string) {
    setFlash(null);
    setListProblem(null);
    setBusyId(id);
    try {
      await backend.call("environment_delete", { id });
    } catch (error) {
      setListProblem({ title: "Could not delete the environment", ...describeError(error) });
    } finally {
      setBusyId(null);
      await loadEnvironments();
    }
  }

  async function explore() {
    setExploring(true);
    try {
      if ((status?.environment.id ?? environments?.activeId) !== SANDBOX_ID) await activateEnvironment(SANDBOX_ID);
      navigate("workflow");
    } finally {
      setExploring(false);
    }
  }

  function onSaved(detail: EnvironmentDetail, activated: boolean) {
    setEditor(null);
    setFlash({ name: detail.config.name, activated });
    void loadEnvironments();
  }

  const storePanel = (
    <SecretStorePanel status={store} loadError={storeError} onReload={loadStore} onUnlocked={setStore} />
  );

  return (
    <div className="setup-page">
      <PageHeader title="Setup" subtitle="Connect Capstan to Palette and Prism Central, or explore the built-in sandbox." />
      {environments === null && <div className="muted">Reading environments…</div>}
      {firstRun && <Welcome onExplore={() => void explore()} onConnect={openNew} exploring={exploring} />}
      {editor && (
        <EnvironmentForm
          key={editor.session}
          initial={editor.detail}
          activateByDefault={editor.detail === null}
          secretStore={store}
          secretStoreError={storeError}
          onReloadSecretStore={loadStore}
          onSecretStoreChange={setStore}
          onSaved={onSaved}
          onCancel={() => setEditor(null)}
        />
      )}
      {!editor && !firstRun && environments !== null && (
        <>
          {flash && (
            <div className="setup-flash" role="status" data-testid="setup-saved">
              Saved “{flash.name}”. {store ? savedCredentialsWhere(store) : null}{" "}
              {flash.activated ? "It is now the active environment." : "Activate it to work with it."}
            </div>
          )}
          {listProblem && (
            <div className="banner" role="alert" data-testid="env-list-error">
              <div className="banner-body">
                <div className="banner-title">
                  {listProblem.title} <code className="error-code">{listProblem.code}</code>
                </div>
                <div className="banner-message">{listProblem.message}</div>
              </div>
            </div>
          )}
          <EnvironmentCard />
          <EnvironmentList
            list={environments}
            activating={activating}
            busyId={busyId}
            onActivate={(id) => void activateEnvironment(id)}
            onEdit={(id) => void openEdit(id)}
            onDelete={(id) => void remove(id)}
            onAdd={openNew}
          />
          {storePanel}
        </>
      )}
      {firstRun && <EnvironmentCard />}
    </div>
  );
}
