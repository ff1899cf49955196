/** One JSON object per line, with the resource id and correlation id wherever there is one. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogSink = (level: LogLevel, line: string) => void;

const SECRET_KEYS =
  /^(authorization|access_?token|token|secret|password|client_?secret|x-identity-header|identity_header|account_?key|sig)$/i;
const BEARER = /Bearer\s+[A-Za-z0-9\-_.~+/=]+/g;
const JWT = /eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g;

/** Removes anything that looks like a credential, whatever field it hides in. */
export function redact(value: unknown, depth = 0): unknown {
  if (depth > 12) return '[depth]';
  if (typeof value === 'string') return value.replace(BEARER, 'Bearer [redacted]').replace(JWT, '[redacted-token]');
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, SECRET_KEYS.test(k) ? '[redacted]' : redact(v, depth + 1)]),
    );
  }
  return value;
}

export interface StructuredLogger {
  log(level: LogLevel, event: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): StructuredLogger;
}

export function createLogger(sink: LogSink, base: Record<string, unknown> = {}): StructuredLogger {
  return {
    log(level, event, fields = {}) {
      const record = redact({ ts: new Date().toISOString(), level, event, ...base, ...fields });
      sink(level, JSON.stringify(record));
    },
    child(fields) {
      return createLogger(sink, { ...base, ...fields });
    },
  };
}

export const consoleSink: LogSink = (level, line) => {
  (level === 'error' || level === 'warn' ? process.stderr : process.stdout).write(`${line}\n`);
};
