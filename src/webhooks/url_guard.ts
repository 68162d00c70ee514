/**
 * Server-side request forgery guard of webhook endpoint URLs (OWASP SSRF Prevention Cheat
 * Sheet: allow-list the scheme, refuse internal destinations, check again after DNS resolution).
 *
 * A tenant chooses the URL the service POSTs to, so without this guard any tenant could make the
 * service call its own network: the cloud metadata service (169.254.169.254), a database admin
 * page on 10.x, the billing server itself on 127.0.0.1. The rule, unless
 * `WEBHOOK_ALLOW_PRIVATE_URLS=true` (local development and the test suites):
 *
 * - the scheme is `https` (plain `http` only when private targets are allowed);
 * - the host is not, and at delivery time does not resolve to, any address outside public
 *   unicast: loopback, RFC 1918 private, RFC 4193 unique-local (fc00::/7), link-local
 *   (169.254/16, fe80::/10), CGNAT (100.64/10), unspecified, broadcast, multicast, and every
 *   reserved or special-purpose block (documentation, benchmarking, 240/4, 6to4, Teredo,
 *   NAT64 64:ff9b::/96 …). Classification is `ipaddr.js`'s `range()`: only `"unicast"` passes.
 *   IPv4-compatible IPv6 (`::/96`, e.g. `::127.0.0.1` or `::8.8.8.8`) is refused as a whole.
 *   IPv4-mapped IPv6 (`::ffff:127.0.0.1`) is judged as the IPv4 address it carries
 *   (`ipaddr.process`); decimal, hex, octal and short IPv4 spellings (`2130706433`, `0x7f.1`,
 *   `0177.0.0.1`, `127.1`) are turned into dotted quads by the WHATWG URL parser before the check.
 * - `localhost` and `*.localhost` are loopback by definition (RFC 6761 §6.3), without DNS.
 *
 * Delivery time ({@link checkDeliveryTarget}) resolves the host's A and AAAA records with
 * `Deno.resolveDns` and refuses when any answer is not public. Limits, documented in ADR 0002:
 * the resolver asks the configured name servers (not `/etc/hosts`), and `fetch` resolves again
 * when it connects, so a name whose records change between the two lookups (DNS rebinding) is
 * not fully excluded; redirects are never followed (`redirect: "manual"` in the sender). Where
 * `Deno.resolveDns` does not exist (Cloudflare Workers) only the literal is checked; Workers'
 * `fetch` itself cannot reach private addresses.
 *
 * @module
 */
import ipaddr from "ipaddr.js";

/** Stable problem code of a refused endpoint URL. */
export const URL_NOT_ALLOWED = "webhook_url_not_allowed";

/** Resolves a host name to its IP addresses (A and AAAA); throws when it has none. */
export type HostResolver = (hostname: string, signal?: AbortSignal) => Promise<string[]>;

/**
 * Why an IP address is not a permitted webhook target, or `null` for a public unicast address.
 *
 * @param address an IPv4 or IPv6 address in any form `ipaddr.js` parses (IPv6 without brackets)
 * @returns the `ipaddr.js` range name (`loopback`, `private`, `uniqueLocal`, `linkLocal`,
 *   `carrierGradeNat`, `unspecified`, `multicast`, `broadcast`, `reserved`, …) or `invalid`
 *   when the text is not an address
 */
export function blockedRange(address: string): string | null {
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    parsed = ipaddr.process(address);
  } catch {
    return "invalid";
  }
  // IPv4-compatible IPv6 (::/96 but :: and ::1, deprecated by RFC 4291: `::127.0.0.1`): some stacks
  // route it to the IPv4 address it carries, whatever that is, so the whole block is refused.
  // (ipaddr.js reads the dotted spelling `::a.b.c.d` as IPv4-mapped, so that one is told by its text.)
  const dotted = address.match(/^([0-9a-f:]*):\d{1,3}(?:\.\d{1,3}){3}$/i);
  if (dotted && dotted[1].split(":").every((group) => /^0*$/.test(group))) return "ipv4Compatible";
  const raw = ipaddr.parse(address);
  if (raw.kind() === "ipv6") {
    const parts = (raw as ipaddr.IPv6).parts;
    if (parts.slice(0, 6).every((part) => part === 0) && (parts[6] !== 0 || parts[7] > 1)) {
      return "ipv4Compatible";
    }
  }
  const range = parsed.range();
  return range === "unicast" ? null : range;
}

/** The host of a parsed URL without IPv6 brackets, lower case, without a trailing dot. */
function bareHost(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, "$1").replace(/\.$/, "").toLowerCase();
}

function isLocalhostName(host: string): boolean {
  return host === "localhost" || host.endsWith(".localhost");
}

/**
 * Checks an endpoint URL as written (no DNS): scheme, and the host when it is an IP literal or
 * a `localhost` name.
 *
 * @param url absolute URL (already known to parse, `http:` or `https:`)
 * @param allowPrivate `WEBHOOK_ALLOW_PRIVATE_URLS`: when true everything passes
 * @returns the reason it is refused (a sentence for the problem's field message), or `null`
 */
export function literalUrlRefusal(url: URL, allowPrivate: boolean): string | null {
  if (allowPrivate) return null;
  if (url.protocol !== "https:") {
    return "Use an https URL (plain http is only allowed with WEBHOOK_ALLOW_PRIVATE_URLS=true)";
  }
  const host = bareHost(url);
  if (isLocalhostName(host)) {
    return `Host "${host}" is a loopback name; webhook URLs must reach a public address`;
  }
  if (ipaddr.isValid(host)) {
    const range = blockedRange(host);
    if (range) {
      return `Address ${host} is ${range}, not a public address; webhook URLs must reach a public address`;
    }
  }
  return null;
}

/** Resolver over `Deno.resolveDns` (A and AAAA), or `undefined` where Deno is not the runtime. */
export function denoResolver(): HostResolver | undefined {
  const deno = (globalThis as { Deno?: { resolveDns?: typeof Deno.resolveDns } }).Deno;
  if (typeof deno?.resolveDns !== "function") return undefined;
  const resolveDns = deno.resolveDns;
  return async (hostname, signal) => {
    const answers = await Promise.allSettled([
      resolveDns(hostname, "A", { signal }),
      resolveDns(hostname, "AAAA", { signal }),
    ]);
    const addresses = answers.flatMap((a) => (a.status === "fulfilled" ? a.value : []));
    if (addresses.length === 0) {
      const failure = answers.find((a) => a.status === "rejected") as PromiseRejectedResult | undefined;
      throw new Error(`no A or AAAA records${failure ? ` (${String(failure.reason).slice(0, 200)})` : ""}`);
    }
    return addresses;
  };
}

/** Outcome of {@link checkDeliveryTarget}. */
export type DeliveryTargetCheck =
  | { ok: true }
  /** `permanent`: the target is not allowed (do not retry); otherwise resolution failed (retry). */
  | { ok: false; permanent: boolean; error: string };

/**
 * Delivery-time check of an endpoint URL: the literal rule again (the setting may have changed
 * since creation), then every address the host resolves to.
 *
 * @param resolve host resolver; `undefined` = none available (only the literal is checked)
 * @param timeoutMs bound of the DNS lookup
 * @returns never throws; a resolution failure is `{ ok: false, permanent: false }`
 */
export async function checkDeliveryTarget(
  rawUrl: string,
  allowPrivate: boolean,
  resolve: HostResolver | undefined,
  timeoutMs: number,
): Promise<DeliveryTargetCheck> {
  if (allowPrivate) return { ok: true };
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    return { ok: false, permanent: true, error: `Refused by the SSRF guard: "${rawUrl}" is not a URL` };
  }
  const literal = literalUrlRefusal(url, false);
  if (literal) {
    return { ok: false, permanent: true, error: `Refused by the SSRF guard, not sent: ${literal}` };
  }
  const host = bareHost(url);
  if (ipaddr.isValid(host) || !resolve) return { ok: true };
  let addresses: string[];
  try {
    addresses = await resolve(host, AbortSignal.timeout(timeoutMs));
  } catch (error) {
    return {
      ok: false,
      permanent: false,
      error: `Could not resolve "${host}": ${
        String(error instanceof Error ? error.message : error).slice(0, 300)
      }`,
    };
  }
  for (const address of addresses) {
    const range = blockedRange(address);
    if (range) {
      return {
        ok: false,
        permanent: true,
        error:
          `Refused by the SSRF guard, not sent: "${host}" resolves to ${address} (${range}), not a public address`,
      };
    }
  }
  return { ok: true };
}
