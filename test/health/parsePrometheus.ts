/**
 * A deliberately strict parser for the subset of Prometheus text format 0.0.4 that tinyscribe
 * writes: label-free samples without timestamps, every family introduced by HELP and TYPE before
 * its samples, families not interleaved. Any deviation throws with the offending line number.
 */

export type FamilyType = 'counter' | 'gauge' | 'summary' | 'histogram' | 'untyped';

export interface Family {
  readonly name: string;
  readonly type: FamilyType;
  readonly help: string;
  /** Sample name → value, e.g. `x_sum` → 3. */
  readonly samples: Map<string, number>;
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const NAME_RE = new RegExp(`^${NAME}$`);
const HELP_RE = new RegExp(`^# HELP (${NAME}) (.*)$`);
const TYPE_RE = new RegExp(`^# TYPE (${NAME}) (counter|gauge|summary|histogram|untyped)$`);
const SAMPLE_RE = new RegExp(`^(${NAME}) (\\S+)$`);
// Go's strconv.ParseFloat syntax as Prometheus accepts it (decimal only), plus the special values.
const FLOAT_RE = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

function parseValue(text: string, where: string): number {
  if (text === 'NaN') return NaN;
  if (text === '+Inf' || text === 'Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (!FLOAT_RE.test(text)) throw new Error(`${where}: "${text}" is not a number`);
  return Number(text);
}

function checkHelpEscapes(help: string, where: string): string {
  // Only \\ and \n are legal escapes in HELP text.
  return help.replace(/\\(.?)/g, (_match, next: string) => {
    if (next === '\\') return '\\';
    if (next === 'n') return '\n';
    throw new Error(`${where}: bad escape "\\${next}" in HELP`);
  });
}

// Which family a sample belongs to, given its type (summary/histogram samples carry suffixes).
function familyOf(sample: string, families: Map<string, { type: FamilyType }>): string | undefined {
  const own = families.get(sample)?.type;
  // Label-free summaries and histograms have no bare sample (that would be a quantile or bucket).
  if (own !== undefined) return own === 'summary' || own === 'histogram' ? undefined : sample;
  for (const suffix of ['_sum', '_count', '_bucket']) {
    if (!sample.endsWith(suffix)) continue;
    const base = sample.slice(0, -suffix.length);
    const type = families.get(base)?.type;
    if (type === 'histogram' || (type === 'summary' && suffix !== '_bucket')) return base;
  }
  return undefined;
}

/** Parses an exposition body; throws on the first line that breaks the rules above. */
export function parsePrometheus(body: string): Map<string, Family> {
  if (body.length > 0 && !body.endsWith('\n')) throw new Error('body must end with a newline');
  const families = new Map<string, { name: string; type: FamilyType; help: string | undefined; samples: Map<string, number> }>();
  const helps = new Map<string, string>();
  const finished = new Set<string>();
  let current: string | undefined;

  const lines = body.length === 0 ? [] : body.slice(0, -1).split('\n');
  lines.forEach((line, index) => {
    const where = `line ${index + 1} (${JSON.stringify(line)})`;
    if (line === '') throw new Error(`${where}: empty line`);
    if (line.startsWith('#')) {
      const help = HELP_RE.exec(line);
      if (help) {
        const [, name, text] = help as unknown as [string, string, string];
        if (helps.has(name)) throw new Error(`${where}: second HELP for ${name}`);
        if (families.has(name)) throw new Error(`${where}: HELP after TYPE for ${name}`);
        helps.set(name, checkHelpEscapes(text, where));
        return;
      }
      const type = TYPE_RE.exec(line);
      if (type) {
        const [, name, kind] = type as unknown as [string, string, FamilyType];
        if (families.has(name)) throw new Error(`${where}: second TYPE for ${name}`);
        if (!helps.has(name)) throw new Error(`${where}: TYPE without a HELP before it for ${name}`);
        if (current !== undefined) finished.add(current);
        current = name;
        families.set(name, { name, type: kind, help: helps.get(name), samples: new Map() });
        return;
      }
      throw new Error(`${where}: not a HELP or TYPE line`);
    }
    const sample = SAMPLE_RE.exec(line);
    if (!sample) throw new Error(`${where}: not "name value" (labels and timestamps are not expected)`);
    const [, name, valueText] = sample as unknown as [string, string, string];
    if (!NAME_RE.test(name)) throw new Error(`${where}: bad metric name`);
    const familyName = familyOf(name, families);
    if (familyName === undefined) throw new Error(`${where}: sample without a TYPE line before it that fits its name`);
    if (familyName !== current || finished.has(familyName)) throw new Error(`${where}: family ${familyName} is interleaved`);
    const family = families.get(familyName)!;
    if (family.samples.has(name)) throw new Error(`${where}: duplicate sample ${name}`);
    const value = parseValue(valueText, where);
    if (family.type === 'counter') {
      if (!name.endsWith('_total') || name.endsWith('_total_total')) throw new Error(`${where}: counter must end in _total exactly once`);
      if (!(value >= 0)) throw new Error(`${where}: counter is negative or NaN`);
    }
    family.samples.set(name, value);
  });

  for (const name of helps.keys()) if (!families.has(name)) throw new Error(`HELP for ${name} has no TYPE`);
  const result = new Map<string, Family>();
  for (const [name, family] of families) {
    if (family.samples.size === 0) throw new Error(`family ${name} has no samples`);
    if (family.type === 'summary' && !(family.samples.has(`${name}_sum`) && family.samples.has(`${name}_count`))) {
      throw new Error(`summary ${name} needs _sum and _count`);
    }
    result.set(name, { name, type: family.type, help: family.help ?? '', samples: family.samples });
  }
  return result;
}
