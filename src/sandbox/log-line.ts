/**
 * A JSON log line of the app (or a queue message) as the demos read it back: loosely typed on purpose,
 * since a demo only prints what it finds and fails loudly when a field it needs is missing.
 */
// biome-ignore lint/suspicious/noExplicitAny: parsed JSON read field by field by the demos
export type LogLine = Record<string, any>;
