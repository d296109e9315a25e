/**
 * Schema fragments that component specs share. They point into the whole-flow schema's
 * definitions, so a spec says "an expression" once and the editor schema explains it once.
 */
export const ref = {
  expression: { $ref: '#/definitions/expression' },
  template: { $ref: '#/definitions/template' },
  templateMap: { type: 'object', additionalProperties: { $ref: '#/definitions/template' } },
  steps: { $ref: '#/definitions/steps' },
  duration: { $ref: '#/definitions/duration' },
  size: { $ref: '#/definitions/size' },
} as const;

/** Marks a schema node whose object is one of several kinds, named by its single kind key. */
export const UNION_KEYWORD = 'x-weft-union';
/** Human wording of what a pattern expects, used in load errors instead of the regex. */
export const EXPECTED_KEYWORD = 'x-weft-expected';
