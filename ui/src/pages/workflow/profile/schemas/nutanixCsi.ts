import type { EditorSchema } from "../../../../components/editor";

type Schema = EditorSchema["schema"];

const RETENTION: Schema = { type: "string", enum: ["Delete", "Retain"], description: "The reclaim policy of the storage class." };

/**
 * The `nutanix-csi-storage` chart inside Palette's `nutanix-csi` pack. Only keys documented
 * by the chart (2.6 values.yaml and the 3.x install guide) are typed; the chart's other
 * values are allowed as they are.
 */
const NUTANIX_CSI_STORAGE: Schema = {
  type: ["object", "null"],
  properties: {
    namespace: { type: "string" },
    legacy: { type: "boolean", description: "Keep the old driver name com.nutanix.csi (only for drivers first installed before 2.2)." },
    kubeletDir: { type: "string" },
    createPrismCentralSecret: { type: "boolean", description: "Create the Prism Central credentials Secret from the pc* values." },
    prismCentralEndPoint: { type: "string" },
    pcUsername: { type: "string" },
    pcPassword: { type: "string" },
    pcSecretName: { type: "string" },
    createSecret: { type: "boolean", description: "Create the Prism Element credentials Secret from prismEndPoint/username/password." },
    prismEndPoint: { type: "string", description: "Prism Element address (FQDN or cluster virtual IP)." },
    username: { type: "string" },
    password: { type: "string" },
    secretName: { type: "string" },
    peSecretName: { type: "string" },
    storageContainer: { type: "string", description: "The Nutanix storage container volumes are created in." },
    fsType: { type: "string", examples: ["xfs", "ext4"] },
    lvmVolume: { type: "boolean" },
    lvmDisks: { type: "integer", minimum: 1 },
    networkSegmentation: { type: "boolean" },
    volumeClass: { type: "boolean", description: "Create a storage class for Nutanix Volumes." },
    volumeClassName: { type: "string" },
    volumeClassRetention: RETENTION,
    fileClass: { type: "boolean", description: "Create a storage class for an existing Nutanix Files share." },
    fileClassName: { type: "string" },
    fileClassRetention: RETENTION,
    fileHost: { type: "string" },
    filePath: { type: "string" },
    dynamicFileClass: { type: "boolean", description: "Create a storage class for dynamically provisioned Files shares." },
    dynamicFileClassName: { type: "string" },
    dynamicFileClassRetention: RETENTION,
    fileServerName: { type: "string" },
    dynamicFileSquashType: { type: "string", enum: ["none", "root-squash", "all-squash"] },
    defaultStorageClass: { type: "string", description: "Which created class is the cluster default.", examples: ["none", "volume", "file", "dynfile"] },
    nodeSelector: { type: "object", additionalProperties: { type: "string" } },
    tolerations: { type: "array", items: { type: "object" } },
    controller: { type: "object", properties: { replicas: { type: "integer", minimum: 1 } } },
  },
};

export const NUTANIX_CSI_VALUES: Schema = {
  type: "object",
  properties: {
    charts: { type: "object", properties: { "nutanix-csi-storage": NUTANIX_CSI_STORAGE } },
  },
};
