/** Runs the built CLI as a real process. */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export async function runCli(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

export interface ServingProcess {
  child: ChildProcess;
  ports: { grpc?: number; http?: number };
  lines: Record<string, unknown>[];
  exited: Promise<number | null>;
}

/** Starts `serve` and resolves once both receivers have logged their ports. */
export async function startServe(
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; onSpawn?: (child: ChildProcess) => void; nodeArgs?: string[] } = {},
): Promise<ServingProcess> {
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), CLI, 'serve', ...args], { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  // Before start-up completes (a replay runs then): e.g. to sample its memory from the first moment.
  options.onSpawn?.(child);
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  const lines: Record<string, unknown>[] = [];
  const ports: { grpc?: number; http?: number } = {};
  let stderr = '';
  child.stderr!.on('data', (b: Buffer) => {
    stderr += b.toString();
    if (process.env.S3PQ_ECHO_STDERR) process.stdout.write(b);
  });
  await new Promise<void>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    rl.on('line', (line) => {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      lines.push(entry);
      if (entry.msg === 'receiver listening') ports[entry.transport as 'grpc' | 'http'] = entry.port as number;
      if (entry.msg === 'daemon started') resolve();
    });
    void exited.then((code) => reject(new Error(`serve exited with ${code} before starting: ${stderr}`)));
  });
  return { child, ports, lines, exited };
}
