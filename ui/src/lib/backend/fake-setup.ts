import type {
  ConnectionTestRequest,
  ConnectionTestResult,
  EnvironmentDetail,
  EnvironmentIdRequest,
  IpcError,
  SaveEnvironmentRequest,
  SecretStoreStatus,
  UnlockSecretFileRequest,
} from "../bindings";

/**
 * The setup half of the `FakeServer`: saved environments, the secret store and "Test
 * connection", answering like the Rust engine. Skeleton; the Setup page's tests fill it in.
 */
export class FakeSetup {
  readonly details = new Map<string, EnvironmentDetail>();

  secretStore: SecretStoreStatus = {
    state: "ready",
    backend: "keyring",
    persistent: true,
    reason: null,
    filePath: "/home/operator/.config/capstan/secrets.enc",
    fileExists: false,
    minPassphraseChars: 8,
  };

  get({ id }: EnvironmentIdRequest): EnvironmentDetail {
    const detail = this.details.get(id);
    if (!detail) throw { code: "not_found", message: `There is no environment with id "${id}".` } satisfies IpcError;
    return detail;
  }

  save(request: SaveEnvironmentRequest): EnvironmentDetail {
    const id = request.config.id || request.config.name.trim().toLowerCase().replace(/[^a-z0-9]+/g, "-");
    const previous = this.details.get(id)?.saved;
    const detail: EnvironmentDetail = {
      kind: "real",
      config: { ...request.config, id },
      saved: {
        paletteApiKey: Boolean(request.secrets.paletteApiKey) || Boolean(previous?.paletteApiKey),
        prismPassword: Boolean(request.secrets.prismPassword) || Boolean(previous?.prismPassword),
        prismApiKey: Boolean(request.secrets.prismApiKey) || Boolean(previous?.prismApiKey),
        sysadminPassword: Boolean(request.secrets.sysadminPassword) || Boolean(previous?.sysadminPassword),
      },
    };
    this.details.set(id, detail);
    return detail;
  }

  delete({ id }: EnvironmentIdRequest): void {
    this.details.delete(id);
  }

  test(request: ConnectionTestRequest): ConnectionTestResult {
    throw {
      code: "unavailable",
      message: `The mocked backend cannot test ${request.service} yet.`,
    } satisfies IpcError;
  }

  status(): SecretStoreStatus {
    return this.secretStore;
  }

  unlock(_request: UnlockSecretFileRequest): SecretStoreStatus {
    return this.secretStore;
  }
}
