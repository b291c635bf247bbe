import ts from 'typescript';

/**
 * Checks code against what CloudFront Functions' JavaScript runtime 2.0 documents as supported
 * ("JavaScript runtime 2.0 features for CloudFront Functions"): ES 5.1, plus const and let, arrow
 * functions, rest parameters, template literals, the ** operator, and async/await in a top-level
 * async function ("async arguments and closures are not supported"); only the `cloudfront` module
 * imported, as `import cf from 'cloudfront'` on the first line; no dynamic code evaluation, no
 * timers, no Node globals ("Restricted features").
 *
 * Anything the page does not list is refused, so a construct that may or may not work at the edge
 * fails here rather than at deployment.
 */

const UNLISTED_SYNTAX = new Map<ts.SyntaxKind, string>([
  [ts.SyntaxKind.ClassDeclaration, 'class'],
  [ts.SyntaxKind.ClassExpression, 'class'],
  [ts.SyntaxKind.ObjectBindingPattern, 'destructuring'],
  [ts.SyntaxKind.ArrayBindingPattern, 'destructuring'],
  [ts.SyntaxKind.SpreadElement, 'spread'],
  [ts.SyntaxKind.SpreadAssignment, 'object spread'],
  [ts.SyntaxKind.ForOfStatement, 'for-of'],
  [ts.SyntaxKind.TaggedTemplateExpression, 'tagged template'],
  [ts.SyntaxKind.YieldExpression, 'generator'],
  [ts.SyntaxKind.QuestionDotToken, 'optional chaining'],
  [ts.SyntaxKind.QuestionQuestionToken, 'nullish coalescing'],
  [ts.SyntaxKind.QuestionQuestionEqualsToken, 'logical assignment'],
  [ts.SyntaxKind.BarBarEqualsToken, 'logical assignment'],
  [ts.SyntaxKind.AmpersandAmpersandEqualsToken, 'logical assignment'],
  [ts.SyntaxKind.BigIntLiteral, 'BigInt'],
  [ts.SyntaxKind.ShorthandPropertyAssignment, 'shorthand property'],
  [ts.SyntaxKind.ComputedPropertyName, 'computed property name'],
  [ts.SyntaxKind.GetAccessor, 'getter'],
  [ts.SyntaxKind.SetAccessor, 'setter'],
  [ts.SyntaxKind.ExportDeclaration, 'export'],
  [ts.SyntaxKind.ExportAssignment, 'export'],
  [ts.SyntaxKind.MetaProperty, 'import.meta / new.target'],
]);

const RESTRICTED_NAMES = new Set([
  'eval',
  'Function',
  'require',
  'setTimeout',
  'setInterval',
  'setImmediate',
  'clearTimeout',
  'clearInterval',
  'process',
  'Buffer',
  'globalThis',
  'Promise',
  'Map',
  'Set',
  'WeakMap',
  'WeakSet',
  'Symbol',
  'Proxy',
  'Reflect',
  'fetch',
]);

export interface Violation {
  readonly line: number;
  readonly what: string;
}

export function runtimeViolations(code: string): Violation[] {
  const violations: Violation[] = [];
  const source = ts.createSourceFile(
    'api-router.js',
    code,
    ts.ScriptTarget.Latest,
    true,
    ts.ScriptKind.JS,
  );
  const at = (node: ts.Node) =>
    source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
  const add = (node: ts.Node, what: string) => violations.push({ line: at(node), what });

  const parseErrors = (source as unknown as { parseDiagnostics: readonly ts.Diagnostic[] })
    .parseDiagnostics;
  for (const error of parseErrors) {
    violations.push({
      line:
        error.start === undefined ? 0 : source.getLineAndCharacterOfPosition(error.start).line + 1,
      what: `syntax error: ${ts.flattenDiagnosticMessageText(error.messageText, ' ')}`,
    });
  }
  const outsideAscii = [...code].some((char) => {
    const unit = char.charCodeAt(0);
    return unit > 0x7e || (unit < 0x20 && char !== '\n' && char !== '\r' && char !== '\t');
  });
  if (outsideAscii) {
    violations.push({ line: 0, what: 'characters outside printable ASCII' });
  }

  const first = source.statements[0];
  const importsCloudfront = (statement: ts.Statement | undefined) =>
    statement !== undefined &&
    ts.isImportDeclaration(statement) &&
    ts.isStringLiteral(statement.moduleSpecifier) &&
    statement.moduleSpecifier.text === 'cloudfront' &&
    statement.importClause?.name?.text === 'cf' &&
    statement.importClause.namedBindings === undefined;
  if (!importsCloudfront(first) || at(first) !== 1) {
    violations.push({ line: 1, what: "the first line must be import cf from 'cloudfront'" });
  }

  const handlers = source.statements.filter(
    (statement): statement is ts.FunctionDeclaration =>
      ts.isFunctionDeclaration(statement) && statement.name?.text === 'handler',
  );
  if (handlers.length !== 1) {
    violations.push({ line: 0, what: `one top-level function handler, found ${handlers.length}` });
  }

  const visit = (node: ts.Node, insideAsync: boolean, depth: number): void => {
    const syntax = UNLISTED_SYNTAX.get(node.kind);
    if (syntax) add(node, syntax);
    if (ts.isImportDeclaration(node) && node !== first)
      add(node, 'an import other than cloudfront');
    if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      add(node, 'dynamic import');
    }
    if (ts.isParameter(node) && node.initializer) add(node, 'default parameter');
    if (
      ts.canHaveModifiers(node) &&
      ts.getModifiers(node)?.some((modifier) => modifier.kind === ts.SyntaxKind.ExportKeyword)
    ) {
      add(node, 'export');
    }
    if ((ts.isFunctionDeclaration(node) || ts.isFunctionExpression(node)) && node.asteriskToken) {
      add(node, 'generator');
    }
    const isFunction = ts.isFunctionLike(node);
    const isAsync =
      isFunction && (ts.getCombinedModifierFlags(node) & ts.ModifierFlags.Async) !== 0;
    if (isAsync && !(ts.isFunctionDeclaration(node) && depth === 0)) {
      add(node, 'an async function that is not top level (async closures are not supported)');
    }
    if (ts.isAwaitExpression(node) && !insideAsync) add(node, 'await outside an async function');
    if (ts.isIdentifier(node) && RESTRICTED_NAMES.has(node.text)) {
      const parent = node.parent;
      const isPropertyName =
        (ts.isPropertyAccessExpression(parent) && parent.name === node) ||
        (ts.isPropertyAssignment(parent) && parent.name === node);
      if (!isPropertyName) add(node, `${node.text} (not available at the edge)`);
    }
    if (
      ts.isPropertyAccessExpression(node) &&
      ts.isIdentifier(node.expression) &&
      node.expression.text === 'console' &&
      node.name.text !== 'log'
    ) {
      add(node, `console.${node.name.text} (only console.log exists)`);
    }
    const nextAsync = isFunction ? isAsync : insideAsync;
    const nextDepth = isFunction ? depth + 1 : depth;
    ts.forEachChild(node, (child) => visit(child, nextAsync, nextDepth));
  };
  visit(source, false, 0);
  return violations;
}
