// The deployment's settings from `config.json` (sign-in, Meta's app), read once at start.

let current = { sign_in: null };

export async function loadConfig() {
  try {
    const response = await fetch("./config.json", { headers: { Accept: "application/json" } });
    if (response.ok) current = await response.json();
  } catch {
    // Served without it (a static copy): local defaults.
  }
  return current;
}

/** `{app_id, config_id}` of Meta's embedded signup, when the deployment gives them. */
export function metaSignupConfig() {
  return current.meta_signup ?? null;
}
