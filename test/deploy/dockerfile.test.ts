import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BOT_NODE_FLAGS, BOT_PRODUCTION_ENV } from '../util/BotProcess.js';
import { DockerfileError, parseDockerfile, stageCmd } from './dockerfile.js';
import { DockerIgnore } from './dockerignore.js';
import { projectRootOf } from './projectRoot.js';

const root = projectRootOf(import.meta.dirname);
const read = (file: string): string => readFileSync(join(root, file), 'utf8');

describe('parseDockerfile', () => {
  it('reads stages, ARG defaults, continuations, COPY --from and the exec-form CMD', () => {
    const stages = parseDockerfile(
      [
        '# syntax=docker/dockerfile:1',
        'ARG BASE=node:22-slim',
        'FROM ${BASE} AS one',
        'WORKDIR /app',
        'RUN npm ci \\',
        '  # a comment inside a continuation',
        '  --omit=dev',
        'FROM $BASE',
        'ENV A=1 B="two words"',
        'COPY --from=one /app/node_modules ./node_modules',
        'CMD ["node", "--flag", "main.js"]',
      ].join('\n'),
    );
    expect(stages.map((s) => [s.name, s.base])).toEqual([
      ['one', 'node:22-slim'],
      ['1', 'node:22-slim'],
    ]);
    expect(stages[0]!.instructions[1]).toEqual({ kind: 'RUN', line: 5, command: 'npm ci --omit=dev' });
    const env = stages[1]!.instructions[0]!;
    expect(env.kind === 'ENV' && Object.fromEntries(env.vars)).toEqual({ A: '1', B: 'two words' });
    expect(stages[1]!.instructions[1]).toMatchObject({ kind: 'COPY', from: 'one', sources: ['/app/node_modules'], dest: './node_modules' });
    expect(stageCmd(stages[1]!)).toEqual(['node', '--flag', 'main.js']);
  });

  it('refuses what the replay cannot honour, naming the line', () => {
    expect(() => parseDockerfile('FROM node:22\nCMD node main.js')).toThrow(/line 2: CMD must be in exec/);
    expect(() => parseDockerfile('FROM node:22\nHEALTHCHECK CMD true')).toThrow(DockerfileError);
    expect(() => parseDockerfile('FROM node:22\nCOPY --chown=node . .')).toThrow(/--chown/);
    expect(() => parseDockerfile('FROM ${NOPE}')).toThrow(/ARG NOPE has no default/);
    expect(() => parseDockerfile('WORKDIR /app')).toThrow(/before the first FROM/);
  });
});

describe('DockerIgnore', () => {
  it('applies the last matching pattern, to a path or any parent directory', () => {
    const ignore = new DockerIgnore('# comment\n*\n!src/\n!package.json\nsrc/**/*.test.ts\n');
    expect(ignore.excludes('test/e2e/rig.ts')).toBe(true);
    expect(ignore.excludes('package.json')).toBe(false);
    expect(ignore.excludes('src/main.ts')).toBe(false);
    expect(ignore.excludes('src/a/b.test.ts')).toBe(true);
    expect(ignore.excludes('src/b.test.ts')).toBe(true);
  });
});

describe("the project's recipe", () => {
  const stages = parseDockerfile(read('Dockerfile'));
  const runtime = stages.at(-1)!;

  it('runs node directly with the flags the tests and npm start use, as a non-root user', () => {
    const cmd = stageCmd(runtime);
    expect(cmd[0]).toBe('node');
    expect(cmd.slice(1, -1)).toEqual(BOT_NODE_FLAGS);
    expect(cmd.at(-1)).toBe('dist/src/main.js');
    const start = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts.start;
    expect(start).toBe(cmd.join(' '));
    const user = runtime.instructions.filter((i) => i.kind === 'USER').at(-1);
    expect(user && user.kind === 'USER' && user.user).toBe('node');
    expect(runtime.base).toMatch(/^node:22-slim$/);
  });

  it('sets the allocator environment the memory benchmark measures', () => {
    const env = new Map(runtime.instructions.flatMap((i) => (i.kind === 'ENV' ? [...i.vars] : [])));
    for (const [key, value] of Object.entries(BOT_PRODUCTION_ENV)) expect(env.get(key), key).toBe(value);
  });

  it('sends only what the COPY lines need as build context', () => {
    const files = new DockerIgnore(read('.dockerignore')).contextFiles(root);
    expect(files).toContain('package.json');
    expect(files).toContain('src/main.ts');
    for (const f of files) expect(f).toMatch(/^(package\.json|package-lock\.json|tsconfig\.json|src\/.*)$/);
  });
});
