import { formatCidr, parseCidr } from '../../../common/cidr.js';
import { WireguardError } from './errors.js';
import { isWireguardKey } from './keys.js';
import type { WgConfigState, WgObservedPeer } from './state.js';

/**
 * `wg show <dev> dump` (untrusted text) → the device's configuration. Line 1: private key,
 * public key, listen port, fwmark; one line per peer: public key, preshared key, endpoint,
 * allowed IPs, latest handshake, rx bytes, tx bytes, persistent keepalive — tab-separated,
 * "(none)" / "off" for unset. The private key is checked for shape and dropped.
 */
export function parseWgDump(text: string): WgConfigState<WgObservedPeer> {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const [head, ...rest] = lines;
  if (head === undefined) throw new WireguardError('EWGDUMP', 'wg dump: empty output');
  const dev = head.split('\t');
  if (dev.length !== 4)
    throw new WireguardError('EWGDUMP', `wg dump: interface line has ${dev.length} fields, want 4`);
  const [, publicKey = '', port = ''] = dev;
  return {
    publicKey: optionalKey(publicKey, 'interface public key'),
    listenPort: counter(port, 'listen port'),
    peers: rest.map(parsePeerLine),
  };
}

function parsePeerLine(line: string, i: number): WgObservedPeer {
  const f = line.split('\t');
  if (f.length !== 8)
    throw new WireguardError('EWGDUMP', `wg dump: peer line ${i + 1} has ${f.length} fields, want 8`);
  const [publicKey = '', , endpoint = '', allowed = '', handshake = '', rx = '', tx = '', keepalive = ''] = f;
  if (!isWireguardKey(publicKey))
    throw new WireguardError('EWGDUMP', `wg dump: peer line ${i + 1}: bad public key`);
  return {
    publicKey,
    endpoint: endpoint === '(none)' ? undefined : endpoint,
    allowedIPs: allowed === '(none)' ? [] : parseAllowedIPs(allowed, i),
    persistentKeepalive: keepalive === 'off' ? undefined : counter(keepalive, 'persistent keepalive'),
    latestHandshake: counter(handshake, 'latest handshake'),
    rxBytes: counter(rx, 'rx bytes'),
    txBytes: counter(tx, 'tx bytes'),
  };
}

function parseAllowedIPs(text: string, i: number): string[] {
  try {
    return text.split(',').map(canonicalAllowedIP).sort();
  } catch (err: unknown) {
    throw new WireguardError(
      'EWGDUMP',
      `wg dump: peer line ${i + 1}: bad allowed IPs ${JSON.stringify(text)}`,
      {
        cause: err,
      },
    );
  }
}

function optionalKey(text: string, what: string): string | undefined {
  if (text === '(none)') return undefined;
  if (!isWireguardKey(text)) throw new WireguardError('EWGDUMP', `wg dump: bad ${what}`);
  return text;
}

function counter(text: string, what: string): number {
  if (!/^\d{1,15}$/.test(text))
    throw new WireguardError('EWGDUMP', `wg dump: bad ${what} ${JSON.stringify(text)}`);
  return Number(text);
}

/** An allowed-IPs entry in the form `wg` prints it: IPv4 with host bits cleared; IPv6 as written, lower case. */
export function canonicalAllowedIP(text: string): string {
  const t = text.trim();
  if (t.includes(':') && /^[0-9a-f:.]+\/\d{1,3}$/i.test(t)) return t.toLowerCase();
  return formatCidr(parseCidr(t, false));
}
