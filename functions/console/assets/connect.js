// Connecting through a provider's own sign-in: Google and Microsoft (OAuth, the API runs the flow
// and sends the browser back here with ?result=), and Meta's embedded signup (Meta's SDK, loaded
// only when its dialog opens, hands back a code that the API exchanges).

import { api } from "./api.js";
import { metaSignupConfig } from "./config.js";
import { h, replace } from "./dom.js";
import { errorTarget, field, form, formMessage, valueOrNull } from "./forms.js";
import { t } from "./i18n.js";
import { announce } from "./status.js";

const META_SDK = "https://connect.facebook.net/en_US/sdk.js";
const META_GRAPH_VERSION = "v21.0";
const SDK_TIMEOUT_MS = 8000;

/** `oauth` is "google" or "microsoft"; `accountId` reconnects that account. Leaves the page. */
export async function startOAuth(oauth, accountId = null) {
  const started = await api.post(`/v1/oauth/${oauth}/start`, {
    account_id: accountId,
    redirect_to: `${location.origin}/console/`,
  });
  location.assign(started.authorization_url);
}

/** A button inside its own small form, so a refusal (503 not configured) shows beside it. */
export function oauthButton(oauth, label, accountId = null) {
  return form(
    [h("div", { class: "actions" }, h("button", { type: "submit", class: `primary oauth-${oauth}` }, label))],
    () => startOAuth(oauth, accountId),
  );
}

let sdk = null;

/** Meta's SDK, once per page; rejects when it cannot be fetched (no network, blocked). */
function loadMetaSdk() {
  sdk ??= new Promise((resolve, reject) => {
    if (window.FB) return resolve(window.FB);
    const script = h("script", { src: META_SDK, async: true, crossorigin: "anonymous" });
    const timer = window.setTimeout(() => reject(new Error("timeout")), SDK_TIMEOUT_MS);
    script.addEventListener("load", () => {
      window.clearTimeout(timer);
      window.FB ? resolve(window.FB) : reject(new Error("no FB"));
    });
    script.addEventListener("error", () => {
      window.clearTimeout(timer);
      reject(new Error("unreachable"));
    });
    document.head.append(script);
  }).catch((error) => {
    sdk = null; // try again next time the dialog opens
    throw error;
  });
  return sdk;
}

/** Meta posts the WABA and number chosen in its pop-up as a message from facebook.com. */
function signupChoice() {
  return new Promise((resolve) => {
    function listen(event) {
      if (!/^https:\/\/([a-z0-9-]+\.)*facebook\.com$/.test(event.origin)) return;
      let data;
      try {
        data = typeof event.data === "string" ? JSON.parse(event.data) : event.data;
      } catch {
        return;
      }
      if (data?.type !== "WA_EMBEDDED_SIGNUP") return;
      window.removeEventListener("message", listen);
      resolve(data.event === "FINISH" ? data.data : null);
    }
    window.addEventListener("message", listen);
  });
}

function metaLogin(FB, configId) {
  return new Promise((resolve) => {
    FB.login((response) => resolve(response.authResponse?.code ?? null), {
      config_id: configId,
      response_type: "code",
      override_default_response_type: true,
      extras: { setup: {}, featureType: "", sessionInfoVersion: "3" },
    });
  });
}

/**
 * The body of the "Meta Cloud API" choice: prerequisites, optional name and PIN, and the button
 * that opens Meta's pop-up. `onConnected(account)` once the API has created or reconnected it.
 */
export function metaSignup(onConnected) {
  const status = h("p", { class: "loading" }, t("meta.loading_sdk"));
  const name = h("input", { type: "text", autocomplete: "off" });
  const pin = h("input", { type: "password", inputmode: "numeric", autocomplete: "off", maxlength: "6" });
  const start = h("button", { type: "submit", class: "primary", disabled: true }, t("meta.continue"));
  const signupForm = form(
    [
      h("p", {}, t("meta.intro")),
      h("ul", { class: "prerequisites", "aria-label": t("meta.prerequisites") }, [
        h("li", {}, t("meta.prerequisite_business")),
        h("li", {}, t("meta.prerequisite_verified")),
        h("li", {}, t("meta.prerequisite_number")),
      ]),
      field(t("account.name"), name, { path: "name", hint: t("meta.name_hint") }),
      field(t("meta.pin"), pin, { path: "pin", hint: t("meta.pin_hint") }),
      errorTarget(h("div"), "waba_id"),
      errorTarget(h("div"), "phone_number_id"),
      status,
      h("div", { class: "actions" }, start),
    ],
    async (element) => {
      const { app_id: appId, config_id: configId } = metaSignupConfig();
      const FB = await loadMetaSdk();
      FB.init({ appId, autoLogAppEvents: true, xfbml: false, version: META_GRAPH_VERSION });
      const chosen = signupChoice();
      const code = await metaLogin(FB, configId);
      const choice = await Promise.race([chosen, new Promise((r) => window.setTimeout(() => r(null), 3000))]);
      if (!code || !choice?.waba_id) {
        formMessage(element, [t("meta.cancelled")], "error");
        return;
      }
      const account = await api.post("/v1/whatsapp/meta/signup", {
        code,
        waba_id: choice.waba_id,
        phone_number_id: choice.phone_number_id ?? null,
        pin: valueOrNull(pin),
        name: valueOrNull(name),
      });
      announce(t("account.created", { name: account.name }));
      onConnected(account);
    },
  );
  loadMetaSdk().then(
    () => {
      if (metaSignupConfig()?.app_id && metaSignupConfig()?.config_id) {
        replace(status);
        start.disabled = false;
      } else {
        replace(status, t("meta.not_configured"));
        status.className = "notice error";
      }
    },
    () => {
      replace(status, t("meta.needs_network"));
      status.className = "notice error";
      announce(t("meta.needs_network"));
    },
  );
  return signupForm;
}
