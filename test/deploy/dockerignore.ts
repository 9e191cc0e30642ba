import { readdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * .dockerignore as Docker reads it (moby/patternmatcher): one pattern a line, `#` comments, `!`
 * re-includes, `*` and `?` within one path segment, `**` across segments. A pattern matches a path
 * or any of its parent directories; the last pattern that matches decides.
 */
export class DockerIgnore {
  private readonly rules: readonly { readonly negate: boolean; readonly re: RegExp; readonly pattern: string }[];

  constructor(text: string) {
    this.rules = text
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'))
      .map((l) => {
        const negate = l.startsWith('!');
        const pattern = cleanPattern(negate ? l.slice(1) : l);
        return { negate, pattern, re: globToRegExp(pattern) };
      });
  }

  /** True when `path` (relative, `/`-separated) is left out of the build context. */
  excludes(path: string): boolean {
    const parts = path.split('/');
    let excluded = false;
    for (const rule of this.rules) {
      for (let n = 1; n <= parts.length; n++) {
        if (rule.re.test(parts.slice(0, n).join('/'))) {
          excluded = !rule.negate;
          break;
        }
      }
    }
    return excluded;
  }

  /** True when some `!` pattern could re-include something below `dir` (so the walk must not prune it). */
  mayIncludeBelow(dir: string): boolean {
    return this.rules.some((r) => r.negate && (r.pattern.startsWith(`${dir}/`) || r.pattern.startsWith('**')));
  }

  /** Every file of the build context below `root`, relative and sorted. */
  contextFiles(root: string): string[] {
    const out: string[] = [];
    const walk = (rel: string): void => {
      for (const entry of readdirSync(rel === '' ? root : join(root, rel), { withFileTypes: true })) {
        const path = rel === '' ? entry.name : `${rel}/${entry.name}`;
        const excluded = this.excludes(path);
        if (entry.isDirectory()) {
          if (!excluded || this.mayIncludeBelow(path)) walk(path);
        } else if (!excluded) {
          out.push(path);
        }
      }
    };
    walk('');
    return out.sort();
  }
}

// Docker cleans patterns like filepath.Clean: no leading `/` or `./`, no trailing `/`.
function cleanPattern(pattern: string): string {
  return pattern.replace(/^(\.?\/)+/, '').replace(/\/+$/, '');
}

function globToRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*' && pattern[i + 1] === '*') {
      // `**/` matches zero or more directories; a trailing `**` matches everything below.
      re += pattern[i + 2] === '/' ? '(?:.*/)?' : '.*';
      i += pattern[i + 2] === '/' ? 2 : 1;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}
