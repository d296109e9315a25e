/**
 * S2's SOAP work alone, repeated: the getQuote envelope written and the backend's answer
 * decoded and unwrapped, N times (default 10000), with no sockets, so that instruction counts
 * are repeatable on a busy machine. Instructions per request are the difference of two runs:
 *   valgrind --tool=callgrind --callgrind-out-file=/dev/null node bench/soap-work.ts 2000
 *   valgrind --tool=callgrind --callgrind-out-file=/dev/null node bench/soap-work.ts 12000
 *   -> (collected at 12000 - collected at 2000) / 10000
 * Without valgrind it prints the CPU time per request.
 */
import { envelopeXml, unwrap } from '../connectors/soap/envelope.ts';
import { createXmlCodec } from '../runtime/codecs/xml.ts';
import { BACKEND, SOAP } from './scenarios.ts';

const n = Number(process.argv[2] ?? 10_000);
const codec = createXmlCodec();
const answer = new TextEncoder().encode(BACKEND['/quote'][1]);
const arrays = new Set<string>();
let bytes = 0;
const start = process.cpuUsage();
for (let i = 0; i < n; i++) {
  const xml = envelopeXml(codec, '1.1', undefined, SOAP.operation, SOAP.namespace, { sku: 'A-42', qty: 3 });
  const value = unwrap(codec.decode(answer), arrays);
  bytes += xml.length + (value?.kind === 'result' ? 1 : 0);
}
const used = process.cpuUsage(start);
console.log(`${n} requests, ${((used.user + used.system) / n).toFixed(2)} us of CPU each (${bytes} bytes written)`);
