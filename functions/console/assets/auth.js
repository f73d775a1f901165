// Signing in. Tokens live in this module's memory only: a reload signs in again.
//
// 1. `/console/#access_token=<JWT>` (the link `inbox dev` prints): that token, the fragment
//    removed from the address bar at once.
// 2. Deployed (`config.sign_in` set): authorization code with PKCE through the Cognito hosted UI;
//    the verifier and state wait in sessionStorage during the redirect only. The access token is
//    refreshed with the refresh token a minute before it expires.
// 3. Otherwise nobody is signed in: the page says how to get the link.

const PENDING = "inbox.console.sign-in";
const REFRESH_MARGIN_SECONDS = 60;

let session = null; // {accessToken, refreshToken, expiresAt (ms)}
let signInConfig = null;
let refreshTimer = null;

/** The claims of a JWT (not verified: the API does that), or null. */
export function claims(token) {
  try {
    const payload = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const json = new TextDecoder().decode(Uint8Array.from(atob(payload), (c) => c.charCodeAt(0)));
    return JSON.parse(json);
  } catch {
    return null;
  }
}

function expiryOf(token) {
  const exp = claims(token)?.exp;
  return typeof exp === "number" ? exp * 1000 : null;
}

function base64url(bytes) {
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
}

function randomString() {
  return base64url(crypto.getRandomValues(new Uint8Array(32)));
}

async function challengeOf(verifier) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return base64url(new Uint8Array(digest));
}

function redirectUri() {
  return `${location.origin}/console/`;
}

/** Drop `names` from the query string, keeping the rest of the address. */
export function cleanAddress(names) {
  const url = new URL(location.href);
  for (const name of names) url.searchParams.delete(name);
  history.replaceState(history.state, "", `${url.pathname}${url.search}${url.hash}`);
}

function tokenFromFragment() {
  if (!location.hash.includes("access_token=")) return null;
  const token = new URLSearchParams(location.hash.slice(1)).get("access_token");
  // At once, before anything else runs: the token must not stay in the address bar or history.
  history.replaceState(history.state, "", `${location.pathname}${location.search}`);
  return token;
}

function keep(tokens) {
  session = {
    accessToken: tokens.access_token,
    refreshToken: tokens.refresh_token ?? session?.refreshToken ?? null,
    expiresAt: expiryOf(tokens.access_token) ?? Date.now() + (tokens.expires_in ?? 3600) * 1000,
  };
  window.clearTimeout(refreshTimer);
  if (session.refreshToken && signInConfig) {
    const wait = Math.max(session.expiresAt - Date.now() - REFRESH_MARGIN_SECONDS * 1000, 5000);
    refreshTimer = window.setTimeout(() => void refresh(), wait);
  }
}

async function tokenRequest(form) {
  const response = await fetch(signInConfig.token_url, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ client_id: signInConfig.client_id, ...form }),
  });
  if (!response.ok) throw new Error(`token endpoint answered ${response.status}`);
  return response.json();
}

async function refresh() {
  try {
    keep(await tokenRequest({ grant_type: "refresh_token", refresh_token: session.refreshToken }));
  } catch {
    session = null; // the next call gets a 401 and goes back to sign-in
  }
}

/** Send the browser to the hosted UI (deployed only). */
export async function redirectToSignIn() {
  const verifier = randomString();
  const state = randomString();
  sessionStorage.setItem(PENDING, JSON.stringify({ verifier, state }));
  const query = new URLSearchParams({
    client_id: signInConfig.client_id,
    response_type: "code",
    redirect_uri: redirectUri(),
    scope: (signInConfig.scopes ?? ["openid"]).join(" "),
    state,
    code_challenge_method: "S256",
    code_challenge: await challengeOf(verifier),
  });
  location.assign(`${signInConfig.authorize_url}?${query}`);
}

async function codeFromRedirect(query) {
  const pending = JSON.parse(sessionStorage.getItem(PENDING) ?? "null");
  sessionStorage.removeItem(PENDING);
  cleanAddress(["code", "state", "error", "error_description"]);
  if (!pending || pending.state !== query.get("state")) return false;
  keep(
    await tokenRequest({
      grant_type: "authorization_code",
      code: query.get("code"),
      redirect_uri: redirectUri(),
      code_verifier: pending.verifier,
    }),
  );
  return true;
}

/**
 * Sign in as far as possible without asking anything: "signed-in", "redirecting" (to the hosted
 * UI), or "signed-out" (local, no token: the page shows how to get one).
 */
export async function signIn(config) {
  signInConfig = config?.sign_in ?? null;
  const given = tokenFromFragment();
  if (given) {
    keep({ access_token: given });
    return "signed-in";
  }
  const query = new URLSearchParams(location.search);
  // `?code=` with `result=` is an email provider's connect result, not Cognito's answer.
  if (signInConfig && query.has("code") && query.has("state") && !query.has("result")) {
    try {
      if (await codeFromRedirect(query)) return "signed-in";
    } catch {
      // A used or expired code: start again.
    }
  }
  if (signInConfig) {
    await redirectToSignIn();
    return "redirecting";
  }
  return "signed-out";
}

/** The access token for the next call, or null once expired (the API then answers 401). */
export async function accessToken() {
  if (!session) return null;
  if (session.expiresAt <= Date.now() && session.refreshToken && signInConfig) await refresh();
  return session?.accessToken ?? null;
}

/** Whether sign-in goes through the hosted UI (deployed). */
export function hostedSignIn() {
  return signInConfig !== null;
}

/** Forget the tokens; deployed, end the hosted UI's session too. */
export function signOut() {
  session = null;
  window.clearTimeout(refreshTimer);
  if (signInConfig?.logout_url) {
    const query = new URLSearchParams({ client_id: signInConfig.client_id, logout_uri: redirectUri() });
    location.assign(`${signInConfig.logout_url}?${query}`);
  }
}

/** Forget the tokens after a 401, so the page asks to sign in again. */
export function forget() {
  session = null;
  window.clearTimeout(refreshTimer);
}
