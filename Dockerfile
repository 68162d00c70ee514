# Self-hosted billing service: one Deno process on the embedded libSQL file in /data.
# Build: docker build -t edge-billing .
# Run:   docker run -p 8787:8787 -v billing-data:/data edge-billing
FROM denoland/deno:2.9.6

ENV HOST=0.0.0.0 \
    PORT=8787 \
    DATABASE_URL=file:/data/billing.db

WORKDIR /app
RUN mkdir -p /data && chown deno:deno /data

# The official image's user (not root); the module cache (DENO_DIR) belongs to it.
USER deno

# Exactly the server's module graph, pinned by its own lockfile (deno.lock; the test and build
# tools are in deno.tools.lock and stay out of the image).
COPY --chown=deno:deno deno.json deno.lock ./
COPY --chown=deno:deno src/ src/
COPY --chown=deno:deno migrations/ migrations/
RUN deno install --frozen --lock=deno.lock --entrypoint src/runtime/deno/main.ts

VOLUME ["/data"]
EXPOSE 8787
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["deno", "eval", "const r = await fetch('http://127.0.0.1:8787/readyz'); Deno.exit(r.ok ? 0 : 1)"]

# The official entrypoint runs `deno` with these arguments (under tini, so signals reach it):
# the same command as `deno task start` (tests/runtime/container_test.ts keeps them equal).
# The image runs BILLING_ROLE=all (or billing without EDGE_*): an edge replica also needs
# tools/edge_replica installed by `deno task edge:install` (docs/adr/0014).
CMD ["run", "--lock=deno.lock", "--allow-net", "--allow-env", "--allow-read", "--allow-write", "--allow-ffi", "--allow-sys", "src/runtime/deno/main.ts"]
