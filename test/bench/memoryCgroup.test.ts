import { describe, expect, it } from 'vitest';
import { MemoryCgroup } from '../../bench/lib/memoryCgroup.js';
import { BotProcess } from '../util/BotProcess.js';

const probe = MemoryCgroup.create(`tinyscribe-test-${process.pid}-probe`, 64);
const available = probe instanceof MemoryCgroup;
if (probe instanceof MemoryCgroup) probe.remove();

describe.skipIf(!available)('memory cgroup (cgroup v1, root)', () => {
  it('holds a process that joined it before exec to its limit: the kernel kills it and the cgroup counts the kill', async () => {
    const cgroup = MemoryCgroup.create(`tinyscribe-test-${process.pid}-kill`, 48);
    if (!(cgroup instanceof MemoryCgroup)) throw new Error(cgroup.error);
    // Touches 8 MB a step, for up to 400 MB: far past 48 MB.
    const script = 'const keep = []; for (let i = 0; i < 50; i++) keep.push(Buffer.alloc(8 << 20, 1)); console.log("survived")';
    const proc = new BotProcess({ env: {}, command: { executable: process.execPath, args: ['-e', script], cwd: process.cwd() }, cgroupProcsFile: cgroup.procsFile });
    try {
      const exit = await proc.exit(20_000);
      const report = cgroup.report();
      expect(exit.signal).toBe('SIGKILL');
      expect(report.oomKills).toBeGreaterThanOrEqual(1);
      expect(report.maxUsageBytes).toBeLessThanOrEqual(48 * 1024 * 1024);
      expect(proc.lines.map((l) => l.msg)).not.toContain('survived');
    } finally {
      await proc.dispose();
      cgroup.remove();
    }
  });

  it('leaves a process under its limit alone', async () => {
    const cgroup = MemoryCgroup.create(`tinyscribe-test-${process.pid}-ok`, 256);
    if (!(cgroup instanceof MemoryCgroup)) throw new Error(cgroup.error);
    const proc = new BotProcess({ env: {}, command: { executable: process.execPath, args: ['-e', 'console.log(require("fs").readFileSync("/proc/self/cgroup","utf8"))'], cwd: process.cwd() }, cgroupProcsFile: cgroup.procsFile });
    try {
      const exit = await proc.exit(20_000);
      expect(exit.code).toBe(0);
      expect(proc.lines.map((l) => l.msg).join('\n')).toContain(`tinyscribe-test-${process.pid}-ok`);
      expect(cgroup.report().oomKills).toBe(0);
    } finally {
      await proc.dispose();
      cgroup.remove();
    }
  });
});
