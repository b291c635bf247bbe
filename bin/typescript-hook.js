'use strict';
/**
 * How `cdk synth` loads the app's TypeScript (cdk.json: `node --require ./bin/typescript-hook.js
 * bin/app.ts`): each `.ts` file is compiled to CommonJS by @swc/core, with the options the tests
 * compile it with (jest.config.js), and an inline source map so that stack traces and the CDK's
 * construct creation traces name the `.ts` lines. Nothing else is touched.
 *
 * Why not tsx, which ran the app before: tsx also hooks every `.js` file Node loads, to find out
 * whether it is an ES module, by lexing its source. The app loads about 960 files (26 MB) of
 * aws-cdk-lib, constructs and cdk-nag, all CommonJS, and that lexing cost about 1.4 s of CPU per
 * synth; compiling the app's own 55 files with swc takes well under 0.1 s.
 */
const { readFileSync } = require('node:fs');
const Module = require('node:module');

const { transformSync } = require('@swc/core');

/** The options of jest.config.js's @swc/jest transform, plus the inline source map. */
const SWC_OPTIONS = {
  jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
  module: { type: 'commonjs' },
  sourceMaps: 'inline',
};

process.setSourceMapsEnabled(true);

Module._extensions['.ts'] = function compileTypeScript(module, filename) {
  const { code } = transformSync(readFileSync(filename, 'utf8'), { ...SWC_OPTIONS, filename });
  module._compile(code, filename);
};
