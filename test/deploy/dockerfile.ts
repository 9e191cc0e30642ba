/**
 * A parser for the Dockerfile subset tinyscribe's recipe uses: ARG, FROM … AS, WORKDIR, COPY
 * [--from=stage], RUN (shell form), ENV, USER, EXPOSE, CMD (exec form). Anything else throws, so a
 * new instruction makes the replay learn it instead of silently skipping it.
 */

/** One instruction, with the line it starts on (for error messages). */
export type Instruction =
  | { readonly kind: 'WORKDIR'; readonly line: number; readonly path: string }
  | { readonly kind: 'COPY'; readonly line: number; readonly from: string | undefined; readonly sources: readonly string[]; readonly dest: string }
  | { readonly kind: 'RUN'; readonly line: number; readonly command: string }
  | { readonly kind: 'ENV'; readonly line: number; readonly vars: ReadonlyMap<string, string> }
  | { readonly kind: 'USER'; readonly line: number; readonly user: string }
  | { readonly kind: 'EXPOSE'; readonly line: number; readonly ports: readonly string[] }
  | { readonly kind: 'CMD'; readonly line: number; readonly argv: readonly string[] };

/** A build stage: its base image (ARGs resolved), its name and its instructions in order. */
export interface Stage {
  readonly index: number;
  readonly name: string;
  readonly base: string;
  readonly line: number;
  readonly instructions: readonly Instruction[];
  /** The instruction text as written (continuations joined), for cache keys. */
  readonly source: string;
}

/** A parse failure, naming the Dockerfile line. */
export class DockerfileError extends Error {
  readonly code = 'DOCKERFILE_UNSUPPORTED';
  constructor(line: number, message: string) {
    super(`Dockerfile line ${line}: ${message}`);
    this.name = 'DockerfileError';
  }
}

interface RawInstruction {
  readonly line: number;
  readonly keyword: string;
  readonly args: string;
}

// Joins `\` continuations, drops comment lines (also inside a continuation, as BuildKit does) and blank lines.
function rawInstructions(text: string): RawInstruction[] {
  const out: RawInstruction[] = [];
  let pending: { line: number; text: string } | undefined;
  text.split('\n').forEach((rawLine, i) => {
    const line = rawLine.replace(/\r$/, '');
    const trimmed = line.trim();
    if (trimmed.startsWith('#') || (trimmed === '' && pending === undefined)) return;
    const continues = line.endsWith('\\');
    const body = continues ? line.slice(0, -1) : line;
    pending = pending ? { line: pending.line, text: `${pending.text} ${body.trim()}` } : { line: i + 1, text: body.trim() };
    if (continues) return;
    const match = /^(\S+)\s*(.*)$/.exec(pending.text);
    if (match) out.push({ line: pending.line, keyword: match[1]!.toUpperCase(), args: match[2]!.trim() });
    pending = undefined;
  });
  if (pending) throw new DockerfileError(pending.line, 'the file ends inside a line continuation');
  return out;
}

// Replaces ${NAME} and $NAME with ARG values; an unknown name is an error (Docker would make it empty).
function expandArgs(text: string, args: ReadonlyMap<string, string>, line: number): string {
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (_m, braced: string | undefined, bare: string | undefined) => {
    const name = (braced ?? bare)!;
    const value = args.get(name);
    if (value === undefined) throw new DockerfileError(line, `ARG ${name} has no default`);
    return value;
  });
}

function parseJsonArray(text: string, line: number, what: string): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new DockerfileError(line, `${what} must be in exec (JSON array) form so that node is PID 1`);
  }
  if (!Array.isArray(parsed) || parsed.length === 0 || !parsed.every((x): x is string => typeof x === 'string')) {
    throw new DockerfileError(line, `${what} must be a non-empty JSON array of strings`);
  }
  return parsed;
}

function parseEnv(args: string, line: number): Map<string, string> {
  const vars = new Map<string, string>();
  // `ENV A=1 B="two words"`; the legacy `ENV A value` form is not used here.
  const re = /([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*"|\S*)/g;
  for (const match of args.matchAll(re)) {
    const value = match[2]!;
    vars.set(match[1]!, value.startsWith('"') ? (JSON.parse(value) as string) : value);
  }
  if (vars.size === 0 || args.replace(re, '').trim() !== '') throw new DockerfileError(line, `ENV must be NAME=value pairs: ${args}`);
  return vars;
}

function parseCopy(args: string, line: number): Instruction {
  const words = args.split(/\s+/);
  let from: string | undefined;
  while (words[0]?.startsWith('--')) {
    const flag = words.shift()!;
    const fromFlag = /^--from=(.+)$/.exec(flag);
    if (fromFlag) from = fromFlag[1]!;
    else throw new DockerfileError(line, `COPY flag ${flag} is not replayed`);
  }
  if (words.length < 2 || words[0]!.startsWith('[')) throw new DockerfileError(line, 'COPY needs sources and a destination (shell form)');
  const dest = words.pop()!;
  return { kind: 'COPY', line, from, sources: words, dest };
}

/** Parses a Dockerfile into its stages; throws DockerfileError on anything the replay cannot honour. */
export function parseDockerfile(text: string): Stage[] {
  const args = new Map<string, string>();
  const stages: { index: number; name: string; base: string; line: number; instructions: Instruction[]; source: string[] }[] = [];
  for (const raw of rawInstructions(text)) {
    const current = stages.at(-1);
    if (raw.keyword === 'ARG') {
      const match = /^([A-Za-z_][A-Za-z0-9_]*)(?:=(.*))?$/.exec(raw.args);
      if (!match) throw new DockerfileError(raw.line, `bad ARG: ${raw.args}`);
      if (current) throw new DockerfileError(raw.line, 'ARG inside a stage is not replayed');
      if (match[2] !== undefined) args.set(match[1]!, match[2]);
      continue;
    }
    if (raw.keyword === 'FROM') {
      const match = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(raw.args);
      if (!match) throw new DockerfileError(raw.line, `bad FROM: ${raw.args}`);
      const index = stages.length;
      stages.push({ index, name: match[2] ?? String(index), base: expandArgs(match[1]!, args, raw.line), line: raw.line, instructions: [], source: [] });
      continue;
    }
    if (!current) throw new DockerfileError(raw.line, `${raw.keyword} before the first FROM`);
    current.source.push(`${raw.keyword} ${raw.args}`);
    const line = raw.line;
    switch (raw.keyword) {
      case 'WORKDIR':
        if (!raw.args.startsWith('/')) throw new DockerfileError(line, 'WORKDIR must be absolute');
        current.instructions.push({ kind: 'WORKDIR', line, path: raw.args });
        break;
      case 'COPY':
        current.instructions.push(parseCopy(raw.args, line));
        break;
      case 'RUN':
        if (raw.args.startsWith('[')) throw new DockerfileError(line, 'RUN in exec form is not replayed');
        current.instructions.push({ kind: 'RUN', line, command: raw.args });
        break;
      case 'ENV':
        current.instructions.push({ kind: 'ENV', line, vars: parseEnv(raw.args, line) });
        break;
      case 'USER':
        current.instructions.push({ kind: 'USER', line, user: raw.args });
        break;
      case 'EXPOSE':
        current.instructions.push({ kind: 'EXPOSE', line, ports: raw.args.split(/\s+/) });
        break;
      case 'CMD':
        current.instructions.push({ kind: 'CMD', line, argv: parseJsonArray(raw.args, line, 'CMD') });
        break;
      default:
        throw new DockerfileError(line, `${raw.keyword} is not replayed (teach test/deploy/ about it)`);
    }
  }
  if (stages.length === 0) throw new DockerfileError(1, 'no FROM');
  return stages.map((s) => ({ index: s.index, name: s.name, base: s.base, line: s.line, instructions: s.instructions, source: s.source.join('\n') }));
}

/** The CMD of a stage (the last one counts, as in Docker); throws if it has none. */
export function stageCmd(stage: Stage): readonly string[] {
  const cmd = stage.instructions.filter((i) => i.kind === 'CMD').at(-1);
  if (!cmd || cmd.kind !== 'CMD') throw new DockerfileError(stage.line, `stage ${stage.name} has no CMD`);
  return cmd.argv;
}
