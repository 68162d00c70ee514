/**
 * Minting customer sessions: a secret key vouches that the browser holding the token acts for
 * one customer (see `token.ts` for the format and `http/publishable.ts` for what the token allows).
 *
 * @module
 */
import type { Ctx } from "../context.ts";
import { getCustomer } from "../customers/service.ts";
import { DEFAULT_SESSION_SECONDS } from "./schemas.ts";
import type { SessionSigner } from "./token.ts";

/** Answer of {@link createCustomerSession}. */
export interface CustomerSessionView {
  /** The signed token (`cs_…`). */
  token: string;
  /** When the token stops working (ISO 8601 UTC). */
  expires_at: string;
  /** The customer's `cus_…` id. */
  customer_id: string;
  /** The customer's external id. */
  external_id: string;
  /** Features the token is limited to; `null` = every feature. */
  features: string[] | null;
}

/**
 * Mints a token for one customer of the caller's app, signed for that app and naming the minting
 * key (`ctx.actor`), so revoking the key ends its sessions.
 *
 * @param input.expires_in_seconds life of the token (1–3600 s, validated by the route; default 900)
 * @throws {BillingError} `customer_not_found` (404) when the customer is not in this app
 */
export async function createCustomerSession(
  ctx: Ctx,
  signer: SessionSigner,
  input: { customer_id: string; expires_in_seconds?: number; features?: string[] },
): Promise<CustomerSessionView> {
  const customer = await getCustomer(ctx, input.customer_id);
  const issuedAt = Math.floor(ctx.clock.now().getTime() / 1000);
  const expiresAt = issuedAt + (input.expires_in_seconds ?? DEFAULT_SESSION_SECONDS);
  const features = input.features ? [...new Set(input.features)].sort() : undefined;
  const token = await signer.sign({
    v: 1,
    ten: ctx.scope.tenantId,
    app: ctx.scope.appId,
    kid: ctx.actor ?? "",
    cus: customer.id,
    ext: customer.external_id,
    iat: issuedAt,
    exp: expiresAt,
    ...(features ? { ftr: features } : {}),
  });
  return {
    token,
    expires_at: new Date(expiresAt * 1000).toISOString(),
    customer_id: customer.id,
    external_id: customer.external_id,
    features: features ?? null,
  };
}
