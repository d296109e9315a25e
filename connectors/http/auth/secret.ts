/**
 * Secrets in endpoint config: a string (write `${env.NAME}` to take it from the environment;
 * it is resolved at load and a missing variable is a load error), or `{ file: path }` for a
 * mounted secret (Kubernetes, Docker), read once at load and trimmed of its trailing newline.
 */
import { readFileSync } from 'node:fs';
import type { CompileContext } from '../../../runtime/contract.ts';

export type SecretConfig = string | { file: string };

export const secretSchema = {
  description: 'A secret: a string (use ${env.NAME}), or { file: path } of a mounted secret.',
  oneOf: [
    { type: 'string', minLength: 1 },
    {
      type: 'object',
      properties: { file: { type: 'string', description: 'File holding the secret, relative to the flow file or absolute.' } },
      required: ['file'],
      additionalProperties: false,
    },
  ],
} as const;

/** The secret's value; '' after a problem was recorded. */
export function readSecret(config: SecretConfig, at: CompileContext, key: string | number): string {
  if (typeof config === 'string') return config;
  const path = at.child(key).secretFile(config.file, 'file');
  if (path === undefined) return '';
  const value = readFileSync(path, 'utf8').replace(/\r?\n$/, '');
  if (value === '') at.problem('FLOW_FILE', `secret file '${config.file}' is empty`, key);
  return value;
}
