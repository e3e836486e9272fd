// The catalog keys the source uses, read from the source itself: every t`...` tagged template in agent/
// (its static parts make the key, as `templateKey` does at run time) and every `message(domain, 'id')`
// with a literal id. Parsed with the TypeScript compiler, so a `${}` holding a template is read right.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { templateKey } from '../../../agent/messages/text.js';

export interface KeyUse {
  key: string;
  at: string;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

export function keysInSource(root: string): KeyUse[] {
  const uses: KeyUse[] = [];
  for (const file of sourceFiles(join(root, 'agent'))) {
    const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
    const at = (n: ts.Node) =>
      `${relative(root, file)}:${sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1}`;
    const visit = (n: ts.Node): void => {
      if (ts.isTaggedTemplateExpression(n) && ts.isIdentifier(n.tag) && n.tag.text === 't') {
        const tpl = n.template;
        const parts = ts.isNoSubstitutionTemplateLiteral(tpl)
          ? [tpl.text]
          : [tpl.head.text, ...tpl.templateSpans.map((s) => s.literal.text)];
        uses.push({ key: `detail:${templateKey(parts)}`, at: at(n) });
      }
      if (
        ts.isCallExpression(n) &&
        ts.isIdentifier(n.expression) &&
        n.expression.text === 'message' &&
        n.arguments.length >= 2 &&
        ts.isStringLiteral(n.arguments[0]!) &&
        ts.isStringLiteral(n.arguments[1]!)
      ) {
        uses.push({ key: `${n.arguments[0].text}:${n.arguments[1].text}`, at: at(n) });
      }
      ts.forEachChild(n, visit);
    };
    visit(sf);
  }
  return uses;
}
