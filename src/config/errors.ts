/**
 * Configuration errors. Self-contained on purpose: a shared base error class
 * may replace `Error` as the parent later without changing this shape.
 */

export interface ConfigIssue {
  /** Dotted key path, e.g. "receivers.grpc.endpoint"; "" for whole-document problems. */
  path: string;
  message: string;
}

export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID' as const;
  readonly issues: ConfigIssue[];

  constructor(message: string, issues: ConfigIssue[], options?: ErrorOptions) {
    super(message, options);
    this.name = 'ConfigError';
    this.issues = issues;
  }

  /** One line per issue: `<source>: <path>: <message>` (source/path omitted when empty). */
  static fromIssues(issues: ConfigIssue[], source?: string, options?: ErrorOptions): ConfigError {
    const lines = issues.map((i) =>
      [source, i.path, i.message].filter((part) => part !== undefined && part !== '').join(': '),
    );
    return new ConfigError(lines.join('\n'), issues, options);
  }
}
