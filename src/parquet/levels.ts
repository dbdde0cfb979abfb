/**
 * Which codecs take a compression level and in what range (`[parquet] compression_level`,
 * `ParquetConfig.withCompressionLevel`). Plain data, so the config schema can validate a level
 * without loading a compressor.
 */
export const LEVEL_RANGES = {
  ZSTD: [1, 22],
  GZIP: [1, 9],
  BROTLI: [0, 11],
} as const satisfies Record<string, readonly [number, number]>;

export type LeveledCodec = keyof typeof LEVEL_RANGES;

export function takesLevel(codec: string): codec is LeveledCodec {
  return Object.hasOwn(LEVEL_RANGES, codec);
}

/** Why `level` does not suit `codec`, or undefined when it does. */
export function levelProblem(codec: string, level: number): string | undefined {
  if (!takesLevel(codec)) return `${codec} takes no level (levels: ${Object.entries(LEVEL_RANGES).map(([c, [lo, hi]]) => `${c} ${lo}–${hi}`).join(', ')})`;
  const [lo, hi] = LEVEL_RANGES[codec];
  if (!Number.isInteger(level) || level < lo || level > hi) return `expected a whole number between ${lo} and ${hi} for ${codec}`;
  return undefined;
}
