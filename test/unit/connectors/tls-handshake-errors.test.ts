/**
 * TLS failures as Node, undici and grpc-js report them -> TLS_FAILED with a reason a flow
 * author can act on; everything else keeps its network code. The handshakes the integration
 * tests cannot stage cheaply (an expired certificate, a plaintext port, no common version)
 * are covered here by the codes and messages Node gives for them.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { grpcError } from '../../../connectors/grpc/status.ts';
import { networkError } from '../../../connectors/http/network-errors.ts';
import { tlsFailureReason } from '../../../connectors/tls/handshake-errors.ts';
import { WeftError } from '../../../runtime/errors.ts';

const failure = (code: string, message = 'handshake failed', cause?: unknown) => Object.assign(new Error(message, { cause }), { code });

describe('TLS handshake failures', () => {
  it('names the reason of each failure by its code', () => {
    const cases: [string, RegExp][] = [
      ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', /not signed by a trusted CA/],
      ['SELF_SIGNED_CERT_IN_CHAIN', /not signed by a trusted CA/],
      ['DEPTH_ZERO_SELF_SIGNED_CERT', /not signed by a trusted CA/],
      ['ERR_TLS_CERT_ALTNAME_INVALID', /hostname mismatch/],
      ['CERT_HAS_EXPIRED', /has expired/],
      ['CERT_NOT_YET_VALID', /not valid yet/],
      ['ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', /requires a client certificate/],
      ['ERR_SSL_TLSV1_ALERT_UNKNOWN_CA', /refused the client certificate/],
      ['ERR_SSL_WRONG_VERSION_NUMBER', /does not speak TLS/],
      ['ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION', /no TLS version both sides accept/],
      ['ERR_SSL_SOMETHING_NEW', /TLS handshake failed \(ERR_SSL_SOMETHING_NEW\)/],
    ];
    for (const [code, reason] of cases) {
      const err = networkError(failure(code), 'bank', 'GET https://bank.example/x');
      assert.ok(err instanceof WeftError, code);
      assert.equal(err.code, 'TLS_FAILED', code);
      assert.equal(err.retryable, false, code);
      assert.match(err.message, /^call to bank \(GET https:\/\/bank.example\/x\) failed: /, code);
      assert.match(err.message, reason, code);
    }
  });

  it('a socket closed after a TLS alert is that alert, not a reset', () => {
    const closed = failure('UND_ERR_SOCKET', 'other side closed', failure('ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED'));
    assert.equal((networkError(closed, 'bank', 't') as WeftError).code, 'TLS_FAILED');
    assert.equal((networkError(failure('UND_ERR_SOCKET', 'other side closed'), 'bank', 't') as WeftError).code, 'CONNECTION_RESET');
    assert.equal((networkError(failure('ECONNREFUSED'), 'bank', 't') as WeftError).code, 'CONNECTION_REFUSED');
    assert.equal(tlsFailureReason('ECONNRESET', 'read ECONNRESET'), undefined);
  });

  it('grpc: UNAVAILABLE with a TLS message on a TLS channel is TLS_FAILED; on a plaintext one it stays CONNECTION_FAILED', () => {
    const unavailable = { code: 14, details: 'No connection established. Last error: Error: certificate has expired' };
    const secure = grpcError(unavailable, 'vault', '/vault.v1.Vault/Get', true);
    assert.equal(secure.code, 'TLS_FAILED');
    assert.match(secure.message, /has expired/);
    assert.equal(grpcError(unavailable, 'vault', '/vault.v1.Vault/Get', false).code, 'CONNECTION_FAILED');
    assert.equal(grpcError({ code: 14, details: 'connect ECONNREFUSED 127.0.0.1:1' }, 'vault', '/v', true).code, 'CONNECTION_FAILED');
  });
});
