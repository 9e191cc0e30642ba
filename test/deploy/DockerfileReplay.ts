import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { parseDockerfile, stageCmd, type Instruction, type Stage } from './dockerfile.js';
import { DockerIgnore } from './dockerignore.js';

/** Why a replay failed; `code` is stable, the message names the Dockerfile line. */
export class ReplayError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ReplayError';
  }
}

export interface ReplayOptions {
  /** The build context (the repository root). */
  readonly contextDir: string;
  /** Dockerfile text; default: `<contextDir>/Dockerfile`. */
  readonly dockerfile?: string;
  /** .dockerignore text; default: `<contextDir>/.dockerignore` (none: everything is context). */
  readonly dockerignore?: string;
  /** Context files replaced (string) or removed (null) for this replay, e.g. to prove a broken recipe fails. */
  readonly overlay?: Readonly<Record<string, string | null>>;
}

/** The runtime stage, ready to start: its CMD with the host's Node 22 in place of `node`, and its ENV. */
export interface ReplayedImage {
  readonly command: { readonly executable: string; readonly args: readonly string[]; readonly cwd: string };
  /** The final stage's ENV; absolute paths point into the stage's directory (e.g. DATA_DIR=/data → <root>/data). */
  readonly env: Readonly<Record<string, string>>;
  /** The final stage's filesystem root on the host. */
  readonly root: string;
  /** What was not replayed literally (apt-get, chown, USER…), one line each. */
  readonly notes: readonly string[];
}

interface StageResult {
  readonly key: string;
  readonly root: string;
  readonly workdir: string;
  readonly env: ReadonlyMap<string, string>;
}

/**
 * Replays a Dockerfile without a Docker engine: each stage gets a directory as its filesystem; COPY
 * takes files from the build context as .dockerignore filters it (or from an earlier stage), RUN
 * runs its npm and mkdir steps for real, with the project's Node 22 first on PATH. System-package
 * steps (apt-get) and ownership (chown, USER) are noted, not run. A stage whose inputs did not change
 * is reused within one replayer, so variants of a recipe cost only the stages they change.
 */
export class DockerfileReplay {
  private readonly cache = new Map<string, Promise<StageResult>>();
  private readonly nodeVersion: string;
  private stageDirs = 0;

  constructor(
    /** Where stage directories go (a temp dir the caller removes). */
    private readonly workDir: string,
    /** The Node 22 executable that stands in for the image's `node`. */
    private readonly node: string,
    private readonly log: (line: string) => void = () => {},
  ) {
    const probe = spawnSync(node, ['-v'], { encoding: 'utf8' });
    if (probe.status !== 0) throw new ReplayError('REPLAY_NODE', `cannot run ${node}`);
    this.nodeVersion = probe.stdout.trim();
  }

  /** Replays every stage the last one needs; resolves with how to start the last stage's CMD. */
  async replay(options: ReplayOptions): Promise<ReplayedImage> {
    const text = options.dockerfile ?? readFileSync(join(options.contextDir, 'Dockerfile'), 'utf8');
    const stages = parseDockerfile(text);
    const ignoreFile = join(options.contextDir, '.dockerignore');
    const ignore = new DockerIgnore(options.dockerignore ?? (existsSync(ignoreFile) ? readFileSync(ignoreFile, 'utf8') : ''));
    const context = new BuildContext(options.contextDir, ignore, options.overlay ?? {});
    const notes: string[] = [];
    const results = new Map<string, Promise<StageResult>>();
    const runStage = (stage: Stage): Promise<StageResult> => {
      let result = results.get(stage.name);
      if (!result) {
        result = this.stage(stage, stages, context, notes, runStage);
        results.set(stage.name, result);
      }
      return result;
    };
    const final = stages.at(-1)!;
    const done = await runStage(final);
    const argv = stageCmd(final);
    if (argv[0] !== 'node') {
      throw new ReplayError('CMD_NOT_NODE', `CMD starts ${argv[0]}: it must start node itself, so that node is PID 1 and gets SIGTERM (npm swallows it)`);
    }
    const env: Record<string, string> = {};
    for (const [name, value] of done.env) env[name] = value.startsWith('/') ? join(done.root, value) : value;
    return { command: { executable: this.node, args: argv.slice(1), cwd: join(done.root, done.workdir) }, env, root: done.root, notes };
  }

  private async stage(stage: Stage, all: readonly Stage[], context: BuildContext, notes: string[], runStage: (s: Stage) => Promise<StageResult>): Promise<StageResult> {
    const image = /^node:(\d+)(?:[.-]|$)/.exec(stage.base);
    const major = /^v(\d+)\./.exec(this.nodeVersion)?.[1];
    if (!image || image[1] !== major) {
      throw new ReplayError('BASE_IMAGE_MISMATCH', `stage ${stage.name} is FROM ${stage.base}; the replay runs Node ${this.nodeVersion}, so it only stands in for node:${major}-*`);
    }
    // Stages this one copies from come first (and may run in parallel with each other, as BuildKit runs them).
    const pending = new Map<string, Promise<StageResult>>();
    for (const i of stage.instructions) {
      if (i.kind !== 'COPY' || i.from === undefined) continue;
      const from = all.find((s) => s.name === i.from && s.index < stage.index);
      if (!from) throw new ReplayError('COPY_FROM_UNKNOWN', `line ${i.line}: COPY --from=${i.from} names no earlier stage`);
      pending.set(i.from, runStage(from));
    }
    const deps = new Map<string, StageResult>();
    // allSettled first, so that a failing stage does not leave a sibling's npm running unobserved.
    await Promise.allSettled(pending.values());
    for (const [name, result] of pending) deps.set(name, await result);
    const hash = createHash('sha256').update(`${this.nodeVersion}\n${stage.base}\n${stage.source}\n`);
    for (const i of stage.instructions) {
      if (i.kind !== 'COPY') continue;
      if (i.from !== undefined) hash.update(`from ${deps.get(i.from)!.key}\n`);
      else for (const s of i.sources) hash.update(context.digest(s, i.line));
    }
    const key = hash.digest('hex');
    let cached = this.cache.get(key);
    if (cached) {
      this.log(`stage ${stage.name}: unchanged, reused`);
      return cached;
    }
    cached = this.execute(stage, key, context, deps, notes);
    this.cache.set(key, cached);
    cached.catch(() => this.cache.delete(key));
    return cached;
  }

  private async execute(stage: Stage, key: string, context: BuildContext, deps: ReadonlyMap<string, StageResult>, notes: string[]): Promise<StageResult> {
    const root = join(this.workDir, `stage-${++this.stageDirs}-${stage.name}`);
    mkdirSync(root, { recursive: true });
    let workdir = '/';
    const env = new Map<string, string>();
    const host = (path: string): string => join(root, posix.resolve(workdir, path));
    const started = Date.now();
    for (const i of stage.instructions) {
      switch (i.kind) {
        case 'WORKDIR':
          workdir = posix.resolve(workdir, i.path);
          mkdirSync(host('.'), { recursive: true });
          break;
        case 'ENV':
          for (const [name, value] of i.vars) env.set(name, value);
          break;
        case 'COPY':
          if (i.from === undefined) context.copy(i, host);
          else copyFromStage(i, deps.get(i.from)!, host);
          break;
        case 'RUN':
          await this.run(i, stage, host, env, notes);
          break;
        case 'USER':
          notes.push(`line ${i.line}: USER ${i.user} — the replay runs as ${process.getuid?.() === 0 ? 'root' : 'the current user'}`);
          break;
        case 'EXPOSE':
          notes.push(`line ${i.line}: EXPOSE ${i.ports.join(' ')} — documentation only; the replay's health port comes from HEALTH_PORT`);
          break;
        case 'CMD':
          break;
      }
    }
    this.log(`stage ${stage.name}: replayed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return { key, root, workdir, env };
  }

  private async run(i: Extract<Instruction, { kind: 'RUN' }>, stage: Stage, host: (p: string) => string, env: ReadonlyMap<string, string>, notes: string[]): Promise<void> {
    if (/[;|`]|\$\(|\|\|/.test(i.command)) throw new ReplayError('RUN_UNSUPPORTED', `line ${i.line}: RUN with ; | or substitutions is not replayed: ${i.command}`);
    for (const part of i.command.split('&&').map((p) => p.trim())) {
      const [program, ...args] = part.split(/\s+/) as [string, ...string[]];
      if (program === 'apt-get' || (program === 'rm' && args.every((a) => a.startsWith('-') || a.startsWith('/var/lib/apt/')))) {
        notes.push(`line ${i.line} (${stage.name}): "${part}" — system packages of the image, not installed by the replay`);
      } else if (program === 'chown') {
        notes.push(`line ${i.line} (${stage.name}): "${part}" — ownership is not replayed`);
      } else if (program === 'mkdir') {
        for (const a of args) if (!a.startsWith('-')) mkdirSync(host(a), { recursive: true });
      } else if (program === 'npm') {
        await this.npm(i.line, args, host('.'), host('/'), env);
      } else {
        throw new ReplayError('RUN_UNSUPPORTED', `line ${i.line}: the replay does not know how to run "${part}" (teach test/deploy/DockerfileReplay.ts)`);
      }
    }
  }

  // npm with the project's Node 22 first on PATH and a clean environment (npm's own npm_* variables
  // from an outer `npm test` would change how the inner npm behaves), reusing the npm cache.
  private async npm(line: number, args: readonly string[], cwd: string, stageRoot: string, stageEnv: ReadonlyMap<string, string>): Promise<void> {
    const installs = args[0] === 'ci' || args[0] === 'install';
    const argv = installs ? [...args, '--prefer-offline'] : [...args];
    const env: Record<string, string> = {
      PATH: `${dirname(this.node)}:${process.env.PATH ?? ''}`,
      HOME: process.env.HOME ?? '/tmp',
      npm_config_update_notifier: 'false',
      ...Object.fromEntries(stageEnv),
    };
    if (process.env.npm_config_cache) env.npm_config_cache = process.env.npm_config_cache;
    if (process.env.TMPDIR) env.TMPDIR = process.env.TMPDIR;
    const started = Date.now();
    const output: string[] = [];
    const child = spawn('npm', argv, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.setEncoding('utf8').on('data', (c: string) => output.push(c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => output.push(c));
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', resolve);
    });
    const all = output.join('');
    // Next to the stage's filesystem, not in it: nothing the image would contain.
    writeFileSync(`${stageRoot.replace(/\/+$/, '')}.npm-line-${line}.log`, all);
    if (code !== 0) throw new ReplayError('RUN_FAILED', `line ${line}: npm ${argv.join(' ')} exited ${code}:\n${all.split('\n').slice(-25).join('\n')}`);
    this.log(`line ${line}: npm ${argv.join(' ')} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  }
}

/** The build context: the repository's files that .dockerignore lets through, plus an overlay. */
class BuildContext {
  private readonly files: ReadonlySet<string>;

  constructor(
    private readonly dir: string,
    ignore: DockerIgnore,
    private readonly overlay: Readonly<Record<string, string | null>>,
  ) {
    const files = new Set(ignore.contextFiles(dir));
    for (const [path, content] of Object.entries(overlay)) {
      if (content === null) files.delete(path);
      else if (!ignore.excludes(path)) files.add(path);
    }
    this.files = files;
  }

  /** The files a COPY source names (itself, or everything below a directory). */
  resolve(source: string, line: number): string[] {
    if (/[*?[]/.test(source)) throw new ReplayError('COPY_UNSUPPORTED', `line ${line}: COPY wildcards are not replayed (${source})`);
    const clean = posix.normalize(source).replace(/^(\.\/)+/, '').replace(/\/+$/, '');
    if (clean.startsWith('..') || clean.startsWith('/')) throw new ReplayError('COPY_OUTSIDE_CONTEXT', `line ${line}: ${source} is outside the build context`);
    const matched = clean === '.' ? [...this.files] : [...this.files].filter((f) => f === clean || f.startsWith(`${clean}/`));
    if (matched.length === 0) {
      throw new ReplayError('COPY_SOURCE_MISSING', `line ${line}: COPY ${source}: not in the build context (missing, or left out by .dockerignore)`);
    }
    return matched.sort();
  }

  /** A digest of what a COPY source brings in (names and contents), for stage reuse. */
  digest(source: string, line: number): string {
    const hash = createHash('sha256');
    for (const f of this.resolve(source, line)) hash.update(`${f}\0`).update(this.read(f)).update('\0');
    return hash.digest('hex');
  }

  /** Performs a COPY from the context with Docker's rules for directories and destinations. */
  copy(i: Extract<Instruction, { kind: 'COPY' }>, host: (p: string) => string): void {
    const toDir = i.dest.endsWith('/') || i.dest === '.' || i.sources.length > 1;
    for (const source of i.sources) {
      const clean = posix.normalize(source).replace(/\/+$/, '');
      for (const file of this.resolve(source, i.line)) {
        const isDirCopy = file !== clean;
        // A directory's contents land in dest; a file lands in dest/ (dir form) or at dest.
        const target = isDirCopy ? posix.join(i.dest, file.slice(clean.length + 1)) : toDir ? posix.join(i.dest, posix.basename(file)) : i.dest;
        const out = host(target);
        mkdirSync(dirname(out), { recursive: true });
        writeFileSync(out, this.read(file));
      }
    }
  }

  private read(file: string): Buffer {
    const over = this.overlay[file];
    return over === undefined || over === null ? readFileSync(join(this.dir, file)) : Buffer.from(over);
  }
}

function copyFromStage(i: Extract<Instruction, { kind: 'COPY' }>, from: StageResult, host: (p: string) => string): void {
  for (const source of i.sources) {
    const src = join(from.root, posix.resolve(from.workdir, source));
    if (!existsSync(src)) throw new ReplayError('COPY_SOURCE_MISSING', `line ${i.line}: COPY --from=${i.from} ${source}: the stage has no such path`);
    const dest = statSync(src).isDirectory() || !(i.dest.endsWith('/') || i.dest === '.') ? host(i.dest) : host(posix.join(i.dest, posix.basename(source)));
    mkdirSync(dirname(dest), { recursive: true });
    cpSync(src, dest, { recursive: true, verbatimSymlinks: true });
  }
}
