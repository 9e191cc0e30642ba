import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The folder holding the Dockerfile above `from` (works from test/deploy under vitest and from dist/test/deploy). */
export function projectRootOf(from: string): string {
  let dir = from;
  while (!existsSync(join(dir, 'Dockerfile')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}
