import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';

/** A file to upload: its object key and its text. */
export interface SiteFile {
  readonly key: string;
  readonly content: string;
}

/** The site ready to upload: long-cached hashed assets, and the short-cached page naming them. */
export interface FingerprintedSite {
  /** `index.html` with every reference to a local file rewritten to `/<hashed key>`. */
  readonly indexHtml: string;
  /** Every other file, under `assets/<name>.<hash>.<ext>`: its key changes when its text does. */
  readonly assets: readonly SiteFile[];
}

/** Written at deploy time from the stack's values; a copy in the source folder would be shadowed. */
export const RUNTIME_CONFIG_FILE = 'config.json';
const TEXT_EXTENSIONS = new Set(['.html', '.js', '.mjs', '.css', '.svg', '.txt', '.json', '.map']);

function listFiles(directory: string): string[] {
  return readdirSync(directory).flatMap((name) => {
    const path = join(directory, name);
    return statSync(path).isDirectory() ? listFiles(path) : [path];
  });
}

/**
 * Reads a no-build static site: `index.html` plus the text files it references by relative
 * `src`/`href`. Each of those gets a content hash in its name so it can be cached for a year, and
 * the page is rewritten to name the hashed files; only the page itself stays at a stable key.
 * Files reference each other only from `index.html` (a script importing another file would keep
 * the unhashed name).
 */
export function fingerprintSite(directory: string): FingerprintedSite {
  const problems: string[] = [];
  const indexPath = join(directory, 'index.html');
  if (!existsSync(indexPath)) {
    throw new Error(`sourceDirectory must contain index.html, got ${directory} without one`);
  }
  const files = listFiles(directory)
    .map((path) => relative(directory, path).split(sep).join('/'))
    .filter((key) => key !== 'index.html' && key !== RUNTIME_CONFIG_FILE)
    .sort();

  const hashedKeys = new Map<string, string>();
  const assets: SiteFile[] = [];
  for (const key of files) {
    const ext = extname(key);
    if (!TEXT_EXTENSIONS.has(ext)) {
      problems.push(
        `${key}: only text files (${[...TEXT_EXTENSIONS].join(', ')}) are supported, got ${ext || 'no extension'}`,
      );
      continue;
    }
    const content = readFileSync(join(directory, key), 'utf8');
    const hash = createHash('sha256').update(content).digest('hex').slice(0, 12);
    const hashedKey = `assets/${key.slice(0, key.length - ext.length)}.${hash}${ext}`;
    hashedKeys.set(key, hashedKey);
    assets.push({ key: hashedKey, content });
  }
  if (problems.length > 0) {
    throw new Error(
      `sourceDirectory ${directory} has ${problems.length} unsupported file${problems.length === 1 ? '' : 's'}:\n` +
        problems.map((p) => `  - ${p}`).join('\n'),
    );
  }

  const indexHtml = readFileSync(indexPath, 'utf8').replace(
    /\b(src|href)="(?:\.\/)?([^"#?:]+)"/g,
    (match: string, attribute: string, path: string) => {
      const hashed = hashedKeys.get(path);
      return hashed === undefined ? match : `${attribute}="/${hashed}"`;
    },
  );
  return { indexHtml, assets };
}
