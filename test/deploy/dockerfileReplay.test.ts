import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerfileReplay, ReplayError, type ReplayedImage } from './DockerfileReplay.js';
import { CHECK_LINE, checkImage } from './checkImage.js';
import { projectRootOf } from './projectRoot.js';

// The whole recipe, replayed for real: `npm ci` twice (one with the @discordjs/opus install script),
// tsc, then the CMD against the simulator. ~40 s on an idle 2-core machine, mostly the Opus build.
const REPLAY_MS = 240_000;
const root = projectRootOf(import.meta.dirname);
const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
let work: string;
let replay: DockerfileReplay;
let image: ReplayedImage;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'tinyscribe-replay-'));
  replay = new DockerfileReplay(work, process.execPath);
  image = await replay.replay({ contextDir: root });
}, REPLAY_MS);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

/** The replay error a broken recipe ends in (from building or from driving the image). */
async function failureOf(run: () => Promise<unknown>): Promise<ReplayError> {
  try {
    await run();
  } catch (error) {
    if (error instanceof ReplayError) return error;
    throw error;
  }
  throw new Error('the broken recipe passed');
}

describe('the Dockerfile, replayed in a clean directory', () => {
  it('starts with the CMD flags and ENV of the runtime stage, on production dependencies only', () => {
    const cmd = /^CMD (\[.*\])$/m.exec(dockerfile)![1]!;
    expect(image.command.args).toEqual((JSON.parse(cmd) as string[]).slice(1));
    expect(image.env.NODE_ENV).toBe('production');
    expect(image.env.DATA_DIR).toBe(join(image.root, 'data'));
    const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
    const devOnly = Object.entries(lock.packages).filter(([path, p]) => path.startsWith('node_modules/') && p.dev === true);
    expect(devOnly.length).toBeGreaterThan(0);
    for (const [path] of devOnly) expect(() => readFileSync(join(image.command.cwd, path, 'package.json'))).toThrow();
    // No test, bench or TypeScript source reached the image.
    expect(() => readFileSync(join(image.command.cwd, 'dist/test/e2e/rig.js'))).toThrow();
    expect(() => readFileSync(join(image.command.cwd, 'src/main.ts'))).toThrow();
  });

  it('joins, posts the transcript of one speaker, answers /healthz and exits 0 on SIGTERM', async () => {
    const result = await checkImage(image);
    expect(result.transcript).toBe(CHECK_LINE);
    expect(result.healthStatus).toBe(200);
    expect(result.exitCode).toBe(0);
  }, 60_000);
});

describe('a broken recipe fails the replay', () => {
  it('a runtime stage that forgets to COPY the compiled code', async () => {
    const broken = dockerfile.replace(/^COPY --from=build .*$/m, '');
    expect(broken).not.toBe(dockerfile);
    const error = await failureOf(async () => checkImage(await replay.replay({ contextDir: root, dockerfile: broken })));
    expect(error.code).toBe('CHECK_FAILED');
    expect(error.message).toContain('dist/src/main.js');
  }, 60_000);

  it('code that imports a dev-only package at run time', async () => {
    const main = readFileSync(join(root, 'src/main.ts'), 'utf8');
    const overlay = { 'src/main.ts': `import 'typescript';\n${main}` };
    const error = await failureOf(async () => checkImage(await replay.replay({ contextDir: root, overlay })));
    expect(error.code).toBe('CHECK_FAILED');
    expect(error.message).toMatch(/Cannot find package 'typescript'|ERR_MODULE_NOT_FOUND/);
  }, REPLAY_MS);

  it('a file the build needs that .dockerignore leaves out of the context', async () => {
    const ignore = readFileSync(join(root, '.dockerignore'), 'utf8');
    const broken = ignore.replace(/^!tsconfig\.json\n/m, '');
    expect(broken).not.toBe(ignore);
    const error = await failureOf(() => replay.replay({ contextDir: root, dockerignore: broken }));
    expect(error.code).toBe('COPY_SOURCE_MISSING');
    expect(error.message).toContain('tsconfig.json');
  });

  it('a CMD that starts npm instead of node', async () => {
    const broken = dockerfile.replace(/^CMD .*$/m, 'CMD ["npm", "start"]');
    const error = await failureOf(() => replay.replay({ contextDir: root, dockerfile: broken }));
    expect(error.code).toBe('CMD_NOT_NODE');
  });
});
