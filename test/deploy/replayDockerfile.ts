/**
 * `npm run replay-dockerfile`: builds the image the way the Dockerfile says, without Docker (see
 * DockerfileReplay), starts its CMD against the simulator (see checkImage), and runs hadolint on
 * the Dockerfile when it is installed. Exit 0 only if the replayed image transcribed and stopped
 * cleanly. `--keep` leaves the stage directories for inspection.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DockerfileReplay } from './DockerfileReplay.js';
import { checkImage } from './checkImage.js';
import { projectRootOf } from './projectRoot.js';

/** Runs hadolint if it is on PATH; returns false only when it ran and found problems. */
function lint(dockerfile: string): boolean {
  const probe = spawnSync('hadolint', ['--version'], { encoding: 'utf8' });
  if (probe.error) {
    process.stdout.write('hadolint: not installed, Dockerfile lint skipped (Debian has no hadolint package)\n');
    return true;
  }
  const run = spawnSync('hadolint', [dockerfile], { encoding: 'utf8', stdio: 'inherit' });
  process.stdout.write(`hadolint ${probe.stdout.trim()}: ${run.status === 0 ? 'clean' : 'problems above'}\n`);
  return run.status === 0;
}

async function main(): Promise<number> {
  const root = projectRootOf(import.meta.dirname);
  const keep = process.argv.includes('--keep');
  const work = mkdtempSync(join(tmpdir(), 'tinyscribe-replay-'));
  const started = Date.now();
  try {
    const replay = new DockerfileReplay(work, process.execPath, (line) => process.stdout.write(`${line}\n`));
    const image = await replay.replay({ contextDir: root });
    for (const note of image.notes) process.stdout.write(`not replayed: ${note}\n`);
    process.stdout.write(`built in ${((Date.now() - started) / 1000).toFixed(1)} s; starting ${image.command.args.join(' ')}\n`);
    const result = await checkImage(image);
    process.stdout.write(
      `image check passed: posted "${result.transcript}", /healthz ${result.healthStatus}, exit ${String(result.exitCode)} after SIGTERM ` +
        `(${(result.ms / 1000).toFixed(1)} s; ${((Date.now() - started) / 1000).toFixed(1)} s in all)\n`,
    );
    return lint(join(root, 'Dockerfile')) ? 0 : 1;
  } catch (error) {
    process.stderr.write(`Dockerfile replay FAILED: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  } finally {
    if (keep) process.stdout.write(`stage directories kept in ${work}\n`);
    else rmSync(work, { recursive: true, force: true });
  }
}

process.exitCode = await main();
