/**
 * Stripe configuration per app (`PUT /v1/providers/stripe`): the secret key and the webhook
 * signing secret, sealed with AES-GCM at rest (ADR 0012) and never returned (see `stripe.ts`).
 *
 * @module
 */
import { BillingError } from "../domain/errors.ts";
import { requireSecrets } from "../storage/secret_box.ts";
import { type ConfigRow, configRows, upsertConfig } from "./repository.ts";
import type { Ctx, Services } from "../context.ts";
import { writeOp } from "../lifecycle/write.ts";
import type { Scope } from "../domain/scope.ts";
import type { StripeConfigView } from "../domain/views.ts";
export type { StripeConfigView };

/** A stored Stripe configuration of one app. */
export type { ConfigRow };

/** Columns the Stripe credentials are sealed in (the AES-GCM additional data, ADR 0012). */
export const STRIPE_SECRET_COLUMNS = {
  api_key: "payment_provider_configs.api_key",
  webhook_secret: "payment_provider_configs.webhook_secret",
} as const;

/** `row` with its credentials opened (the stored row holds them sealed). */
async function opened(services: Services, row: ConfigRow): Promise<ConfigRow> {
  const box = requireSecrets(services);
  return {
    ...row,
    api_key: await box.open(row.api_key, STRIPE_SECRET_COLUMNS.api_key),
    webhook_secret: await box.open(row.webhook_secret, STRIPE_SECRET_COLUMNS.webhook_secret),
  };
}

function configView(row: ConfigRow): StripeConfigView {
  return {
    provider: "stripe",
    livemode: row.api_key.includes("_live_"),
    api_key_last4: row.api_key.slice(-4),
    webhook_path: `/v1/providers/stripe/webhook/${row.app_id}`,
    updated_at: row.updated_at.toISOString(),
  };
}

/**
 * Sets (or replaces) the app's Stripe credentials. Repeating the same call is harmless.
 *
 * @param input.secret_key `sk_test_…`, `sk_live_…` or a restricted `rk_…` key
 * @param input.webhook_secret `whsec_…` signing secret of the Stripe webhook endpoint
 * @throws {BillingError} `validation_failed` (400) for malformed keys
 */
export async function configureStripe(
  ctx: Ctx,
  input: { secret_key: string; webhook_secret: string },
): Promise<StripeConfigView> {
  const fields = [];
  if (!/^(sk|rk)_(test|live)_[A-Za-z0-9]{8,}$/.test(input.secret_key)) {
    fields.push({ path: "secret_key", message: "Use a Stripe secret key (sk_test_…, sk_live_…, rk_…)" });
  }
  if (!/^whsec_[A-Za-z0-9+/=]{8,}$/.test(input.webhook_secret)) {
    fields.push({ path: "webhook_secret", message: "Use the endpoint's signing secret (whsec_…)" });
  }
  if (fields.length > 0) {
    throw new BillingError("validation_failed", "invalid_request", "The Stripe configuration is invalid", {
      fields,
    });
  }
  const now = ctx.clock.now();
  const box = requireSecrets(ctx);
  const sealed = {
    api_key: await box.seal(input.secret_key, STRIPE_SECRET_COLUMNS.api_key),
    webhook_secret: await box.seal(input.webhook_secret, STRIPE_SECRET_COLUMNS.webhook_secret),
  };
  return await writeOp(ctx, async (tx, emit) => {
    const row: ConfigRow = {
      tenant_id: ctx.scope.tenantId,
      app_id: ctx.scope.appId,
      provider: "stripe",
      ...sealed,
      created_at: now,
      updated_at: now,
    };
    await upsertConfig(tx, ctx.scope, row, now);
    const view = configView({ ...row, api_key: input.secret_key, webhook_secret: input.webhook_secret });
    emit("payment_provider.configured", ctx.scope.appId, view);
    return view;
  });
}

/**
 * The app's Stripe configuration with its credentials opened, if any.
 *
 * @throws {BillingError} `encryption_key_missing` (503) when the process has no encryption key
 */
export async function loadConfig(services: Services, scope: Scope): Promise<ConfigRow | undefined> {
  const row = await configRows.first(services.database.db, scope, { provider: "stripe" });
  return row ? await opened(services, row) : undefined;
}

/** GET the app's Stripe configuration. @throws {BillingError} `payment_provider_not_configured` (404) */
export async function getStripeConfig(ctx: Ctx): Promise<StripeConfigView> {
  const row = await loadConfig(ctx, ctx.scope);
  if (!row) throw notConfigured();
  return configView(row);
}

/** The 404 `provider_not_configured` answered when the app has no Stripe configuration. */
export function notConfigured(): BillingError {
  return new BillingError(
    "payment_provider_not_configured",
    "not_found",
    "Stripe is not configured for this app (PUT /v1/providers/stripe)",
  );
}
