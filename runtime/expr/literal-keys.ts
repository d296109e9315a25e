/**
 * The keys of an expression that is an object constructor with literal keys
 * (`{ "sku": body.sku, "qty": 2 }`), read from JSONata's AST at load time. RPC endpoints use it
 * to check `args` against the operation's parameters before the flow starts; any other shape
 * (a path such as `body`, a function call) gives undefined and is checked per message.
 */
import type { AstNode } from './fast-path.ts';
import { jsonata } from './jsonata-lazy.ts';

export function literalObjectKeys(source: unknown): string[] | undefined {
  if (source !== null && typeof source === 'object' && !Array.isArray(source)) return Object.keys(source);
  if (typeof source !== 'string') return undefined;
  let ast: AstNode;
  try {
    ast = jsonata()(source).ast() as unknown as AstNode;
  } catch {
    return undefined; // the expression itself reports its syntax error
  }
  if (ast.type !== 'unary' || ast.value !== '{' || !Array.isArray(ast.lhs)) return undefined;
  const keys: string[] = [];
  for (const [key] of ast.lhs as readonly (readonly [AstNode, AstNode])[]) {
    if (key.type !== 'string' || typeof key.value !== 'string') return undefined;
    keys.push(key.value);
  }
  return keys;
}
