/** Coupon routes (`/v1/coupons`); applying one to a subscription is in `subscriptions/routes.ts`. @module */
import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { createCoupon, getCoupon } from "./service.ts";
import { type AppEnv, body, errors, json, router, secured } from "../http/env.ts";
import { ResourceIdParam } from "../http/schemas.ts";
import { CouponSchema, CreateCouponBody } from "./schemas.ts";

/** `POST /v1/coupons` and `GET /v1/coupons/{id}`. */
export function couponRoutes(): OpenAPIHono<AppEnv> {
  const app = router();
  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/coupons",
      tags: ["coupons"],
      summary: "Create a coupon (an identical repeat returns it with 200)",
      security: secured,
      request: { body: body(CreateCouponBody) },
      responses: {
        201: json(CouponSchema, "Created"),
        200: json(CouponSchema, "Already existed"),
        ...errors,
      },
    }),
    async (c) => {
      const input = c.req.valid("json");
      const { coupon, replayed } = await createCoupon(c.var.ctx, {
        ...input,
        valid_from: input.valid_from ? new Date(input.valid_from) : undefined,
        redeem_by: input.redeem_by ? new Date(input.redeem_by) : undefined,
      });
      return replayed ? c.json(coupon, 200) : c.json(coupon, 201);
    },
  );
  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/coupons/{id}",
      tags: ["coupons"],
      summary: "Get a coupon by id or code",
      security: secured,
      request: { params: ResourceIdParam },
      responses: { 200: json(CouponSchema), ...errors },
    }),
    async (c) => c.json(await getCoupon(c.var.ctx, c.req.valid("param").id), 200),
  );
  return app;
}
