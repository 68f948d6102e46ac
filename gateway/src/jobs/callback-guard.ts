/**
 * SSRF guard for job callbacks. A callback URL is chosen by the client, and the gateway sits
 * inside the operator's network: without a guard, `callback_url: http://169.254.169.254/…` makes
 * the gateway fetch cloud credentials, and `http://10.0.0.5:6379/` talks to internal services.
 *
 * Two checks, both needed:
 * - the URL: scheme (https unless allowed), no credentials, and a literal address is classified
 *   at once;
 * - the address actually connected to: a host name is resolved inside the connection's own
 *   `lookup`, and the socket connects to exactly the address that was checked. Checking a name
 *   once and letting the connection resolve it again would let DNS rebinding swap in 127.0.0.1
 *   between the check and the connect.
 * Redirects are never followed (the delivery treats a 3xx as a failed attempt).
 * @module
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';
import { Agent } from 'undici';

export interface CallbackPolicy {
  /** Schemes a callback may use; `https` only unless the operator allows `http`. */
  allowSchemes: readonly string[];
  /** Host names (exact, lower case) exempt from the address check, e.g. an internal receiver. */
  allowHosts: readonly string[];
  /** CIDR ranges exempt from the address check, e.g. `10.20.0.0/16`. */
  allowCidrs: readonly string[];
}

export class CallbackRefused extends Error {
  override name = 'CallbackRefused';
  readonly code = 'VOX_ERR_CALLBACK_REFUSED';
}

/** Every range but public unicast is refused: loopback, private, link-local (cloud metadata), … */
function forbiddenRange(address: string, policy: CallbackPolicy): string | undefined {
  if (!ipaddr.isValid(address)) return 'not an IP address';
  let ip = ipaddr.parse(address);
  if (ip.kind() === 'ipv6' && (ip as ipaddr.IPv6).isIPv4MappedAddress()) ip = (ip as ipaddr.IPv6).toIPv4Address();
  for (const cidr of policy.allowCidrs) {
    const [range, bits] = ipaddr.parseCIDR(cidr);
    if (range.kind() === ip.kind() && ip.match(range, bits)) return undefined;
  }
  const range = ip.range();
  return range === 'unicast' ? undefined : range;
}

/**
 * Checks a callback URL before a job is accepted; throws `CallbackRefused` with the reason.
 * Host names pass here and are checked again, by address, when the delivery connects.
 */
export function checkCallbackUrl(raw: string, policy: CallbackPolicy): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new CallbackRefused('callback_url is not a URL');
  }
  const scheme = url.protocol.slice(0, -1);
  if (!policy.allowSchemes.includes(scheme))
    throw new CallbackRefused(`callback_url scheme ${scheme} is not allowed (allowed: ${policy.allowSchemes.join(', ')})`);
  if (url.username || url.password) throw new CallbackRefused('callback_url must not carry credentials');
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (policy.allowHosts.includes(host)) return url;
  if (ipaddr.isValid(host)) {
    const why = forbiddenRange(host, policy);
    if (why) throw new CallbackRefused(`callback_url address ${host} is ${why}`);
  } else if (host === 'localhost' || host.endsWith('.localhost')) {
    throw new CallbackRefused('callback_url host is loopback');
  }
  return url;
}

/**
 * A `net.connect` lookup that resolves, then refuses forbidden addresses (or keeps only the
 * allowed ones): the socket connects to what this returns, so what was checked is what is used.
 */
export function guardedLookup(policy: CallbackPolicy, resolve: typeof dnsLookup = dnsLookup): LookupFunction {
  return (hostname, options, callback) => {
    const exempt = policy.allowHosts.includes(hostname.toLowerCase());
    resolve(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, '', 0);
      const usable = exempt ? addresses : addresses.filter((a) => forbiddenRange(a.address, policy) === undefined);
      if (usable.length === 0) {
        const why = addresses.map((a) => `${a.address} (${forbiddenRange(a.address, policy)})`).join(', ');
        return callback(new CallbackRefused(`callback host ${hostname} resolves only to refused addresses: ${why}`), '', 0);
      }
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, usable);
      callback(null, usable[0]!.address, usable[0]!.family);
    });
  };
}

/**
 * The dispatcher callbacks are delivered through: every connection goes through the guarded
 * lookup. Owner: whoever delivers callbacks; `close()` it.
 */
export function guardedAgent(policy: CallbackPolicy, options: { connectTimeoutMs?: number } = {}): Agent {
  return new Agent({
    connect: { lookup: guardedLookup(policy), timeout: options.connectTimeoutMs ?? 5_000 },
    connections: 8,
  });
}
