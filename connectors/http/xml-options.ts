import type { JSONSchema } from '../../runtime/contract.ts';

/** The `xml:` options of anything that decodes or encodes XML (see docs/xml-convention.md). */
export const xmlOptionsSchema: JSONSchema = {
  type: 'object',
  description: 'XML convention options.',
  properties: {
    arrays: { type: 'array', items: { type: 'string' }, description: 'Element paths (root.child.leaf) always decoded as arrays.' },
    maxDepth: { type: 'integer', minimum: 1, maximum: 1000, description: 'Deepest nesting accepted. Default 64.' },
    root: { type: 'string', description: 'Root element for values that are not a one-key object. Default root.' },
  },
  additionalProperties: false,
};
