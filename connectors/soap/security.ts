/**
 * WS-Security UsernameToken (OASIS WSS 1.1 UsernameToken Profile) as a SOAP header entry.
 * PasswordText sends the password (use TLS); PasswordDigest sends
 * Base64(SHA-1(nonce + created + password)) with a fresh nonce and timestamp per call.
 */
import { createHash, randomBytes } from 'node:crypto';

const WSSE = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd';
const WSU = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd';
const PROFILE = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0';

export type PasswordType = 'text' | 'digest';

export function usernameToken(username: string, password: string, type: PasswordType, mustUnderstand: boolean): Record<string, unknown> {
  const token: Record<string, unknown> = { 'wsse:Username': username };
  if (type === 'digest') {
    const nonce = randomBytes(16);
    const created = new Date().toISOString();
    const digest = createHash('sha1').update(Buffer.concat([nonce, Buffer.from(created), Buffer.from(password)])).digest('base64');
    token['wsse:Password'] = { '@Type': `${PROFILE}#PasswordDigest`, '#text': digest };
    token['wsse:Nonce'] = { '@EncodingType': 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary', '#text': nonce.toString('base64') };
    token['wsu:Created'] = created;
  } else {
    token['wsse:Password'] = { '@Type': `${PROFILE}#PasswordText`, '#text': password };
  }
  const security: Record<string, unknown> = { '@xmlns:wsse': WSSE, '@xmlns:wsu': WSU };
  if (mustUnderstand) security['@soap:mustUnderstand'] = '1';
  security['wsse:UsernameToken'] = token;
  return { 'wsse:Security': security };
}
