import type { EditorSchema } from "../../../../components/editor";
import { KUBERNETES_VALUES } from "./kubernetes";
import { NUTANIX_CSI_VALUES } from "./nutanixCsi";
import { PALETTE_PACK_VALUES } from "./palettePack";

export { KUBERNETES_VALUES, NUTANIX_CSI_VALUES, PALETTE_PACK_VALUES };

const GENERAL: EditorSchema = { uri: "capstan://schemas/palette-pack-values.json", schema: PALETTE_PACK_VALUES };

/** Packs whose own keys are known; every other pack gets the general schema alone. */
const SPECIFIC: Record<string, EditorSchema> = {
  "nutanix-csi": { uri: "capstan://schemas/nutanix-csi-values.json", schema: { allOf: [PALETTE_PACK_VALUES, NUTANIX_CSI_VALUES] } },
  kubernetes: { uri: "capstan://schemas/kubernetes-values.json", schema: { allOf: [PALETTE_PACK_VALUES, KUBERNETES_VALUES] } },
};

/** The schema a pack's values are validated against (the same object each time, as the editor wants). */
export function schemaForPack(packName: string): EditorSchema {
  return SPECIFIC[packName] ?? GENERAL;
}
