// What a frontend on another origin does: sign in, load /me, submit a bulk interaction, read
// X-Request-Id. Every fact lands in the DOM (and in window.corsResults) for ops/browser/cors_test.py.
// Parameters come from the query string: api, email, password, voter, assignment, interaction.
"use strict";
const params = new URLSearchParams(location.search);
const api = params.get("api");
const results = {};
window.corsResults = results;

function show(key, value) {
  results[key] = value;
  let detail = document.getElementById("result-" + key);
  if (!detail) {
    const term = document.createElement("dt");
    term.textContent = key;
    detail = document.createElement("dd");
    detail.id = "result-" + key;
    document.getElementById("results").append(term, detail);
  }
  detail.textContent = typeof value === "string" ? value : JSON.stringify(value);
}

async function call(method, path, { token, body, requestId } = {}) {
  const headers = {};
  if (token) headers["Authorization"] = "Bearer " + token;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (requestId) headers["X-Request-Id"] = requestId;
  const response = await fetch(api + path, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body), mode: "cors", credentials: "omit",
  });
  return {
    status: response.status,
    requestId: response.headers.get("X-Request-Id"),
    retryAfter: response.headers.get("Retry-After"),
    body: await response.json(),
  };
}

async function run() {
  document.getElementById("origin").textContent = location.origin;
  show("origin", location.origin);
  // An error answer must be readable too, or the frontend sees "Failed to fetch" instead of the envelope.
  const anonymous = await call("GET", "/api/v1/me");
  show("anonymousStatus", anonymous.status);
  show("anonymousCode", anonymous.body.error ? anonymous.body.error.code : null);

  const login = await call("POST", "/api/v1/auth/login", {
    body: { email: params.get("email"), password: params.get("password") },
  });
  show("loginStatus", login.status);
  show("loginRole", login.body.role || null);
  show("loginRequestId", login.requestId);
  const token = login.body.accessToken;

  const me = await call("GET", "/api/v1/me", { token });
  show("meStatus", me.status);
  show("meEmail", me.body.user ? me.body.user.email : null);

  const sentRequestId = "browser-" + params.get("interaction").slice(0, 8);
  const bulk = await call("POST", "/api/v1/interactions/bulk", {
    token,
    requestId: sentRequestId,
    body: {
      interactions: [{
        clientInteractionUuid: params.get("interaction"),
        voterId: params.get("voter"),
        assignmentId: params.get("assignment"),
        channel: "door",
        result: "canvassed",
        occurredAt: new Date().toISOString(),
        notes: "sent from " + location.origin,
      }],
    },
  });
  show("bulkStatus", bulk.status);
  show("bulkCreated", bulk.body.created);
  show("bulkItemStatus", bulk.body.results ? bulk.body.results[0].status : null);
  show("bulkSentRequestId", sentRequestId);
  show("bulkRequestId", bulk.requestId);

  // Last, since it trips the per-IP sign-in limit too: wrong passwords until 429, whose Retry-After must be readable.
  const stranger = { email: "nobody-" + params.get("interaction").slice(0, 8) + "@example.test", password: "not-the-password" };
  let limited = null;
  for (let attempt = 0; attempt < 15 && !limited; attempt++) {
    const answer = await call("POST", "/api/v1/auth/login", { body: stranger });
    if (answer.status === 429) limited = answer;
    show("rateLimitedAttempts", attempt + 1);
  }
  show("rateLimitedStatus", limited ? limited.status : null);
  show("rateLimitedRetryAfter", limited ? limited.retryAfter : null);
}

run().then(
  () => { show("error", null); finish("passed"); },
  (error) => { show("error", error.name + ": " + error.message); finish("failed"); },
);

function finish(state) {
  const element = document.getElementById("state");
  element.dataset.state = state;
  element.textContent = state === "passed" ? "every call answered" : "a call failed";
}
