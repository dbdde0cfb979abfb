/**
 * Page compressors that take a level, for `[parquet] compression_level` (`recompress.ts` applies
 * them to the pages parquet-wasm wrote uncompressed).
 *
 * - GZIP and BROTLI: node:zlib, which takes a level on every Node we support.
 * - ZSTD: node:zlib's `zstdCompressSync` where Node has it (≥ 22.15), else @bokuweb/zstd-wasm
 *   (zstd compiled to wasm; its module loads asynchronously, so a process that writes with a
 *   ZSTD level awaits `prepareCompressors()` once before encoding — the daemon at start-up, the
 *   library's connector on its first flush, each encode worker when it starts).
 */
import * as zlib from 'node:zlib';
import { compress as zstdWasmCompress } from '@bokuweb/zstd-wasm';
import { S3ParquetError } from '../errors.js';
import { levelProblem, type LeveledCodec } from './levels.js';
import { CODEC_ID, type PageCompressor } from './recompress.js';
import { loadZstdWasm, zstdWasmLoaded } from './zstd-wasm.js';


type ZstdSync = (buffer: Uint8Array, options: { params: Record<number, number> }) => Buffer;
const nativeZstd = (zlib as unknown as { zstdCompressSync?: ZstdSync }).zstdCompressSync;
const ZSTD_LEVEL_PARAM = (zlib.constants as unknown as Record<string, number>).ZSTD_c_compressionLevel;

/**
 * Loads what the ZSTD compressor needs (a no-op where node:zlib has zstd); safe to call often.
 * The wasm module is shared with the query's page decompressors (zstd-wasm.ts loads it once).
 */
export async function prepareCompressors(): Promise<void> {
  if (nativeZstd) return;
  if (!(await loadZstdWasm())) throw new S3ParquetError('PARQUET_WRITE_FAILED', 'the ZSTD compressor (@bokuweb/zstd-wasm) failed to load');
}

/** Which ZSTD implementation this process compresses with (reported by the bench). */
export function zstdImplementation(): 'node:zlib' | '@bokuweb/zstd-wasm' {
  return nativeZstd ? 'node:zlib' : '@bokuweb/zstd-wasm';
}

/** The page compressor and Parquet codec id for `codec` at `level` (validated by the config). */
export function levelCompressor(codec: LeveledCodec, level: number): { codecId: number; compress: PageCompressor } {
  const problem = levelProblem(codec, level);
  if (problem) throw new S3ParquetError('PARQUET_WRITE_FAILED', `compression level ${level}: ${problem}`);
  switch (codec) {
    case 'GZIP':
      return { codecId: CODEC_ID.GZIP, compress: (page) => zlib.gzipSync(page, { level }) };
    case 'BROTLI':
      return {
        codecId: CODEC_ID.BROTLI,
        compress: (page) =>
          zlib.brotliCompressSync(page, {
            params: { [zlib.constants.BROTLI_PARAM_QUALITY]: level, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: page.length },
          }),
      };
    case 'ZSTD': {
      if (nativeZstd && ZSTD_LEVEL_PARAM !== undefined) {
        const native = nativeZstd;
        return { codecId: CODEC_ID.ZSTD, compress: (page) => native(page, { params: { [ZSTD_LEVEL_PARAM]: level } }) };
      }
      if (!zstdWasmLoaded()) {
        throw new S3ParquetError('PARQUET_WRITE_FAILED', 'the ZSTD compressor is not loaded: await prepareCompressors() before writing with a ZSTD compression level');
      }
      return { codecId: CODEC_ID.ZSTD, compress: (page) => zstdWasmCompress(page, level) };
    }
  }
}
