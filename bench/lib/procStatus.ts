import { readFileSync } from 'node:fs';

/** One reading of a process's memory and CPU from /proc (no syscall into the process itself). */
export interface ProcReading {
  /** Resident set size, bytes (VmRSS). */
  readonly rssBytes: number;
  /** Peak resident set size so far, bytes (VmHWM). */
  readonly hwmBytes: number;
  /** Anonymous part of RSS (heap, stacks, malloc), bytes (RssAnon); the rest is mostly the node binary's pages. */
  readonly anonBytes: number;
  /** File-backed part of RSS (RssFile: code of node and native addons, shared and reclaimable), bytes. */
  readonly fileBytes: number;
  /** User + system CPU time consumed, seconds. */
  readonly cpuSeconds: number;
}

/** Reads `VmRSS` and `VmHWM` (kB) out of /proc/PID/status text; undefined when either is missing (a zombie). */
export function parseProcStatus(text: string): { rssBytes: number; hwmBytes: number; anonBytes: number; fileBytes: number } | undefined {
  const kb = (field: string): number | undefined => {
    const m = new RegExp(`^${field}:\\s+(\\d+)\\s+kB$`, 'm').exec(text);
    return m ? Number(m[1]) * 1024 : undefined;
  };
  const rssBytes = kb('VmRSS');
  const hwmBytes = kb('VmHWM');
  if (rssBytes === undefined || hwmBytes === undefined) return undefined;
  return { rssBytes, hwmBytes, anonBytes: kb('RssAnon') ?? 0, fileBytes: kb('RssFile') ?? 0 };
}

/**
 * utime + stime (clock ticks) out of /proc/PID/stat. The command name (field 2) is in parentheses and may
 * itself hold spaces or ')' — so fields are counted from the LAST ')'.
 */
export function parseProcStatTicks(text: string): number | undefined {
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  // After ") " come field 3 (state) onwards; utime is field 14, stime field 15.
  const rest = text.slice(close + 2).trim().split(/\s+/);
  const utime = Number(rest[14 - 3]);
  const stime = Number(rest[15 - 3]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) return undefined;
  return utime + stime;
}

/** Reads /proc/PID/{status,stat}; undefined once the process is gone. `ticksPerSecond` is CLK_TCK (100 on Linux). */
export function readProc(pid: number, ticksPerSecond = 100): ProcReading | undefined {
  try {
    const status = parseProcStatus(readFileSync(`/proc/${pid}/status`, 'utf8'));
    const ticks = parseProcStatTicks(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    if (!status || ticks === undefined) return undefined;
    return { ...status, cpuSeconds: ticks / ticksPerSecond };
  } catch {
    return undefined;
  }
}
