// The one door to the HTTP API (`/v1/...`, same origin): the bearer token on every call, errors as
// ApiError in the API's shape, and a 401 or 403 handed to whoever signs people in.

/** An answer that is not a success, as the API describes it:
 * `{"error": {"code", "message", "details": [{"field", "message"}]}}`. */
export class ApiError extends Error {
  constructor(status, code, message, details = []) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
    this.isApiError = true;
  }
}

let hooks = {
  token: async () => null,
  unauthorized: () => {},
  forbidden: () => {},
};

/** `token()` gives the current access token; `unauthorized()` (a 401) and `forbidden()` (a 403). */
export function configureApi(given) {
  hooks = { ...hooks, ...given };
}

async function errorOf(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    // Not JSON (a proxy's page): the status says enough.
  }
  const error = body?.error;
  if (error && typeof error === "object") {
    return new ApiError(response.status, error.code ?? "error", error.message ?? "", error.details ?? []);
  }
  // API Gateway's own authorizer answers {"message": "Unauthorized"}.
  return new ApiError(response.status, `http_${response.status}`, body?.message ?? response.statusText);
}

/** Call the API; the JSON answer (null for a 204). Throws ApiError. */
export async function call(method, path, body) {
  const headers = { Accept: "application/json" };
  const token = await hooks.token();
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, "network", "");
  }
  if (!response.ok) {
    const error = await errorOf(response);
    if (response.status === 401) hooks.unauthorized(error);
    if (response.status === 403) hooks.forbidden(error);
    throw error;
  }
  return response.status === 204 ? null : response.json();
}

export const api = {
  get: (path) => call("GET", path),
  post: (path, body = {}) => call("POST", path, body),
  put: (path, body) => call("PUT", path, body),
  patch: (path, body) => call("PATCH", path, body),
  delete: (path) => call("DELETE", path),
};

/** Every item of a paged list (`{"items", "next_cursor"}`). */
export async function all(path) {
  const items = [];
  let cursor = null;
  do {
    const separator = path.includes("?") ? "&" : "?";
    const page = await api.get(cursor ? `${path}${separator}cursor=${encodeURIComponent(cursor)}` : path);
    items.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor);
  return items;
}

/** `/v1/accounts/{id}/...` with the id escaped. */
export function accountPath(accountId, rest = "") {
  return `/v1/accounts/${encodeURIComponent(accountId)}${rest}`;
}
