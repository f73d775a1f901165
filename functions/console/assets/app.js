// The console's start: language, sign-in, then the four tabs of "Settings > Conversations".

import { configureApi } from "./api.js";
import { accessToken, claims, cleanAddress, forget, hostedSignIn, redirectToSignIn, signIn, signOut } from "./auth.js";
import { loadConfig } from "./config.js";
import { h, replace } from "./dom.js";
import { applyLanguage, t } from "./i18n.js";
import { showAccounts } from "./accounts.js";
import { showLabels } from "./labels.js";
import { showSignaturesTab } from "./signatures.js";
import { announce, useStatusRegion } from "./status.js";
import { tabList } from "./tabs.js";
import { showTemplates } from "./templates.js";

// An email provider's connect flow comes back as /console/?account_id=&result=&code=; the result
// waits here (sessionStorage, across a sign-in redirect) until someone signed in can see it.
const CONNECT_RESULT = "inbox.console.connect-result";

const TABS = [
  { id: "accounts", label: () => t("tab.accounts"), show: showAccounts },
  { id: "templates", label: () => t("tab.templates"), show: showTemplates },
  { id: "labels", label: () => t("tab.labels"), show: showLabels },
  { id: "signatures", label: () => t("tab.signatures"), show: showSignaturesTab },
];

const page = {
  nav: document.getElementById("nav"),
  view: document.getElementById("view"),
  user: document.getElementById("user"),
  notice: document.getElementById("notice"),
};

function takeConnectResult() {
  const query = new URLSearchParams(location.search);
  if (query.has("result")) {
    const result = { result: query.get("result"), accountId: query.get("account_id"), code: query.get("code") };
    cleanAddress(["result", "account_id", "code"]);
    sessionStorage.setItem(CONNECT_RESULT, JSON.stringify(result));
  }
}

function connectNotice() {
  const stored = JSON.parse(sessionStorage.getItem(CONNECT_RESULT) ?? "null");
  sessionStorage.removeItem(CONNECT_RESULT);
  if (!stored) return;
  const failed = stored.result === "error";
  const text = failed ? t("connect.failed", { code: stored.code ?? "?" }) : t(`connect.${stored.result}`);
  replace(page.notice, h("p", { class: failed ? "notice error" : "notice success" }, text));
  announce(text);
}

/** A card in place of the console: signing in, or why the console is not available. */
function showMessage(title, ...paragraphs) {
  page.nav.hidden = true;
  replace(page.view, h("section", { class: "card message", "aria-labelledby": "message-title" }, h("h2", { id: "message-title" }, title), paragraphs));
}

function showSignIn(expired = false) {
  replace(page.user);
  showMessage(
    t(expired ? "signin.expired_title" : "signin.title"),
    h("p", {}, t("signin.local")),
    h("p", {}, h("code", {}, `${location.origin}/console/#access_token=…`)),
    h("p", { class: "hint" }, t("signin.token_hint"), " ", h("code", {}, ".venv/bin/inbox token --user alice --admin")),
  );
}

function showForbidden() {
  showMessage(t("forbidden.title"), h("p", {}, t("forbidden.text")));
}

async function showConsole() {
  const token = await accessToken();
  const who = claims(token) ?? {};
  replace(
    page.user,
    h("span", { class: "who" }, who.email ?? who["cognito:username"] ?? who.username ?? who.sub ?? ""),
    h("button", { type: "button", class: "link-button", onclick: () => leave() }, t("action.sign_out")),
  );
  const tabs = TABS.map((tab) => ({ id: tab.id, label: tab.label() }));
  const { list, panels, select } = tabList(
    tabs,
    (id, panel) => {
      void TABS.find((tab) => tab.id === id).show(panel);
    },
    { label: t("tab.list_label"), orientation: "vertical" },
  );
  page.nav.hidden = false;
  replace(page.nav, list);
  replace(page.view, panels);
  select("accounts");
  connectNotice();
}

function leave() {
  signOut();
  if (!hostedSignIn()) showSignIn();
}

async function main() {
  applyLanguage();
  useStatusRegion(document.getElementById("status"));
  takeConnectResult();
  configureApi({
    token: accessToken,
    unauthorized: () => {
      forget();
      if (hostedSignIn()) void redirectToSignIn();
      else showSignIn(true);
    },
    forbidden: showForbidden,
  });
  const state = await signIn(await loadConfig());
  if (state === "signed-in") await showConsole();
  else if (state === "signed-out") showSignIn();
}

void main();
