import type { EditorSchema } from "../../../../components/editor";

type Schema = EditorSchema["schema"];

/**
 * What every Palette pack's values share: the `pack:` block Palette reads itself, and the
 * per-manifest and per-chart values. Anything else is the pack's own business, so extra keys
 * are allowed everywhere.
 */
export const PALETTE_PACK_VALUES: Schema = {
  title: "Palette pack values",
  type: "object",
  properties: {
    pack: {
      type: "object",
      description: "Palette's settings for the pack itself; not passed to the pack's charts or manifests.",
      properties: {
        namespace: { type: "string", description: "The namespace the pack's charts and manifests are installed into." },
        releaseNameOverride: {
          type: "object",
          description: "The Helm release name of each chart, by chart name.",
          additionalProperties: { type: "string" },
        },
        content: {
          type: "object",
          description: "What the pack pulls, listed so air-gapped installs can mirror it.",
          properties: {
            images: {
              type: "array",
              description: "Container images the pack uses.",
              items: { type: "object", properties: { image: { type: "string", description: "A full image reference." } }, required: ["image"] },
            },
            charts: {
              type: "array",
              description: "Helm charts the pack installs.",
              items: {
                type: "object",
                properties: {
                  repo: { type: "string", description: "The chart repository URL." },
                  name: { type: "string" },
                  version: { type: "string" },
                },
              },
            },
          },
        },
      },
    },
    manifests: { type: "object", description: "Values for the pack's manifests, one entry per manifest." },
    charts: {
      type: "object",
      description: "Helm values for the pack's charts, one map per chart.",
      additionalProperties: { type: ["object", "null"] },
    },
  },
};
