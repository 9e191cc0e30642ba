import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDockerfile } from './dockerfile.js';
import { projectRootOf } from './projectRoot.js';

const root = projectRootOf(import.meta.dirname);

/**
 * The flat part of TOML that fly.toml uses: `[table]`, `[[array]]` and `[a.b]` headers, `key = value`
 * with strings, numbers and booleans. Returns "table.key" → value (array tables by header name).
 */
function readFlatToml(text: string): { values: Map<string, string | number | boolean>; tables: string[] } {
  const values = new Map<string, string | number | boolean>();
  const tables: string[] = [];
  let table = '';
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\s+#.*$/, '').trim();
    if (line === '' || line.startsWith('#')) continue;
    const header = /^\[\[?([^\]]+)\]\]?$/.exec(line);
    if (header) {
      table = header[1]!.trim();
      tables.push(table);
      continue;
    }
    const kv = /^([A-Za-z0-9_]+)\s*=\s*(.+)$/.exec(line);
    if (!kv) throw new Error(`fly.toml: cannot read "${raw}"`);
    const text = kv[2]!;
    const value = text.startsWith('"') ? (JSON.parse(text) as string) : text === 'true' || text === 'false' ? text === 'true' : Number(text);
    if (typeof value === 'number' && Number.isNaN(value)) throw new Error(`fly.toml: bad value in "${raw}"`);
    values.set(table === '' ? kv[1]! : `${table}.${kv[1]!}`, value);
  }
  return { values, tables };
}

describe('fly.toml agrees with the Dockerfile and the bot', () => {
  const { values, tables } = readFlatToml(readFileSync(join(root, 'fly.toml'), 'utf8'));
  const runtime = parseDockerfile(readFileSync(join(root, 'Dockerfile'), 'utf8')).at(-1)!;
  const imageEnv = new Map(runtime.instructions.flatMap((i) => (i.kind === 'ENV' ? [...i.vars] : [])));

  it('is a worker on one 256 MB shared-cpu-1x Machine, without a public service', () => {
    expect(values.get('vm.size')).toBe('shared-cpu-1x');
    expect(values.get('vm.memory')).toBe('256mb');
    expect(tables).not.toContain('http_service');
    expect(tables).not.toContain('services');
    expect(typeof values.get('swap_size_mb')).toBe('number');
  });

  it('stops with SIGTERM and waits longer than the bot drains (30 s)', () => {
    expect(values.get('kill_signal')).toBe('SIGTERM');
    expect(values.get('kill_timeout')).toBeGreaterThan(30);
  });

  it('checks and scrapes the health port the image listens on, and mounts the volume where the image keeps data', () => {
    const port = Number(imageEnv.get('HEALTH_PORT'));
    expect(port).toBeGreaterThan(0);
    expect(values.get('checks.health.port')).toBe(port);
    expect(values.get('checks.health.path')).toBe('/healthz');
    expect(values.get('metrics.port')).toBe(port);
    expect(values.get('metrics.path')).toBe('/metrics');
    expect(values.get('mounts.destination')).toBe(imageEnv.get('DATA_DIR'));
    expect(String(imageEnv.get('SPOOL_DIR'))).toMatch(new RegExp(`^${String(imageEnv.get('DATA_DIR'))}/`));
    if (values.has('env.DATA_DIR')) expect(values.get('env.DATA_DIR')).toBe(imageEnv.get('DATA_DIR'));
    if (values.has('env.HEALTH_PORT')) expect(Number(values.get('env.HEALTH_PORT'))).toBe(port);
  });
});
