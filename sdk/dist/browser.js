// node_modules/.deno/openapi-fetch@0.17.0/node_modules/openapi-fetch/dist/index.mjs
var PATH_PARAM_RE = /\{[^{}]+\}/g;
var supportsRequestInitExt = () => {
  return typeof process === "object" && Number.parseInt(process?.versions?.node?.substring(0, 2)) >= 18 && process.versions.undici;
};
function randomID() {
  return Math.random().toString(36).slice(2, 11);
}
function createClient(clientOptions) {
  let {
    baseUrl = "",
    Request: CustomRequest = globalThis.Request,
    fetch: baseFetch = globalThis.fetch,
    querySerializer: globalQuerySerializer,
    bodySerializer: globalBodySerializer,
    pathSerializer: globalPathSerializer,
    headers: baseHeaders,
    requestInitExt = void 0,
    ...baseOptions
  } = { ...clientOptions };
  requestInitExt = supportsRequestInitExt() ? requestInitExt : void 0;
  baseUrl = removeTrailingSlash(baseUrl);
  const globalMiddlewares = [];
  async function coreFetch(schemaPath, fetchOptions) {
    const {
      baseUrl: localBaseUrl,
      fetch = baseFetch,
      Request = CustomRequest,
      headers,
      params = {},
      parseAs = "json",
      querySerializer: requestQuerySerializer,
      bodySerializer = globalBodySerializer ?? defaultBodySerializer,
      pathSerializer: requestPathSerializer,
      body,
      middleware: requestMiddlewares = [],
      ...init
    } = fetchOptions || {};
    let finalBaseUrl = baseUrl;
    if (localBaseUrl) {
      finalBaseUrl = removeTrailingSlash(localBaseUrl) ?? baseUrl;
    }
    let querySerializer = typeof globalQuerySerializer === "function" ? globalQuerySerializer : createQuerySerializer(globalQuerySerializer);
    if (requestQuerySerializer) {
      querySerializer = typeof requestQuerySerializer === "function" ? requestQuerySerializer : createQuerySerializer({
        ...typeof globalQuerySerializer === "object" ? globalQuerySerializer : {},
        ...requestQuerySerializer
      });
    }
    const pathSerializer = requestPathSerializer || globalPathSerializer || defaultPathSerializer;
    const serializedBody = body === void 0 ? void 0 : bodySerializer(
      body,
      // Note: we declare mergeHeaders() both here and below because it’s a bit of a chicken-or-egg situation:
      // bodySerializer() needs all headers so we aren’t dropping ones set by the user, however,
      // the result of this ALSO sets the lowest-priority content-type header. So we re-merge below,
      // setting the content-type at the very beginning to be overwritten.
      // Lastly, based on the way headers work, it’s not a simple “present-or-not” check becauase null intentionally un-sets headers.
      mergeHeaders(baseHeaders, headers, params.header)
    );
    const finalHeaders = mergeHeaders(
      // with no body, we should not to set Content-Type
      serializedBody === void 0 || // if serialized body is FormData; browser will correctly set Content-Type & boundary expression
      serializedBody instanceof FormData ? {} : {
        "Content-Type": "application/json"
      },
      baseHeaders,
      headers,
      params.header
    );
    const finalMiddlewares = [...globalMiddlewares, ...requestMiddlewares];
    const requestInit = {
      redirect: "follow",
      ...baseOptions,
      ...init,
      body: serializedBody,
      headers: finalHeaders
    };
    let id;
    let options;
    let request = new Request(
      createFinalURL(schemaPath, { baseUrl: finalBaseUrl, params, querySerializer, pathSerializer }),
      requestInit
    );
    let response;
    for (const key in init) {
      if (!(key in request)) {
        request[key] = init[key];
      }
    }
    if (finalMiddlewares.length) {
      id = randomID();
      options = Object.freeze({
        baseUrl: finalBaseUrl,
        fetch,
        parseAs,
        querySerializer,
        bodySerializer,
        pathSerializer
      });
      for (const m of finalMiddlewares) {
        if (m && typeof m === "object" && typeof m.onRequest === "function") {
          const result = await m.onRequest({
            request,
            schemaPath,
            params,
            options,
            id
          });
          if (result) {
            if (result instanceof Request) {
              request = result;
            } else if (result instanceof Response) {
              response = result;
              break;
            } else {
              throw new Error("onRequest: must return new Request() or Response() when modifying the request");
            }
          }
        }
      }
    }
    if (!response) {
      try {
        response = await fetch(request, requestInitExt);
      } catch (error2) {
        let errorAfterMiddleware = error2;
        if (finalMiddlewares.length) {
          for (let i = finalMiddlewares.length - 1; i >= 0; i--) {
            const m = finalMiddlewares[i];
            if (m && typeof m === "object" && typeof m.onError === "function") {
              const result = await m.onError({
                request,
                error: errorAfterMiddleware,
                schemaPath,
                params,
                options,
                id
              });
              if (result) {
                if (result instanceof Response) {
                  errorAfterMiddleware = void 0;
                  response = result;
                  break;
                }
                if (result instanceof Error) {
                  errorAfterMiddleware = result;
                  continue;
                }
                throw new Error("onError: must return new Response() or instance of Error");
              }
            }
          }
        }
        if (errorAfterMiddleware) {
          throw errorAfterMiddleware;
        }
      }
      if (finalMiddlewares.length) {
        for (let i = finalMiddlewares.length - 1; i >= 0; i--) {
          const m = finalMiddlewares[i];
          if (m && typeof m === "object" && typeof m.onResponse === "function") {
            const result = await m.onResponse({
              request,
              response,
              schemaPath,
              params,
              options,
              id
            });
            if (result) {
              if (!(result instanceof Response)) {
                throw new Error("onResponse: must return new Response() when modifying the response");
              }
              response = result;
            }
          }
        }
      }
    }
    const contentLength = response.headers.get("Content-Length");
    if (response.status === 204 || request.method === "HEAD" || contentLength === "0" && !response.headers.get("Transfer-Encoding")?.includes("chunked")) {
      return response.ok ? { data: void 0, response } : { error: void 0, response };
    }
    if (response.ok) {
      const getResponseData = async () => {
        if (parseAs === "stream") {
          return response.body;
        }
        if (parseAs === "json" && !contentLength) {
          const raw = await response.text();
          return raw ? JSON.parse(raw) : void 0;
        }
        return await response[parseAs]();
      };
      return { data: await getResponseData(), response };
    }
    let error = await response.text();
    try {
      error = JSON.parse(error);
    } catch {
    }
    return { error, response };
  }
  return {
    request(method, url, init) {
      return coreFetch(url, { ...init, method: method.toUpperCase() });
    },
    /** Call a GET endpoint */
    GET(url, init) {
      return coreFetch(url, { ...init, method: "GET" });
    },
    /** Call a PUT endpoint */
    PUT(url, init) {
      return coreFetch(url, { ...init, method: "PUT" });
    },
    /** Call a POST endpoint */
    POST(url, init) {
      return coreFetch(url, { ...init, method: "POST" });
    },
    /** Call a DELETE endpoint */
    DELETE(url, init) {
      return coreFetch(url, { ...init, method: "DELETE" });
    },
    /** Call a OPTIONS endpoint */
    OPTIONS(url, init) {
      return coreFetch(url, { ...init, method: "OPTIONS" });
    },
    /** Call a HEAD endpoint */
    HEAD(url, init) {
      return coreFetch(url, { ...init, method: "HEAD" });
    },
    /** Call a PATCH endpoint */
    PATCH(url, init) {
      return coreFetch(url, { ...init, method: "PATCH" });
    },
    /** Call a TRACE endpoint */
    TRACE(url, init) {
      return coreFetch(url, { ...init, method: "TRACE" });
    },
    /** Register middleware */
    use(...middleware) {
      for (const m of middleware) {
        if (!m) {
          continue;
        }
        if (typeof m !== "object" || !("onRequest" in m || "onResponse" in m || "onError" in m)) {
          throw new Error("Middleware must be an object with one of `onRequest()`, `onResponse() or `onError()`");
        }
        globalMiddlewares.push(m);
      }
    },
    /** Unregister middleware */
    eject(...middleware) {
      for (const m of middleware) {
        const i = globalMiddlewares.indexOf(m);
        if (i !== -1) {
          globalMiddlewares.splice(i, 1);
        }
      }
    }
  };
}
function serializePrimitiveParam(name, value, options) {
  if (value === void 0 || value === null) {
    return "";
  }
  if (typeof value === "object") {
    throw new Error(
      "Deeply-nested arrays/objects aren\u2019t supported. Provide your own `querySerializer()` to handle these."
    );
  }
  return `${name}=${options?.allowReserved === true ? value : encodeURIComponent(value)}`;
}
function serializeObjectParam(name, value, options) {
  if (!value || typeof value !== "object") {
    return "";
  }
  const values = [];
  const joiner = {
    simple: ",",
    label: ".",
    matrix: ";"
  }[options.style] || "&";
  if (options.style !== "deepObject" && options.explode === false) {
    for (const k in value) {
      values.push(k, options.allowReserved === true ? value[k] : encodeURIComponent(value[k]));
    }
    const final2 = values.join(",");
    switch (options.style) {
      case "form": {
        return `${name}=${final2}`;
      }
      case "label": {
        return `.${final2}`;
      }
      case "matrix": {
        return `;${name}=${final2}`;
      }
      default: {
        return final2;
      }
    }
  }
  for (const k in value) {
    const finalName = options.style === "deepObject" ? `${name}[${k}]` : k;
    values.push(serializePrimitiveParam(finalName, value[k], options));
  }
  const final = values.join(joiner);
  return options.style === "label" || options.style === "matrix" ? `${joiner}${final}` : final;
}
function serializeArrayParam(name, value, options) {
  if (!Array.isArray(value)) {
    return "";
  }
  if (options.explode === false) {
    const joiner2 = { form: ",", spaceDelimited: "%20", pipeDelimited: "|" }[options.style] || ",";
    const final = (options.allowReserved === true ? value : value.map((v) => encodeURIComponent(v))).join(joiner2);
    switch (options.style) {
      case "simple": {
        return final;
      }
      case "label": {
        return `.${final}`;
      }
      case "matrix": {
        return `;${name}=${final}`;
      }
      // case "spaceDelimited":
      // case "pipeDelimited":
      default: {
        return `${name}=${final}`;
      }
    }
  }
  const joiner = { simple: ",", label: ".", matrix: ";" }[options.style] || "&";
  const values = [];
  for (const v of value) {
    if (options.style === "simple" || options.style === "label") {
      values.push(options.allowReserved === true ? v : encodeURIComponent(v));
    } else {
      values.push(serializePrimitiveParam(name, v, options));
    }
  }
  return options.style === "label" || options.style === "matrix" ? `${joiner}${values.join(joiner)}` : values.join(joiner);
}
function createQuerySerializer(options) {
  return function querySerializer(queryParams) {
    const search = [];
    if (queryParams && typeof queryParams === "object") {
      for (const name in queryParams) {
        const value = queryParams[name];
        if (value === void 0 || value === null) {
          continue;
        }
        if (Array.isArray(value)) {
          if (value.length === 0) {
            continue;
          }
          search.push(
            serializeArrayParam(name, value, {
              style: "form",
              explode: true,
              ...options?.array,
              allowReserved: options?.allowReserved || false
            })
          );
          continue;
        }
        if (typeof value === "object") {
          search.push(
            serializeObjectParam(name, value, {
              style: "deepObject",
              explode: true,
              ...options?.object,
              allowReserved: options?.allowReserved || false
            })
          );
          continue;
        }
        search.push(serializePrimitiveParam(name, value, options));
      }
    }
    return search.join("&");
  };
}
function defaultPathSerializer(pathname, pathParams) {
  let nextURL = pathname;
  for (const match of pathname.match(PATH_PARAM_RE) ?? []) {
    let name = match.substring(1, match.length - 1);
    let explode = false;
    let style = "simple";
    if (name.endsWith("*")) {
      explode = true;
      name = name.substring(0, name.length - 1);
    }
    if (name.startsWith(".")) {
      style = "label";
      name = name.substring(1);
    } else if (name.startsWith(";")) {
      style = "matrix";
      name = name.substring(1);
    }
    if (!pathParams || pathParams[name] === void 0 || pathParams[name] === null) {
      continue;
    }
    const value = pathParams[name];
    if (Array.isArray(value)) {
      nextURL = nextURL.replace(match, serializeArrayParam(name, value, { style, explode }));
      continue;
    }
    if (typeof value === "object") {
      nextURL = nextURL.replace(match, serializeObjectParam(name, value, { style, explode }));
      continue;
    }
    if (style === "matrix") {
      nextURL = nextURL.replace(match, `;${serializePrimitiveParam(name, value)}`);
      continue;
    }
    nextURL = nextURL.replace(match, style === "label" ? `.${encodeURIComponent(value)}` : encodeURIComponent(value));
  }
  return nextURL;
}
function defaultBodySerializer(body, headers) {
  if (body instanceof FormData) {
    return body;
  }
  if (headers) {
    const contentType = headers.get instanceof Function ? headers.get("Content-Type") ?? headers.get("content-type") : headers["Content-Type"] ?? headers["content-type"];
    if (contentType === "application/x-www-form-urlencoded") {
      return new URLSearchParams(body).toString();
    }
  }
  return JSON.stringify(body);
}
function createFinalURL(pathname, options) {
  let finalURL = `${options.baseUrl}${pathname}`;
  if (options.params?.path) {
    finalURL = options.pathSerializer(finalURL, options.params.path);
  }
  let search = options.querySerializer(options.params.query ?? {});
  if (search.startsWith("?")) {
    search = search.substring(1);
  }
  if (search) {
    finalURL += `?${search}`;
  }
  return finalURL;
}
function mergeHeaders(...allHeaders) {
  const finalHeaders = new Headers();
  for (const h of allHeaders) {
    if (!h || typeof h !== "object") {
      continue;
    }
    const iterator = h instanceof Headers ? h.entries() : Object.entries(h);
    for (const [k, v] of iterator) {
      if (v === null) {
        finalHeaders.delete(k);
      } else if (Array.isArray(v)) {
        for (const v2 of v) {
          finalHeaders.append(k, v2);
        }
      } else if (v !== void 0) {
        finalHeaders.set(k, v);
      }
    }
  }
  return finalHeaders;
}
function removeTrailingSlash(url) {
  if (url.endsWith("/")) {
    return url.substring(0, url.length - 1);
  }
  return url;
}

// sdk/src/errors.ts
var RETRYABLE_STATUSES = /* @__PURE__ */ new Set([0, 408, 425, 429, 500, 502, 503, 504]);
var BillingApiError = class _BillingApiError extends Error {
  /** Stable snake_case code: the problem's `code`, or an {@link SdkErrorCode}. */
  code;
  /** HTTP status; 0 when no response arrived. */
  status;
  /** The problem body when the API sent one. */
  problem;
  /** The API's request id (`x-request-id`), for support. */
  requestId;
  /** Whether sending the same request again may succeed (network errors, 408/425/429/5xx). */
  retryable;
  constructor(code, message, options = {}) {
    super(message, { cause: options.cause });
    this.name = "BillingApiError";
    this.code = code;
    this.status = options.status ?? 0;
    this.problem = options.problem ?? null;
    this.requestId = options.requestId ?? options.problem?.request_id ?? null;
    this.retryable = RETRYABLE_STATUSES.has(this.status);
  }
  /** The error of a non-2xx response whose body (already parsed, or text) was `body`. */
  static fromResponse(response, body) {
    const requestId = response.headers.get("x-request-id");
    if (isProblem(body)) {
      return new _BillingApiError(body.code, body.detail, {
        status: response.status,
        problem: body,
        requestId
      });
    }
    return new _BillingApiError("invalid_response", `HTTP ${response.status} without a problem body`, {
      status: response.status,
      requestId
    });
  }
  /** The error of a `fetch` that threw (no response). */
  static network(cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    return new _BillingApiError("network_error", `The request failed before a response arrived: ${reason}`, {
      cause
    });
  }
};
function isProblem(value) {
  return typeof value === "object" && value !== null && typeof value.code === "string" && typeof value.status === "number";
}
function assertBaseUrl(baseUrl) {
  let url = null;
  try {
    url = new URL(baseUrl);
  } catch {
  }
  if (!url || url.protocol !== "http:" && url.protocol !== "https:") {
    throw new BillingApiError("invalid_options", `baseUrl must be an absolute http(s) URL, got "${baseUrl}"`);
  }
}

// sdk/src/browser.ts
var KEEPALIVE_MAX_BYTES = 6e4;
var API_MAX_BATCH = 1e3;
var SESSION_RENEW_MS = 3e4;
var SESSION_CODES = /* @__PURE__ */ new Set(["customer_session_expired", "customer_session_invalid"]);
function newEventId() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `evt_${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}
function defaultStorage() {
  try {
    const storage = globalThis.localStorage;
    return storage ?? null;
  } catch {
    return null;
  }
}
var BrowserBillingClient = class {
  customerId;
  #api;
  #options;
  #sessionSource;
  #session;
  #onError;
  #storage;
  #storageKey;
  #queue = [];
  #chain = Promise.resolve();
  #timer;
  #timerDue = 0;
  #failures = 0;
  #closed = false;
  #decisions = /* @__PURE__ */ new Map();
  #checks = /* @__PURE__ */ new Map();
  #onVisibility = () => {
    if (globalThis.document?.visibilityState === "hidden") {
      this.#flushOnHide();
    }
  };
  #onPageHide = () => this.#flushOnHide();
  /**
   * @throws {BillingApiError} `secret_key_in_browser` for an `sk_` key, `invalid_key` for anything
   *   else that is not `pk_…`, `invalid_options` for a bad `baseUrl` or limits
   */
  constructor(options) {
    if (typeof options.publishableKey !== "string" || options.publishableKey.startsWith("sk_")) {
      throw new BillingApiError(
        "secret_key_in_browser",
        "Secret keys (sk_\u2026) must never reach a browser; use the app's publishable key (pk_\u2026)"
      );
    }
    if (!options.publishableKey.startsWith("pk_")) {
      throw new BillingApiError("invalid_key", "publishableKey must start with pk_");
    }
    assertBaseUrl(options.baseUrl);
    if (!options.customerId) throw new BillingApiError("invalid_options", "customerId is required");
    if (!options.customerSession) {
      throw new BillingApiError(
        "invalid_options",
        "customerSession is required: mint one on your backend with POST /v1/customer_sessions"
      );
    }
    this.#sessionSource = options.customerSession;
    this.customerId = options.customerId;
    const hasDocument = typeof globalThis.document !== "undefined";
    this.#options = {
      baseUrl: options.baseUrl,
      publishableKey: options.publishableKey,
      customerId: options.customerId,
      flushIntervalMs: Math.max(50, options.flushIntervalMs ?? 2e3),
      maxBatchSize: Math.min(API_MAX_BATCH, Math.max(1, options.maxBatchSize ?? 100)),
      maxQueueSize: Math.max(1, options.maxQueueSize ?? 1e4),
      cacheTtlMs: Math.max(0, options.cacheTtlMs ?? 5e3),
      maxAttempts: Math.max(1, options.maxAttempts ?? 10),
      retryBaseMs: Math.max(1, options.retryBaseMs ?? 500),
      retryMaxMs: Math.max(1, options.retryMaxMs ?? 3e4),
      flushOnHide: options.flushOnHide ?? hasDocument
    };
    this.#onError = options.onError ?? (() => {
    });
    this.#storage = options.storage === void 0 ? defaultStorage() : options.storage;
    this.#storageKey = `edge-billing:${options.publishableKey.slice(0, 16)}:${options.customerId}`;
    this.#api = createClient({
      baseUrl: options.baseUrl,
      headers: { authorization: `Bearer ${options.publishableKey}` },
      ...options.fetch ? { fetch: options.fetch } : {}
    });
    this.#api.use({
      onRequest: async ({ request }) => {
        request.headers.set("customer-session", await this.#sessionToken());
        return request;
      }
    });
    if (this.#options.flushOnHide && hasDocument) {
      globalThis.document.addEventListener(
        "visibilitychange",
        this.#onVisibility
      );
      globalThis.addEventListener?.("pagehide", this.#onPageHide);
    }
    this.#sessionToken().catch(() => {
    });
    this.#restore();
  }
  /** The current session token, fetched (again) when absent or about to expire. */
  async #sessionToken() {
    const now = Date.now();
    if (this.#session) {
      const current = await this.#session.catch(() => void 0);
      if (current && current.renew_ms > now) return current.token;
      this.#session = void 0;
    }
    const source = this.#sessionSource;
    const fetching = (async () => {
      let grant;
      try {
        grant = typeof source === "function" ? await source() : source;
      } catch (error) {
        throw new BillingApiError("network_error", `Fetching the customer session failed: ${String(error)}`, {
          cause: error
        });
      }
      if (typeof grant === "string") return { token: grant, renew_ms: Number.POSITIVE_INFINITY };
      if (!grant || typeof grant.token !== "string") {
        throw new BillingApiError("invalid_options", "customerSession must give { token, expires_at }");
      }
      const expires = Date.parse(grant.expires_at);
      const renew = typeof source !== "function" || !Number.isFinite(expires) ? Number.POSITIVE_INFINITY : Math.max(now, expires - SESSION_RENEW_MS);
      return { token: grant.token, renew_ms: renew };
    })();
    this.#session = fetching;
    return (await fetching).token;
  }
  /**
   * Runs `request`; when the API says the session expired or is invalid and the session comes from
   * a function, fetches a new session and runs it once more.
   */
  async #withSession(request) {
    const first = await request();
    if (first.response.status !== 401 || typeof this.#sessionSource !== "function" || !SESSION_CODES.has(first.error?.code ?? "")) {
      return first;
    }
    this.#session = void 0;
    return await request();
  }
  /** Number of events not yet acknowledged by the API. */
  get pendingEvents() {
    return this.#queue.length;
  }
  /**
   * Whether the customer may use `feature` now. Served from the local cache when fresh and no
   * option is given; pending events of the feature are flushed first.
   *
   * @throws {BillingApiError} with the problem `code` (`customer_not_found`, `origin_not_allowed`, …),
   *   or `network_error` (offline, or the origin is not allowed and the browser hid the answer)
   */
  async check(feature, options = {}) {
    this.#assertOpen();
    if (this.#queue.some((p) => p.event.feature === feature)) await this.flush();
    const cacheable = Object.keys(options).length === 0 && this.#options.cacheTtlMs > 0;
    if (cacheable) {
      const hit = this.#decisions.get(feature);
      if (hit && hit.expires_ms > Date.now()) return hit.decision;
      const running = this.#checks.get(feature);
      if (running) return await running;
    }
    const request = (async () => {
      let result;
      try {
        result = await this.#withSession(
          () => this.#api.POST("/v1/entitlements/check", {
            body: { ...options, customer_id: this.customerId, feature }
          })
        );
      } catch (error) {
        throw BillingApiError.network(error);
      }
      if (result.error !== void 0 || !result.response.ok) {
        throw BillingApiError.fromResponse(result.response, result.error);
      }
      const decision = result.data;
      if (cacheable) {
        this.#decisions.set(feature, { decision, expires_ms: Date.now() + this.#options.cacheTtlMs });
      }
      return decision;
    })();
    if (cacheable) this.#checks.set(feature, request);
    try {
      return await request;
    } finally {
      if (cacheable) this.#checks.delete(feature);
    }
  }
  /** The cached decision of `feature` if still fresh (no request). */
  peek(feature) {
    const hit = this.#decisions.get(feature);
    return hit && hit.expires_ms > Date.now() ? hit.decision : void 0;
  }
  /**
   * The customer's state for several features at once (each a cached {@link check}).
   *
   * @throws {BillingApiError} as {@link check}
   */
  async state(features) {
    const decisions = await Promise.all(features.map((f) => this.check(f)));
    return Object.fromEntries(features.map((f, i) => [f, decisions[i]]));
  }
  /** Drops cached decisions (all, or one feature's). */
  invalidate(feature) {
    if (feature === void 0) this.#decisions.clear();
    else this.#decisions.delete(feature);
  }
  /**
   * Queues a usage event and returns its id (the API's idempotency key). Sent within
   * `flushIntervalMs`, at once when a batch is full, and when the page is hidden.
   *
   * @param value units, a non-negative safe integer (default 1)
   * @param extra.id your own idempotency key (letters, digits, `_ . : -`, ≤ 128) instead of a random one
   * @throws {BillingApiError} `invalid_options` for a bad value, `queue_full` past `maxQueueSize`,
   *   `client_closed` after {@link close}
   */
  track(feature, value = 1, extra = {}) {
    this.#assertOpen();
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new BillingApiError("invalid_options", `value must be a non-negative integer, got ${value}`);
    }
    if (this.#queue.length >= this.#options.maxQueueSize) {
      throw new BillingApiError(
        "queue_full",
        `${this.#queue.length} events are waiting to be sent; the limit is ${this.#options.maxQueueSize}`
      );
    }
    const event = { id: extra.id ?? newEventId(), customer_id: this.customerId, feature, value };
    if (extra.properties) event.properties = extra.properties;
    this.#queue.push({ event, attempts: 0, keepaliveSent: false });
    this.#decisions.delete(feature);
    if (this.#queue.length >= this.#options.maxBatchSize) void this.flush();
    else this.#schedule(this.#options.flushIntervalMs);
    return event.id;
  }
  /**
   * Sends every queued event now (batches in order, one request at a time). A retryable failure
   * leaves the events queued (same ids) and schedules a retry; it is not thrown.
   */
  flush() {
    const run = this.#chain.then(() => this.#drain());
    this.#chain = run.catch(() => {
    });
    return run;
  }
  /**
   * Stops timers and listeners and sends what is queued with `keepalive` (the page may be going
   * away). Later calls throw `client_closed`.
   */
  close() {
    if (this.#closed) return;
    this.#flushOnHide();
    this.#closed = true;
    clearTimeout(this.#timer);
    globalThis.document?.removeEventListener(
      "visibilitychange",
      this.#onVisibility
    );
    globalThis.removeEventListener?.("pagehide", this.#onPageHide);
  }
  #assertOpen() {
    if (this.#closed) throw new BillingApiError("client_closed", "This billing client was closed");
  }
  /** Arranges a flush in `delayMs` unless one is already due sooner. */
  #schedule(delayMs) {
    if (this.#closed) return;
    const due = Date.now() + delayMs;
    if (this.#timer !== void 0) {
      if (this.#timerDue <= due) return;
      clearTimeout(this.#timer);
    }
    this.#timerDue = due;
    this.#timer = setTimeout(() => {
      this.#timer = void 0;
      void this.flush();
    }, delayMs);
  }
  async #drain() {
    const result = { accepted: 0, duplicates: 0, rejected: [], pending: 0 };
    while (this.#queue.length > 0) {
      const batch = this.#queue.slice(0, this.#options.maxBatchSize);
      try {
        const report = await this.#send(batch.map((p) => p.event), false);
        this.#failures = 0;
        result.accepted += report.accepted;
        result.duplicates += report.duplicates;
        result.rejected.push(...report.rejected);
        this.#acknowledge(batch, report);
      } catch (error) {
        const failure = error instanceof BillingApiError ? error : BillingApiError.network(error);
        if (!failure.retryable) {
          this.#acknowledge(batch, null);
          this.#onError(failure, batch.map((p) => p.event));
          continue;
        }
        this.#failures++;
        const exhausted = batch.filter((p) => ++p.attempts >= this.#options.maxAttempts);
        if (exhausted.length > 0) {
          this.#acknowledge(exhausted, null);
          this.#onError(
            new BillingApiError(
              "retries_exhausted",
              `Gave up after ${this.#options.maxAttempts} attempts: ${failure.message}`,
              {
                status: failure.status,
                problem: failure.problem,
                cause: failure
              }
            ),
            exhausted.map((p) => p.event)
          );
        }
        this.#onError(failure, batch.map((p) => p.event));
        const backoff = Math.min(
          this.#options.retryMaxMs,
          this.#options.retryBaseMs * 2 ** (this.#failures - 1)
        );
        this.#schedule(backoff * (0.5 + Math.random() / 2));
        break;
      }
    }
    result.pending = this.#queue.length;
    return result;
  }
  /** Removes answered events from the queue and storage; reports rejections. */
  #acknowledge(batch, report) {
    const ids = new Set(batch.map((p) => p.event.id));
    this.#queue = this.#queue.filter((p) => !ids.has(p.event.id));
    for (const p of batch) this.#decisions.delete(p.event.feature);
    if (report && report.rejected.length > 0) {
      const rejected = new Set(report.rejected.map((r) => r.id));
      const first = report.rejected[0];
      this.#onError(
        new BillingApiError(
          first.code,
          `${report.rejected.length} event(s) rejected, first: ${first.message}`,
          { status: first.status }
        ),
        batch.filter((p) => rejected.has(p.event.id)).map((p) => p.event)
      );
    }
    this.#persist();
  }
  async #send(events, keepalive) {
    let result;
    try {
      result = await this.#withSession(() => this.#api.POST("/v1/events", { body: { events }, keepalive }));
    } catch (error) {
      throw BillingApiError.network(error);
    }
    if (result.error !== void 0 || !result.response.ok) {
      throw BillingApiError.fromResponse(result.response, result.error);
    }
    return result.data;
  }
  /**
   * The page is being hidden or left: keep every unacknowledged event in storage and send those not
   * yet sent this way with `keepalive` (≤ 60 KB per request). Their answers may never arrive: the
   * stored copies are sent again by the next page with the same ids, which the API counts once.
   */
  #flushOnHide() {
    if (this.#closed) return;
    this.#persist();
    const unsent = this.#queue.filter((p) => !p.keepaliveSent);
    let chunk = [];
    let bytes = 20;
    const send = (part) => {
      for (const p of part) p.keepaliveSent = true;
      this.#send(part.map((p) => p.event), true).then((report) => this.#acknowledge(part, report)).catch(() => {
        for (const p of part) p.keepaliveSent = false;
        this.#schedule(this.#options.retryBaseMs);
      });
    };
    for (const p of unsent) {
      const size = JSON.stringify(p.event).length + 1;
      if (chunk.length > 0 && (bytes + size > KEEPALIVE_MAX_BYTES || chunk.length >= this.#options.maxBatchSize)) {
        send(chunk);
        chunk = [];
        bytes = 20;
      }
      chunk.push(p);
      bytes += size;
    }
    if (chunk.length > 0) send(chunk);
  }
  #persist() {
    if (!this.#storage) return;
    try {
      if (this.#queue.length === 0) this.#storage.removeItem(this.#storageKey);
      else this.#storage.setItem(this.#storageKey, JSON.stringify(this.#queue.map((p) => p.event)));
    } catch {
    }
  }
  /** Takes over events a previous page left unacknowledged (same ids) and sends them soon. */
  #restore() {
    if (!this.#storage) return;
    let stored;
    try {
      stored = JSON.parse(this.#storage.getItem(this.#storageKey) ?? "[]");
    } catch {
      stored = [];
    }
    if (!Array.isArray(stored) || stored.length === 0) return;
    const known = new Set(this.#queue.map((p) => p.event.id));
    for (const event of stored.slice(0, this.#options.maxQueueSize)) {
      if (event && typeof event.id === "string" && typeof event.feature === "string" && !known.has(event.id)) {
        this.#queue.push({ event, attempts: 0, keepaliveSent: false });
      }
    }
    this.#schedule(0);
  }
};
function createBrowserClient(options) {
  return new BrowserBillingClient(options);
}
export {
  BillingApiError,
  BrowserBillingClient,
  createBrowserClient,
  isProblem
};
