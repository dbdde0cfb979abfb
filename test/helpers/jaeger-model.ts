/**
 * Jaeger's published JSON model (jaegertracing/jaeger model/json/model.go: Trace, Span,
 * Reference, Process, Log, KeyValue) as a checker: every field must be one the model declares,
 * with the declared JSON type, the way Go's decoder reads the UI's data. Returns the problems.
 */
type Obj = Record<string, unknown>;

const VALUE_TYPES = new Set(['string', 'bool', 'int64', 'float64', 'binary']);

function fields(o: unknown, at: string, allowed: Record<string, (v: unknown, at: string) => void>, required: string[], problems: string[]): void {
  if (o === null || typeof o !== 'object' || Array.isArray(o)) {
    problems.push(`${at}: expected an object`);
    return;
  }
  for (const r of required) if (!(r in o)) problems.push(`${at}.${r}: missing`);
  for (const [k, v] of Object.entries(o)) {
    const check = allowed[k];
    if (!check) problems.push(`${at}.${k}: not in the Jaeger model`);
    else check(v, `${at}.${k}`);
  }
}

export function checkJaegerTrace(trace: unknown): string[] {
  const problems: string[] = [];
  const str = (v: unknown, at: string) => typeof v !== 'string' && problems.push(`${at}: expected a string`);
  const uint = (v: unknown, at: string) => (typeof v !== 'number' || !Number.isInteger(v) || v < 0) && problems.push(`${at}: expected an unsigned integer`);
  const strings = (v: unknown, at: string) => v !== null && (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) && problems.push(`${at}: expected []string`);
  const list = (item: (v: unknown, at: string) => void) => (v: unknown, at: string) => {
    if (v === null) return;
    if (!Array.isArray(v)) problems.push(`${at}: expected an array`);
    else v.forEach((x, i) => item(x, `${at}[${i}]`));
  };
  const keyValue = (v: unknown, at: string) => {
    fields(v, at, { key: str, type: (t, a) => !VALUE_TYPES.has(t as string) && problems.push(`${a}: unknown value type ${String(t)}`), value: () => undefined }, ['key', 'value'], problems);
    const kv = v as Obj;
    const t = kv.type ?? 'string';
    const ok = t === 'string' || t === 'binary' ? typeof kv.value === 'string' : t === 'bool' ? typeof kv.value === 'boolean' : typeof kv.value === 'number' && (t !== 'int64' || Number.isInteger(kv.value));
    if (!ok) problems.push(`${at}: value ${JSON.stringify(kv.value)} is not a ${String(t)}`);
  };
  const reference = (v: unknown, at: string) =>
    fields(v, at, { refType: (t, a) => t !== 'CHILD_OF' && t !== 'FOLLOWS_FROM' && problems.push(`${a}: unknown refType ${String(t)}`), traceID: str, spanID: str }, ['refType', 'traceID', 'spanID'], problems);
  const log = (v: unknown, at: string) => fields(v, at, { timestamp: uint, fields: list(keyValue) }, ['timestamp'], problems);
  const span = (v: unknown, at: string) =>
    fields(
      v,
      at,
      { traceID: str, spanID: str, flags: uint, operationName: str, references: list(reference), startTime: uint, duration: uint, tags: list(keyValue), logs: list(log), processID: str, warnings: strings },
      ['traceID', 'spanID', 'operationName', 'startTime', 'duration', 'processID'],
      problems,
    );
  const process = (v: unknown, at: string) => fields(v, at, { serviceName: str, tags: list(keyValue) }, ['serviceName'], problems);
  fields(
    trace,
    'trace',
    {
      traceID: str,
      spans: list(span),
      processes: (v, at) => {
        if (v === null || typeof v !== 'object') problems.push(`${at}: expected an object`);
        else for (const [k, p] of Object.entries(v)) process(p, `${at}.${k}`);
      },
      warnings: strings,
    },
    ['traceID', 'spans', 'processes'],
    problems,
  );
  const t = trace as { spans?: Obj[]; processes?: Obj };
  for (const s of t.spans ?? []) if (!t.processes || !(String(s.processID) in t.processes)) problems.push(`span ${String(s.spanID)}: processID ${String(s.processID)} not in processes`);
  return problems;
}
