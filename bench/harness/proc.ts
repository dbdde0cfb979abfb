/** A process's CPU and resident memory from /proc (Linux), for benches and tests that run the daemon as a child. */
import { readdir, readFile } from 'node:fs/promises';

/** Clock ticks per second of /proc/<pid>/stat's utime and stime (USER_HZ, 100 on Linux). */
const TICKS = 100;

/** CPU seconds of every thread of the process (utime + stime). */
export async function cpuSeconds(pid: number): Promise<number> {
  const { user, system } = await cpuSplit(pid);
  return user + system;
}

/**
 * User and system CPU seconds and minor page faults of every thread of the process. System time
 * is mostly the kernel mapping fresh pages on first touch: on the bench VM a 4 KiB page costs ~12 µs,
 * so writing 64 MiB of new memory takes ~230 ms against ~5 ms for memory written before.
 */
export async function cpuSplit(pid: number): Promise<{ user: number; system: number; minorFaults: number }> {
  const stat = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
  return { user: Number(stat[11]) / TICKS, system: Number(stat[12]) / TICKS, minorFaults: Number(stat[7]) };
}

/**
 * CPU seconds of each thread of the process, by thread name (/proc/<pid>/task/<tid>/comm; Node
 * names its main thread after the process and its worker threads by their kind), summed per name.
 * The main thread (tid = pid) is reported as `main`.
 */
export async function cpuSecondsByThread(pid: number): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const tid of await readdir(`/proc/${pid}/task`)) {
    try {
      const stat = (await readFile(`/proc/${pid}/task/${tid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
      const name = Number(tid) === pid ? 'main' : (await readFile(`/proc/${pid}/task/${tid}/comm`, 'utf8')).trim();
      out[name] = (out[name] ?? 0) + (Number(stat[11]) + Number(stat[12])) / TICKS;
    } catch {
      // the thread ended
    }
  }
  return out;
}

/** Resident memory in MiB (VmRSS). */
export async function rssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
}
