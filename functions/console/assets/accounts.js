// The Accounts tab: every connected mailbox and WhatsApp number with its status, and the dialogs
// that add one ("Add an email account", "Add a WhatsApp number").

import { all } from "./api.js";
import { newAccountForm } from "./account_forms.js";
import { showAccountDetail } from "./account_detail.js";
import { providerName, statusChip } from "./account_status.js";
import { metaSignup, oauthButton } from "./connect.js";
import { openDialog } from "./dialogs.js";
import { h, replace, uid } from "./dom.js";
import { t } from "./i18n.js";
import { failure, loading, panelHead } from "./views.js";

export async function showAccounts(panel) {
  replace(panel, loading());
  let accounts;
  try {
    accounts = await all("/v1/accounts");
  } catch (error) {
    replace(panel, failure(error));
    return;
  }
  const backToList = () => void showAccounts(panel);
  const open = (account) => void showAccountDetail(panel, account.id, backToList);
  replace(
    panel,
    panelHead(
      t("tab.accounts"),
      h("button", { type: "button", class: "primary", onclick: () => addEmail(open) }, t("accounts.add_email")),
      h("button", { type: "button", class: "primary", onclick: () => addWhatsApp(open) }, t("accounts.add_whatsapp")),
    ),
    h("p", { class: "lead" }, t("accounts.intro")),
    accounts.length ? accountTable(accounts, open) : h("p", { class: "empty" }, t("accounts.empty")),
  );
}

function accountTable(accounts, open) {
  return h(
    "div",
    { class: "card table-card" },
    h(
      "table",
      { class: "table" },
      h("caption", { class: "visually-hidden" }, t("accounts.table_caption")),
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          [t("accounts.col_name"), t("accounts.col_address"), t("accounts.col_provider"), t("accounts.col_status")].map((label) =>
            h("th", { scope: "col" }, label),
          ),
        ),
      ),
      h(
        "tbody",
        {},
        accounts.map((account) =>
          h(
            "tr",
            {},
            h("td", {}, h("button", { type: "button", class: "link-button strong", onclick: () => open(account) }, account.name)),
            h("td", { class: "mono" }, account.address),
            h("td", {}, providerName(account.provider)),
            h(
              "td",
              {},
              statusChip(account),
              account.status === "error" && account.status_reason ? h("span", { class: "status-reason" }, account.status_reason) : null,
            ),
          ),
        ),
      ),
    ),
  );
}

/**
 * A dialog that first asks which provider, then shows that provider's way in.
 * `choices`: [{value, label, description, body(close)}].
 */
function providerDialog(title, legend, choices) {
  const body = h("div", { class: "provider-body" });
  const name = uid("provider");
  let close = () => {};
  const show = (value) => replace(body, choices.find((c) => c.value === value).body(() => close()));
  const radios = h(
    "fieldset",
    { class: "provider-choice" },
    h("legend", {}, legend),
    choices.map((choice, index) => {
      const id = uid("provider-option");
      const input = h("input", { type: "radio", name, id, value: choice.value, checked: index === 0, onchange: () => show(choice.value) });
      return h(
        "div",
        { class: "provider-option" },
        input,
        h("label", { for: id }, h("strong", {}, choice.label), h("span", { class: "hint" }, choice.description)),
      );
    }),
  );
  ({ close } = openDialog(title, [radios, body]));
  show(choices[0].value);
}

function addEmail(open) {
  const created = (close) => (account) => {
    close();
    open(account);
  };
  providerDialog(t("accounts.add_email"), t("accounts.choose_provider"), [
    {
      value: "gmail",
      label: providerName("gmail"),
      description: t("provider.gmail_for"),
      body: () => [h("p", {}, t("oauth.google_intro")), oauthButton("google", t("oauth.google_button"))],
    },
    {
      value: "office365",
      label: providerName("office365"),
      description: t("provider.office365_for"),
      body: () => [h("p", {}, t("oauth.microsoft_intro")), oauthButton("microsoft", t("oauth.microsoft_button"))],
    },
    {
      value: "imap",
      label: providerName("imap"),
      description: t("provider.imap_for"),
      body: (close) => newAccountForm("imap", created(close)),
    },
  ]);
}

function addWhatsApp(open) {
  const created = (close) => (account) => {
    close();
    open(account);
  };
  providerDialog(t("accounts.add_whatsapp"), t("accounts.choose_provider"), [
    {
      value: "meta_cloud",
      label: providerName("meta_cloud"),
      description: t("provider.meta_cloud_for"),
      body: (close) => metaSignup(created(close)),
    },
    {
      value: "twilio",
      label: providerName("twilio"),
      description: t("provider.twilio_for"),
      body: (close) => newAccountForm("twilio", created(close)),
    },
  ]);
}
