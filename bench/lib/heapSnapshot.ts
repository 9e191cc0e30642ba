import { readFileSync } from 'node:fs';

/** Object count and self size per constructor name in one heap snapshot. */
export type ConstructorCounts = Map<string, { count: number; selfSize: number }>;

/** Shape of the parts of a .heapsnapshot file that are read here (V8's JSON format). */
interface HeapSnapshotJson {
  readonly snapshot: { readonly meta: { readonly node_fields: readonly string[]; readonly node_types: readonly unknown[] } };
  readonly nodes: readonly number[];
  readonly strings: readonly string[];
}

const COUNTED_TYPES = new Set(['object', 'closure', 'array', 'native']);

/** Counts the nodes of a parsed heap snapshot by constructor name (objects, closures, arrays, native). */
export function countByConstructor(snapshot: unknown): ConstructorCounts {
  const s = snapshot as HeapSnapshotJson;
  const fields = s?.snapshot?.meta?.node_fields;
  if (!Array.isArray(fields) || !Array.isArray(s.nodes) || !Array.isArray(s.strings)) throw new Error('not a V8 heap snapshot');
  const typeNames = s.snapshot.meta.node_types[0] as readonly string[];
  const stride = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const out: ConstructorCounts = new Map();
  for (let i = 0; i < s.nodes.length; i += stride) {
    const type = typeNames[s.nodes[i + typeAt]!];
    if (!type || !COUNTED_TYPES.has(type)) continue;
    const name = type === 'closure' ? `(closure) ${s.strings[s.nodes[i + nameAt]!] || 'anonymous'}` : s.strings[s.nodes[i + nameAt]!] ?? '?';
    const entry = out.get(name);
    if (entry) {
      entry.count++;
      entry.selfSize += s.nodes[i + sizeAt]!;
    } else out.set(name, { count: 1, selfSize: s.nodes[i + sizeAt]! });
  }
  return out;
}

/** Reads and counts a .heapsnapshot file. */
export function countSnapshotFile(path: string): ConstructorCounts {
  return countByConstructor(JSON.parse(readFileSync(path, 'utf8')));
}

/** A constructor whose population grew between two snapshots. */
export interface Growth {
  readonly name: string;
  readonly before: number;
  readonly after: number;
  readonly delta: number;
  readonly selfSizeDelta: number;
}

/** The constructors that grew most in count from `before` to `after` (top `n`, ties by size). */
export function topGrowth(before: ConstructorCounts, after: ConstructorCounts, n = 15): Growth[] {
  const rows: Growth[] = [];
  for (const [name, a] of after) {
    const b = before.get(name) ?? { count: 0, selfSize: 0 };
    if (a.count > b.count) rows.push({ name, before: b.count, after: a.count, delta: a.count - b.count, selfSizeDelta: a.selfSize - b.selfSize });
  }
  return rows.sort((x, y) => y.delta - x.delta || y.selfSizeDelta - x.selfSizeDelta).slice(0, n);
}
