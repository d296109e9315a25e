/**
 * The `thrift` package's protocol classes (TBinaryProtocol, TCompactProtocol) over an in-memory
 * transport of our own: the package's transports are socket-bound, and ours refuses any read
 * past the end before allocating, so a length prefix that claims 2^31 bytes costs nothing.
 */
import { createRequire } from 'node:module';
import { once } from '../lazy.ts';

const require = createRequire(import.meta.url);
// Loaded when a flow first encodes or decodes Thrift, not when the runtime starts.
const thrift = once(
  () =>
    require('thrift') as {
      TBinaryProtocol: new (trans: unknown) => ThriftProtocol;
      TCompactProtocol: new (trans: unknown) => ThriftProtocol;
    },
);
// node-int64 is the i64 carrier the protocols read and write; resolved from thrift's own deps.
const Int64 = once(() => createRequire(require.resolve('thrift'))('node-int64') as new (buffer: Buffer) => Int64Value);

export interface Int64Value {
  buffer: Buffer;
  offset: number;
}

/** The protocol methods the codec uses (the `thrift` package ships no types). */
export interface ThriftProtocol {
  writeMessageBegin(name: string, type: number, seqid: number): void;
  writeMessageEnd(): void;
  writeStructBegin(name: string): void;
  writeStructEnd(): void;
  writeFieldBegin(name: string, type: number, id: number): void;
  writeFieldEnd(): void;
  writeFieldStop(): void;
  writeMapBegin(ktype: number, vtype: number, size: number): void;
  writeMapEnd(): void;
  writeListBegin(etype: number, size: number): void;
  writeListEnd(): void;
  writeSetBegin(etype: number, size: number): void;
  writeSetEnd(): void;
  writeBool(v: boolean): void;
  writeByte(v: number): void;
  writeI16(v: number): void;
  writeI32(v: number): void;
  writeI64(v: Int64Value | number): void;
  writeDouble(v: number): void;
  writeString(v: string): void;
  writeBinary(v: Uint8Array): void;
  readMessageBegin(): { fname: string; mtype: number; rseqid: number };
  readMessageEnd(): void;
  readStructBegin(): unknown;
  readStructEnd(): void;
  readFieldBegin(): { fname: string; ftype: number; fid: number };
  readFieldEnd(): void;
  readMapBegin(): { ktype: number; vtype: number; size: number };
  readMapEnd(): void;
  readListBegin(): { etype: number; size: number };
  readListEnd(): void;
  readSetBegin(): { etype: number; size: number };
  readSetEnd(): void;
  readBool(): boolean;
  readByte(): number;
  readI16(): number;
  readI32(): number;
  readI64(): Int64Value;
  readDouble(): number;
  readString(): string;
  readBinary(): Buffer;
  skip(type: number): void;
}

export const PROTOCOLS = ['binary', 'compact'] as const;
export type ProtocolName = (typeof PROTOCOLS)[number];

/** Thrown when the input ends before the value does. */
export class TruncatedError extends Error {}

/** Reads from one buffer and collects writes; the transport interface the protocols call. */
export class MemoryTransport {
  #in: Buffer;
  #pos = 0;
  #out: Buffer[] = [];
  #outSize = 0;

  constructor(input?: Uint8Array) {
    this.#in = input ? Buffer.from(input.buffer, input.byteOffset, input.byteLength) : Buffer.alloc(0);
  }

  get remaining(): number {
    return this.#in.length - this.#pos;
  }

  #take(len: number): number {
    if (!(len >= 0) || len > this.#in.length - this.#pos) {
      throw new TruncatedError(`input ends before ${len} more bytes (${this.#in.length - this.#pos} left)`);
    }
    const at = this.#pos;
    this.#pos += len;
    return at;
  }
  read(len: number): Buffer {
    const at = this.#take(len);
    return this.#in.subarray(at, at + len);
  }
  readByte(): number {
    return this.#in.readInt8(this.#take(1));
  }
  readI16(): number {
    return this.#in.readInt16BE(this.#take(2));
  }
  readI32(): number {
    return this.#in.readInt32BE(this.#take(4));
  }
  readDouble(): number {
    return this.#in.readDoubleBE(this.#take(8));
  }
  readString(len: number): string {
    const at = this.#take(len);
    return this.#in.toString('utf8', at, at + len);
  }
  write(buf: Buffer | string): void {
    const b = typeof buf === 'string' ? Buffer.from(buf) : buf;
    this.#out.push(b);
    this.#outSize += b.length;
  }
  /** The bytes written so far. */
  written(): Buffer {
    return this.#out.length === 1 ? this.#out[0] : Buffer.concat(this.#out, this.#outSize);
  }
  flush(): void {}
  setCurrSeqId(): void {}
}

export function protocolFor(name: ProtocolName, transport: MemoryTransport): ThriftProtocol {
  return name === 'compact' ? new (thrift().TCompactProtocol)(transport) : new (thrift().TBinaryProtocol)(transport);
}

export function int64FromBigInt(v: bigint): Int64Value {
  const b = Buffer.allocUnsafe(8);
  b.writeBigInt64BE(BigInt.asIntN(64, v));
  return new (Int64())(b);
}

export function bigIntOfInt64(v: Int64Value): bigint {
  return v.buffer.readBigInt64BE(v.offset ?? 0);
}
