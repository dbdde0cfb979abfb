/**
 * `${VAR}` / `${VAR:-default}` substitution, applied to the *parsed* TOML tree.
 *
 * Substituting after parsing (and only inside string values) means a variable
 * can never inject TOML structure: its value is always data, never syntax.
 */

export type PathSegment = string | number;

export interface InterpolationIssue {
  path: PathSegment[];
  message: string;
}

/**
 * Marks a string that came (at least partly) from the environment.
 *
 * Environment variables are always strings, yet a number or boolean key should
 * still be settable from one (`max_rows = "${MAX_ROWS}"`). The schema converts a
 * boxed value to a number/boolean only when it is boxed, so a literal
 * `max_rows = "100"` written in the file stays a type error.
 */
export class Interpolated {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const VAR_REF = /^([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?$/s;

type Env = Readonly<Record<string, string | undefined>>;

/** Expands one string; returns the expansion or a problem description. */
export function expandString(
  input: string,
  env: Env,
): { value: string; substituted: boolean } | { error: string } {
  let out = '';
  let substituted = false;
  let i = 0;
  while (i < input.length) {
    if (input.startsWith('$${', i)) {
      // Escape: `$${` stands for a literal `${`.
      out += '${';
      i += 3;
      continue;
    }
    if (!input.startsWith('${', i)) {
      out += input[i];
      i += 1;
      continue;
    }
    const close = input.indexOf('}', i + 2);
    if (close < 0) {
      return { error: 'unterminated "${" (write "$${" for a literal "${")' };
    }
    const ref = input.slice(i + 2, close);
    const m = VAR_REF.exec(ref);
    const name = m?.[1];
    if (m === null || name === undefined) {
      return { error: `invalid variable reference "\${${ref}}" (expected \${NAME} or \${NAME:-default})` };
    }
    const fallback = m[2];
    const raw = env[name];
    if (fallback !== undefined) {
      // Shell semantics for `:-`: the default also applies when the variable is empty.
      out += raw === undefined || raw === '' ? fallback : raw;
    } else if (raw === undefined) {
      return { error: `environment variable "${name}" is not set (use \${${name}:-default} to give a default)` };
    } else {
      out += raw;
    }
    substituted = true;
    i = close + 1;
  }
  return { value: out, substituted };
}

function isPlainTable(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/**
 * Returns a copy of `tree` with every string value expanded. Strings that were
 * substituted become `Interpolated`; strings that fail keep their raw text so
 * that validation can still run on the rest of the document.
 */
export function interpolateTree(
  tree: unknown,
  env: Env,
): { value: unknown; issues: InterpolationIssue[] } {
  const issues: InterpolationIssue[] = [];
  const walk = (node: unknown, path: PathSegment[]): unknown => {
    if (typeof node === 'string') {
      const r = expandString(node, env);
      if ('error' in r) {
        issues.push({ path, message: r.error });
        return node;
      }
      return r.substituted ? new Interpolated(r.value) : r.value;
    }
    if (Array.isArray(node)) return node.map((v, i) => walk(v, [...path, i]));
    if (isPlainTable(node)) {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(node)) out[k] = walk(v, [...path, k]);
      return out;
    }
    return node; // numbers, booleans, TOML dates
  };
  return { value: walk(tree, []), issues };
}
