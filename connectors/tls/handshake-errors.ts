/**
 * Why a TLS handshake failed, in words a flow author can act on. Node reports certificate
 * checks with OpenSSL's verify codes (UNABLE_TO_VERIFY_LEAF_SIGNATURE), its own ERR_TLS_*,
 * and alerts from the server as ERR_SSL_*; gRPC passes on only the message, so the known
 * messages are recognised too.
 */

const UNTRUSTED = "the server's certificate is not signed by a trusted CA (give the CA in `tls.ca`)";
const CLIENT_CERT_REFUSED = 'the server refused the client certificate (`tls.cert`): it does not trust its CA, or it has expired';
const NO_COMMON_VERSION = 'no TLS version both sides accept (see `tls.minVersion`)';

const BY_CODE: Record<string, string> = {
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: UNTRUSTED,
  UNABLE_TO_GET_ISSUER_CERT: UNTRUSTED,
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: UNTRUSTED,
  SELF_SIGNED_CERT_IN_CHAIN: UNTRUSTED,
  DEPTH_ZERO_SELF_SIGNED_CERT: UNTRUSTED,
  CERT_UNTRUSTED: UNTRUSTED,
  CERT_SIGNATURE_FAILURE: UNTRUSTED,
  ERR_TLS_CERT_ALTNAME_INVALID: "the server's certificate is not for this host name (hostname mismatch; see `tls.servername`)",
  CERT_HAS_EXPIRED: "the server's certificate has expired",
  CERT_NOT_YET_VALID: "the server's certificate is not valid yet",
  CERT_REVOKED: "the server's certificate is revoked",
  ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED: 'the server requires a client certificate (give `tls.cert` and `tls.key`)',
  ERR_SSL_TLSV1_ALERT_UNKNOWN_CA: CLIENT_CERT_REFUSED,
  ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE: CLIENT_CERT_REFUSED,
  ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED: CLIENT_CERT_REFUSED,
  ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN: CLIENT_CERT_REFUSED,
  ERR_SSL_WRONG_VERSION_NUMBER: 'the server does not speak TLS on this port',
  ERR_SSL_PACKET_LENGTH_TOO_LONG: 'the server does not speak TLS on this port',
  ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION: NO_COMMON_VERSION,
  ERR_SSL_UNSUPPORTED_PROTOCOL: NO_COMMON_VERSION,
  ERR_SSL_NO_PROTOCOLS_AVAILABLE: NO_COMMON_VERSION,
};

/** Node's messages for the same failures, for errors that arrive as text only (gRPC). */
const BY_MESSAGE: readonly (readonly [RegExp, string])[] = [
  [/unable to verify the first certificate|self[- ]signed certificate|unable to get (local )?issuer certificate/i, UNTRUSTED],
  [/does not match certificate's altnames|altname/i, BY_CODE.ERR_TLS_CERT_ALTNAME_INVALID],
  [/certificate has expired/i, BY_CODE.CERT_HAS_EXPIRED],
  [/certificate is not yet valid/i, BY_CODE.CERT_NOT_YET_VALID],
  [/alert certificate required/i, BY_CODE.ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED],
  [/alert (unknown ca|bad certificate|certificate expired|certificate unknown)/i, CLIENT_CERT_REFUSED],
  [/wrong version number|packet length too long/i, BY_CODE.ERR_SSL_WRONG_VERSION_NUMBER],
];

/** The reason of a failed TLS handshake, or undefined when `code`/`message` is not about TLS. */
export function tlsFailureReason(code: string | undefined, message: string | undefined): string | undefined {
  if (code !== undefined) {
    const known = BY_CODE[code];
    if (known) return known;
    if (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_')) return `TLS handshake failed (${code})`;
  }
  if (message === undefined) return undefined;
  for (const [re, reason] of BY_MESSAGE) if (re.test(message)) return reason;
  return undefined;
}
