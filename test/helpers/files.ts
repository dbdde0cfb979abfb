import { readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';

/** Every `.parquet` file below `dir`, as paths relative to it, sorted. */
export async function parquetFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  async function walk(d: string): Promise<void> {
    let entries;
    try {
      entries = await readdir(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.name.endsWith('.parquet')) out.push(relative(dir, p));
    }
  }
  await walk(dir);
  return out.sort();
}
