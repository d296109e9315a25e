/** Reads a request body from Node's stream with a hard size limit. */
import type { IncomingMessage } from 'node:http';
import { WeftError } from '../../runtime/errors.ts';

export function hasBody(req: IncomingMessage): boolean {
  const len = req.headers['content-length'];
  return len !== undefined ? len !== '0' : req.headers['transfer-encoding'] !== undefined;
}

/**
 * Resolves with the whole body, or rejects with PAYLOAD_TOO_LARGE as soon as the limit is
 * passed (at once when Content-Length already says so). The rest of an oversized body is
 * discarded, not buffered, and the socket stays usable for the 413 answer.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Uint8Array> {
  const declared = Number(req.headers['content-length']);
  if (declared > limit) {
    req.resume();
    return Promise.reject(tooLarge(limit));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        chunks.length = 0;
        req.resume();
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size));
    };
    const onError = (err: Error) => {
      cleanup();
      reject(new WeftError('MALFORMED_BODY', `request body could not be read: ${err.message}`));
    };
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}

function tooLarge(limit: number): WeftError {
  return new WeftError('PAYLOAD_TOO_LARGE', `body exceeds the limit of ${limit} bytes`);
}
