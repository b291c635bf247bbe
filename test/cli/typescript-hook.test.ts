import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');
const hook = join(root, 'bin', 'typescript-hook.js');

/** Runs `node --require bin/typescript-hook.js <file>` as cdk.json runs the app. */
function runWithHook(file: string) {
  const result = spawnSync(process.execPath, ['--require', hook, file], {
    cwd: root,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('bin/typescript-hook.js', () => {
  let work: string;
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'ts-hook-'));
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  test('compiles TypeScript with source maps: an error names the .ts line it was thrown at', () => {
    // GIVEN a TypeScript file with types, an enum and a throw on line 6
    const file = join(work, 'throws.ts');
    writeFileSync(
      file,
      [
        'enum Colour { Red, Green }',
        'interface Shape { readonly colour: Colour }',
        'const shape: Shape = { colour: Colour.Green };',
        'console.log(`colour ${shape.colour}`);',
        'function fail(): never {',
        "  throw new Error('thrown on purpose');",
        '}',
        'fail();',
      ].join('\n'),
    );
    // WHEN
    const { status, stdout, stderr } = runWithHook(file);
    // THEN
    expect(status).toBe(1);
    expect(stdout).toBe('colour 1\n');
    expect(stderr).toContain('thrown on purpose');
    expect(stderr).toContain(`${file}:6:`);
  });

  test("leaves every .js file to Node: the app's modules load without tsx", () => {
    // GIVEN a file that loads the blueprint (aws-cdk-lib, cdk-nag and the app's own modules)
    const file = join(work, 'loads.ts');
    writeFileSync(
      file,
      [
        `import { createBlueprint } from ${JSON.stringify(join(root, 'lib', 'blueprint'))};`,
        'const loaded = Object.keys(require.cache);',
        'console.log(JSON.stringify({',
        '  blueprint: typeof createBlueprint,',
        "  tsx: loaded.filter((f) => f.includes('/node_modules/tsx/')).length,",
        "  cdkLib: loaded.filter((f) => f.includes('/node_modules/aws-cdk-lib/')).length,",
        '}));',
      ].join('\n'),
    );
    // WHEN
    const { status, stdout, stderr } = runWithHook(file);
    // THEN
    expect(stderr).toBe('');
    expect(status).toBe(0);
    const loaded = JSON.parse(stdout) as { blueprint: string; tsx: number; cdkLib: number };
    expect(loaded.blueprint).toBe('function');
    expect(loaded.tsx).toBe(0);
    expect(loaded.cdkLib).toBeGreaterThan(0);
  });
});
