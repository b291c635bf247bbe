import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const DOCS = ['README.md', join('docs', 'fork.md')].map((file) => ({
  file,
  text: readFileSync(join(ROOT, file), 'utf8'),
}));

/** Every line of every `sh` code block. */
const shellLines = (markdown: string) =>
  [...markdown.matchAll(/^\s*```sh\n([\s\S]*?)^\s*```$/gm)].flatMap((m) =>
    m[1].split('\n').map((l) => l.trim()),
  );

describe('the deploy and destroy commands the docs give', () => {
  test('pass the config to every cdk deploy and destroy, so a renamed fork is not left running', () => {
    for (const { file, text } of DOCS) {
      const cdk = shellLines(text).filter((l) => /\bcdk (deploy|destroy)\b/.test(l));
      expect([file, cdk.length > 0]).toEqual([file, true]);
      for (const line of cdk)
        expect([file, line]).toEqual([file, expect.stringMatching(/-c config=\S+/)]);
    }
  });

  test('pass --config to every game-day command', () => {
    const [readme] = DOCS;
    const gameday = shellLines(readme.text).filter((l) => l.startsWith('npm run gameday -- '));
    expect(gameday.length).toBeGreaterThan(0);
    for (const line of gameday) expect(line).toMatch(/--config \S+/);
  });

  test('give the redeploy command the doctor prints, with the flag the CLI has', () => {
    const [readme] = DOCS;
    expect(readme.text).toContain(
      'npx cdk deploy <project>-Data --exclusively --import-existing-resources -c config=my-config.json',
    );
    const doctor = readFileSync(join(ROOT, 'lib', 'doctor', 'retained-table-check.ts'), 'utf8');
    expect(doctor).toContain('--exclusively --import-existing-resources');
  });

  test('no longer say that CDK writes cross-region values to SSM parameters', () => {
    const [readme] = DOCS;
    expect(readme.text).not.toMatch(/writes them to SSM parameters/);
    expect(readme.text).toContain('Fn::GetStackOutput');
  });
});
