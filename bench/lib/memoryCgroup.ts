import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { errorMessage } from '../../src/util/errors.js';

const V1_MOUNT = '/sys/fs/cgroup/memory';

/** What the kernel says about a cgroup after the run. */
export interface CgroupReport {
  /** OOM kills inside the cgroup (memory.oom_control `oom_kill`). */
  readonly oomKills: number;
  /** Times usage hit the limit (memory.failcnt). */
  readonly failcnt: number;
  /** Peak charge, bytes (memory.max_usage_in_bytes; includes page cache, so not quoted as RSS). */
  readonly maxUsageBytes: number;
}

/** Reads `oom_kill N` out of memory.oom_control (0 when the kernel is too old to count). */
export function parseOomControl(text: string): number {
  const m = /^oom_kill\s+(\d+)$/m.exec(text);
  return m ? Number(m[1]) : 0;
}

/** The memory controller path of this process (cgroup v1 line `N:memory:/path`), or undefined. */
export function ownMemoryCgroupPath(procSelfCgroup: string): string | undefined {
  const line = procSelfCgroup.split('\n').find((l) => l.split(':')[1]?.split(',').includes('memory'));
  return line?.slice(line.indexOf(':', line.indexOf(':') + 1) + 1);
}

/**
 * A cgroup v1 memory cgroup with a hard limit (memory.limit_in_bytes and, where swap accounting exists,
 * memory.memsw.limit_in_bytes, so the bot cannot swap its way past it), made as a child of this process's own
 * memory cgroup. The bot joins it through BotProcess's `cgroupProcsFile` before node starts.
 */
export class MemoryCgroup {
  private constructor(
    readonly dir: string,
    readonly limitBytes: number,
  ) {}

  /** Creates the cgroup, or answers why it cannot (then the harness falls back to sampling only). */
  static create(name: string, limitMb: number): MemoryCgroup | { readonly error: string } {
    try {
      if (!existsSync(join(V1_MOUNT, 'memory.limit_in_bytes'))) return { error: `no cgroup v1 memory controller at ${V1_MOUNT}` };
      const own = ownMemoryCgroupPath(readFileSync('/proc/self/cgroup', 'utf8')) ?? '/';
      const dir = join(V1_MOUNT, own, name);
      if (!existsSync(dir)) mkdirSync(dir);
      const bytes = limitMb * 1024 * 1024;
      writeFileSync(join(dir, 'memory.limit_in_bytes'), String(bytes));
      if (existsSync(join(dir, 'memory.memsw.limit_in_bytes'))) writeFileSync(join(dir, 'memory.memsw.limit_in_bytes'), String(bytes));
      const set = Number(readFileSync(join(dir, 'memory.limit_in_bytes'), 'utf8').trim());
      if (set !== bytes) return { error: `memory.limit_in_bytes reads ${set}, not ${bytes}` };
      return new MemoryCgroup(dir, bytes);
    } catch (error) {
      return { error: `cannot make a memory cgroup: ${errorMessage(error)}` };
    }
  }

  /** The file a process writes its pid into to join. */
  get procsFile(): string {
    return join(this.dir, 'cgroup.procs');
  }

  /** Kill count, limit hits and peak charge so far. */
  report(): CgroupReport {
    const read = (f: string): string => readFileSync(join(this.dir, f), 'utf8');
    return {
      oomKills: parseOomControl(read('memory.oom_control')),
      failcnt: Number(read('memory.failcnt').trim()),
      maxUsageBytes: Number(read('memory.max_usage_in_bytes').trim()),
    };
  }

  /** Removes the cgroup (it must be empty: call after the bot exited). Best effort. */
  remove(): void {
    try {
      rmdirSync(this.dir);
    } catch {
      // still busy for a moment after the exit: retried by the next create() of the same name
    }
  }
}
