import type { EditorSchema } from "../../../../components/editor";

type Schema = EditorSchema["schema"];

/** kubeadm's extraArgs are map[string]string: an unquoted number or boolean is refused at boot. */
const STRING_MAP: Schema = { type: "object", additionalProperties: { type: "string" } };
const ARGS: Schema = { type: "object", properties: { extraArgs: { ...STRING_MAP, description: "Command-line flags, by name; every value a string." } } };

/** Palette eXtended Kubernetes (`kubernetes`): only the keys whose types are known. */
export const KUBERNETES_VALUES: Schema = {
  type: "object",
  properties: {
    pack: {
      type: "object",
      properties: {
        k8sHardening: { type: "boolean", description: "Apply Palette's CIS hardening to the control plane and kubelet." },
        podCIDR: { type: "string", description: "The pod network, e.g. 192.168.0.0/16." },
        serviceClusterIpRange: { type: "string", description: "The service network, e.g. 10.96.0.0/12." },
      },
    },
    kubeadmconfig: {
      type: "object",
      description: "Merged into the kubeadm configuration of the nodes.",
      properties: {
        apiServer: ARGS,
        controllerManager: ARGS,
        scheduler: ARGS,
        kubeletExtraArgs: { ...STRING_MAP, description: "kubelet flags, by name; every value a string." },
        preKubeadmCommands: { type: "array", items: { type: "string" } },
        postKubeadmCommands: { type: "array", items: { type: "string" } },
      },
    },
  },
};
