/**
 * The one loader of @bokuweb/zstd-wasm in a process (or worker thread). Its `init()` replaces
 * the module's instance: a second call while the first is in use corrupts the output of calls
 * in flight (seen in bench/writer), so the page decompressors (query reads) and the leveled
 * page compressors (writes) share this promise instead of each calling `init()`.
 */
import { init } from '@bokuweb/zstd-wasm';

let loading: Promise<boolean> | undefined;
let loaded = false;

/** Starts loading once; resolves true when the module is usable, false if it failed to load. */
export function loadZstdWasm(): Promise<boolean> {
  loading ??= init().then(
    () => (loaded = true),
    () => false,
  );
  return loading;
}

/** Whether the module has loaded (synchronous callers fall back while it has not). */
export function zstdWasmLoaded(): boolean {
  return loaded;
}
