/** Configuration errors: the `Config` kind of the S3ParquetError family, with every issue listed. */
import { S3ParquetError } from '../errors.js';

export interface ConfigIssue {
  /** Dotted key path, e.g. "receivers.grpc.endpoint"; "" for whole-document problems. */
  path: string;
  message: string;
}

export class ConfigError extends S3ParquetError {
  readonly issues: ConfigIssue[];

  constructor(message: string, issues: ConfigIssue[], options?: ErrorOptions) {
    super('CONFIG_INVALID', message, options);
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
