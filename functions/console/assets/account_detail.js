// One account's settings page: its status and actions (pause, resume, reconnect, test, delete),
// then one card per setting: general, authorized users, business hours, auto-reply, assignment
// rules and, for email, signatures.

import { accountPath, all, api } from "./api.js";
import { connectionTest, identityFields, imapFields, savedConnectionTest, twilioFields } from "./account_forms.js";
import { providerName, statusChip } from "./account_status.js";
import { assignmentRulesCard } from "./assignment_rules.js";
import { authorizedUsersCard } from "./authorized_users.js";
import { autoReplyCard } from "./auto_reply.js";
import { businessHoursCard } from "./business_hours.js";
import { metaSignup, startOAuth } from "./connect.js";
import { confirm, openDialog } from "./dialogs.js";
import { h, replace } from "./dom.js";
import { field, form, formMessage, run } from "./forms.js";
import { t } from "./i18n.js";
import { signaturesCard } from "./signatures.js";
import { announce } from "./status.js";
import { card, failure, loading, when } from "./views.js";

const OAUTH_OF = { gmail: "google", office365: "microsoft" };

export async function showAccountDetail(panel, accountId, back) {
  replace(panel, loading());
  let account;
  let team;
  try {
    [account, team] = await Promise.all([api.get(accountPath(accountId)), all("/v1/users")]);
  } catch (error) {
    replace(panel, failure(error));
    return;
  }
  const head = h("div", { class: "account-head" });
  const general = h("div");
  const context = {
    account,
    team,
    back,
    // A change of status or settings redraws the head and the general card, not the other cards
    // (which may hold unsaved edits).
    changed(updated) {
      context.account = updated;
      replace(head, accountHead(context));
      replace(general, generalCard(context));
    },
  };
  replace(head, accountHead(context));
  replace(general, generalCard(context));
  const cards = [
    authorizedUsersCard(account, team),
    businessHoursCard(account),
    autoReplyCard(account),
    assignmentRulesCard(account, team),
    account.channel === "email" ? signaturesCard(account, team) : null,
  ].filter(Boolean);
  replace(
    panel,
    h("button", { type: "button", class: "link-button back", onclick: back }, `← ${t("accounts.back")}`),
    head,
    sectionNav([general, ...cards]),
    general,
    cards,
  );
  panel.querySelector("h2")?.focus();
}

/** "On this page": a button per card, moving the focus to its heading (the page is long). */
function sectionNav(cards) {
  const headingOf = (element) => element.querySelector("h3");
  return h(
    "nav",
    { class: "card compact section-nav", "aria-label": t("account.sections") },
    cards.map((element) =>
      h(
        "button",
        {
          type: "button",
          class: "link-button",
          onclick: () => {
            const heading = headingOf(element);
            heading.tabIndex = -1;
            heading.scrollIntoView({ block: "start" });
            heading.focus({ preventScroll: true });
          },
        },
        headingOf(element).textContent,
      ),
    ),
  );
}

function syncSummary(sync) {
  if (!sync) return null;
  return h(
    "dl",
    { class: "facts" },
    h("dt", {}, t("sync.last_success")),
    h("dd", {}, when(sync.last_success_at)),
    h("dt", {}, t("sync.imported")),
    h("dd", {}, String(sync.imported)),
    h("dt", {}, t("sync.quarantined")),
    h("dd", {}, String(sync.quarantined)),
    sync.last_error ? [h("dt", {}, t("sync.last_error")), h("dd", {}, sync.last_error.message)] : null,
  );
}

function accountHead(context) {
  const { account } = context;
  const test = savedConnectionTest(account);
  const act = (path, done) => async () => {
    const updated = await api.post(accountPath(account.id, path));
    announce(done);
    context.changed(updated);
  };
  const actions = form(
    [
      h(
        "div",
        { class: "actions" },
        account.status === "paused"
          ? h("button", { type: "button", onclick: (e) => run(e.target.form, act("/resume", t("account.resumed"))) }, t("account.resume"))
          : h("button", { type: "button", onclick: (e) => run(e.target.form, act("/pause", t("account.paused"))) }, t("account.pause")),
        h("button", { type: "button", onclick: (e) => run(e.target.form, () => reconnect(context, e.target.form)) }, t("account.reconnect")),
        test.button,
        h("button", { type: "button", class: "danger", onclick: (e) => run(e.target.form, () => remove(context)) }, t("action.delete")),
      ),
      test.results,
    ],
    () => {},
  );
  return h(
    "div",
    { class: "card account-summary" },
    h("h2", { tabindex: "-1" }, account.name),
    h(
      "p",
      { class: "account-meta" },
      statusChip(account),
      h("span", { class: "mono" }, account.address),
      h("span", {}, providerName(account.provider)),
    ),
    account.status_reason && account.status !== "active" ? h("p", { class: "notice error" }, account.status_reason) : null,
    syncSummary(account.sync),
    actions,
  );
}

async function reconnect(context, actionsForm) {
  const { account } = context;
  if (OAUTH_OF[account.provider]) return startOAuth(OAUTH_OF[account.provider], account.id);
  if (account.provider === "meta_cloud") {
    const { close } = openDialog(
      t("account.reconnect"),
      metaSignup((updated) => {
        close();
        context.changed(updated);
      }),
    );
    return undefined;
  }
  // IMAP and Twilio reconnect with new credentials, typed in the general card.
  const secret = document.querySelector("[data-secret]");
  formMessage(actionsForm, [t("account.reconnect_hint")], "info");
  secret?.focus();
  return undefined;
}

async function remove(context) {
  const { account } = context;
  if (!(await confirm(t("account.delete_confirm", { name: account.name }), t("action.delete")))) return;
  await api.delete(accountPath(account.id));
  announce(t("account.deleted", { name: account.name }));
  context.back();
}

function generalCard(context) {
  const { account } = context;
  const addressLabel = account.channel === "email" ? t("account.email_address") : t("account.whatsapp_number");
  const identity = identityFields(account, addressLabel);
  // An OAuth mailbox's address and a Meta number come from the provider: shown, not edited.
  const fixedAddress = !["imap", "twilio"].includes(account.provider);
  identity.controls.address.readOnly = fixedAddress;
  const settings =
    account.provider === "imap"
      ? imapFields(account, identity.controls.address)
      : account.provider === "twilio"
        ? twilioFields(account)
        : null;
  settings?.secret.setAttribute("data-secret", "");
  const businessName = h("input", { type: "text", value: account.config.business_name ?? "" });
  const extra =
    account.provider === "meta_cloud"
      ? [
          field(t("account.business_name"), businessName, { path: "config.business_name" }),
          h(
            "dl",
            { class: "facts" },
            h("dt", {}, t("meta.waba_id")),
            h("dd", { class: "mono" }, account.config.waba_id ?? "—"),
            h("dt", {}, t("meta.phone_number_id")),
            h("dd", { class: "mono" }, account.config.phone_number_id ?? "—"),
          ),
        ]
      : [];
  const test = settings ? connectionTest(() => testBody(account, identity, settings)) : null;
  const element = form(
    [
      identity.fields,
      settings?.fields,
      extra,
      test?.results,
      h("div", { class: "actions" }, test?.button, h("button", { type: "submit", class: "primary" }, t("action.save"))),
    ],
    async () => {
      const { name, address, sender_name } = identity.read();
      const change = { name, sender_name };
      if (!fixedAddress) change.address = address;
      if (settings) {
        const { config, credentials } = settings.read();
        change.config = config;
        if (credentials) change.credentials = credentials;
      }
      if (account.provider === "meta_cloud") change.config = { business_name: businessName.value.trim() || null };
      const updated = await api.patch(accountPath(account.id), change);
      announce(t("account.saved"));
      context.changed(updated);
    },
  );
  element.classList.add("narrow");
  return card(t("account.general"), element);
}

/** What "Test the connection" checks in the general card: the settings as typed; a password left
 * blank is the stored one (the saved account's own route tests that). */
function testBody(account, identity, settings) {
  const { config, credentials } = settings.read();
  if (!credentials) return { path: accountPath(account.id, "/test-connection"), body: {} };
  return {
    path: "/v1/accounts/test-connection",
    body: { provider: account.provider, address: identity.read().address, config, credentials },
  };
}
