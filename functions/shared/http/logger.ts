/**
 * Structured logs in Cloud Logging's JSON format: one line per entry, `severity` and `message`
 * at top level, the trace bound from X-Cloud-Trace-Context so entries group under the request.
 * Secrets are redacted by key name before anything is written.
 */
export type Severity = 'DEBUG' | 'INFO' | 'WARNING' | 'ERROR';
export type Fields = Record<string, unknown>;

const LEVELS: Record<Severity, number> = { DEBUG: 10, INFO: 20, WARNING: 30, ERROR: 40 };
const SECRET_KEY = /pass(word)?|secret|token|authorization|api[_-]?key|^key$|cookie|otp|code_hash|recovery|private|dek|plaintext|ciphertext|encrypted/i;
const REDACTED = '[redacted]';

export function redact(value: unknown, depth = 0): unknown {
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) return errorFields(value);
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Fields = {};
  for (const [k, v] of Object.entries(value as Fields)) {
    out[k] = SECRET_KEY.test(k) ? REDACTED : redact(v, depth + 1);
  }
  return out;
}

/**
 * An Error as log fields. A database error is logged by SQLSTATE, constraint, table and column only:
 * drizzle's DrizzleQueryError message is "Failed query: <sql>\nparams: <values>" (drizzle-orm
 * `errors.js`), and PostgreSQL's own message and detail quote values too ('Key (lower(email))=(…)',
 * 'invalid input syntax for type uuid: "…"'), so neither the messages nor the stack's first line,
 * which repeats the message, are kept. Other errors keep message, stack and cause.
 */
export function errorFields(err: Error, depth = 0): Fields {
  const db = databaseErrorOf(err);
  if (db) {
    const pick = (k: string) => (typeof db[k] === 'string' ? { [k]: db[k] } : {});
    return {
      name: err.name,
      database: { ...pick('code'), ...pick('constraint'), ...pick('schema'), ...pick('table'), ...pick('column'), ...pick('dataType'), ...pick('routine') },
      stack: err.stack?.split('\n').filter((line) => /^\s+at /.test(line)).join('\n'),
    };
  }
  const cause = (err as { cause?: unknown }).cause;
  return {
    name: err.name,
    message: err.message,
    stack: err.stack,
    ...(cause instanceof Error && depth < 3 ? { cause: errorFields(cause, depth + 1) } : {}),
  };
}

/** The database error in an error's cause chain: a driver error (SQLSTATE code) or a drizzle query error. */
function databaseErrorOf(err: Error): Record<string, unknown> | undefined {
  let wrapper: Record<string, unknown> | undefined;
  for (let e: any = err, depth = 0; e && typeof e === 'object' && depth < 5; e = e.cause, depth++) {
    if (typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code) && ('severity' in e || 'routine' in e || 'constraint' in e)) return e;
    if ('query' in e && 'params' in e) wrapper = e;
  }
  return wrapper ? {} : undefined;
}

export interface Logger {
  debug(message: string, fields?: Fields): void;
  info(message: string, fields?: Fields): void;
  warn(message: string, fields?: Fields): void;
  error(message: string, fields?: Fields): void;
  child(fields: Fields): Logger;
}

type Sink = (line: string) => void;
let sink: Sink = (line) => process.stdout.write(line + '\n');
/** Tests capture every log line to scan for secrets. */
export function setLogSink(next: Sink): Sink {
  const previous = sink;
  sink = next;
  return previous;
}

/** Read again only when LOG_LEVEL changes (tests change it at run time). */
let levelSetting: string | undefined | null = null;
let level = LEVELS.INFO;
function minLevel(): number {
  const setting = process.env.LOG_LEVEL;
  if (setting !== levelSetting) {
    levelSetting = setting;
    const env = (setting ?? 'info').toUpperCase();
    level = LEVELS[(env === 'WARN' ? 'WARNING' : env) as Severity] ?? LEVELS.INFO;
  }
  return level;
}

/**
 * `json` (Cloud Logging's format) everywhere but on a developer's terminal: the dev server switches
 * to `pretty` when its stdout is a TTY, so tests and production always see JSON.
 */
export type LogFormat = 'json' | 'pretty';
let format: LogFormat = 'json';
export function setLogFormat(next: LogFormat): LogFormat {
  const previous = format;
  format = next;
  return previous;
}

const COLOURS = { dim: 2, red: 31, green: 32, yellow: 33, cyan: 36, magenta: 35 } as const;
const paint = (colour: keyof typeof COLOURS, text: string) => `\x1b[${COLOURS[colour]}m${text}\x1b[0m`;
const SEVERITY_COLOUR: Record<Severity, keyof typeof COLOURS> = { DEBUG: 'dim', INFO: 'cyan', WARNING: 'yellow', ERROR: 'red' };

/** One line a person reads: a request as `METHOD path status latency id`, anything else as severity, message, fields. */
export function prettyLine(entry: Fields & { severity: Severity; message: string; time: string }): string {
  const clock = paint('dim', entry.time.slice(11, 23));
  const { severity, message, time: _time, function: _fn, requestId, ...rest } = entry;
  if (message === 'request' || (message === 'request failed' && typeof rest.method === 'string')) {
    const { method, path, status, latencyMs } = rest as { method: string; path: string; status: number; latencyMs: number };
    const colour = status >= 500 ? 'red' : status >= 400 ? 'yellow' : 'green';
    return `${clock} ${paint('magenta', String(method).padEnd(6))} ${path} ${paint(colour, String(status))} ${latencyMs}ms ${paint('dim', String(requestId ?? ''))}`;
  }
  const extra = Object.keys(rest).length ? ` ${paint('dim', JSON.stringify(rest))}` : '';
  return `${clock} ${paint(SEVERITY_COLOUR[severity], severity.padEnd(7))} ${message}${requestId ? ` ${paint('dim', String(requestId))}` : ''}${extra}`;
}

const ENTRY_KEYS = new Set(['severity', 'message', 'time']);

/**
 * The bound fields (function, request id, trace) are redacted and serialised once, when the logger is
 * made, not on every line; a line serialises only its own fields and splices the two. The output is the
 * same as `JSON.stringify({ severity, message, time, ...redact({ ...bound, ...fields }) })`, which is
 * still what is written when a line's fields repeat a bound or entry key (the later value wins there).
 */
export function createLogger(bound: Fields = {}): Logger {
  const safeBound = redact(bound) as Fields;
  const boundJson = JSON.stringify(safeBound).slice(1, -1);
  const reserved = new Set([...ENTRY_KEYS, ...Object.keys(safeBound)]);
  const write = (severity: Severity, message: string, fields?: Fields) => {
    if (LEVELS[severity] < minLevel()) return;
    const time = new Date().toISOString();
    if (format === 'pretty' || (fields && Object.keys(fields).some((k) => reserved.has(k)))) {
      const entry = { severity, message, time, ...(redact({ ...bound, ...fields }) as Fields) };
      sink(format === 'pretty' ? prettyLine(entry) : JSON.stringify(entry));
      return;
    }
    const own = fields ? JSON.stringify(redact(fields)).slice(1, -1) : '';
    const head = JSON.stringify({ severity, message, time }).slice(0, -1);
    sink(`${head}${boundJson ? `,${boundJson}` : ''}${own ? `,${own}` : ''}}`);
  };
  return {
    debug: (m, f) => write('DEBUG', m, f),
    info: (m, f) => write('INFO', m, f),
    warn: (m, f) => write('WARNING', m, f),
    error: (m, f) => write('ERROR', m, f),
    child: (fields) => createLogger({ ...bound, ...fields }),
  };
}

/** `logging.googleapis.com/trace` from `X-Cloud-Trace-Context: TRACE_ID/SPAN_ID;o=1`. */
export function traceFields(header: string | undefined, project: string | undefined): Fields {
  if (!header) return {};
  const [trace, rest] = header.split('/');
  if (!trace) return {};
  const span = rest?.split(';')[0];
  return {
    'logging.googleapis.com/trace': project ? `projects/${project}/traces/${trace}` : trace,
    ...(span ? { 'logging.googleapis.com/spanId': span } : {}),
  };
}

export const rootLogger = createLogger();
