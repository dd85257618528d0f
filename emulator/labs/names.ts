/** The seed labs that `runLab` / `ai-gateway-emulator lab <name>` replay. */
export const LAB_NAMES = ['token-rate-limiting', 'token-metrics-emitting'] as const;
export type LabName = (typeof LAB_NAMES)[number];
