// The settings an admin types for an IMAP mailbox or a Twilio number, the connection test that
// checks them, and the dialogs that create such accounts. The same fields serve the account's
// detail view (where a blank password keeps the stored one).

import { accountPath, api } from "./api.js";
import { h, replace, select } from "./dom.js";
import { field, form, group, run, valueOrNull } from "./forms.js";
import { t } from "./i18n.js";
import { announce } from "./status.js";

const IMAP_PORTS = { ssl: 993, starttls: 143, none: 143 };
const SMTP_PORTS = { starttls: 587, ssl: 465, none: 25 };

function text(value, props = {}) {
  return h("input", { type: "text", value: value ?? "", autocomplete: "off", spellcheck: "false", ...props });
}

function port(value) {
  return h("input", { type: "number", min: "1", max: "65535", inputmode: "numeric", value: String(value) });
}

/** A port that follows its security mode while it still holds that mode's usual port. */
function followDefaults(security, portInput, defaults) {
  let previous = security.value;
  security.addEventListener("change", () => {
    if (Number(portInput.value) === defaults[previous]) portInput.value = String(defaults[security.value]);
    previous = security.value;
  });
}

/** Name, address and sender name: every account has them. */
export function identityFields(account, addressLabel, { addressPlaceholder } = {}) {
  const controls = {
    name: text(account?.name, { autocomplete: "organization" }),
    address: text(account?.address, { placeholder: addressPlaceholder }),
    senderName: text(account?.sender_name),
  };
  const fields = [
    field(t("account.name"), controls.name, { path: "name", hint: t("account.name_hint") }),
    field(addressLabel, controls.address, { path: "address" }),
    field(t("account.sender_name"), controls.senderName, { path: "sender_name", hint: t("account.sender_name_hint") }),
  ];
  const read = () => ({
    name: controls.name.value.trim(),
    address: controls.address.value.trim(),
    sender_name: valueOrNull(controls.senderName),
  });
  return { controls, fields, read };
}

/** IMAP and SMTP servers, user name and password. `read()` gives {config, credentials}. */
export function imapFields(account, addressInput) {
  const c = account?.config ?? {};
  const controls = {
    imapHost: text(c.imap_host, { placeholder: "imap.example.com" }),
    imapPort: port(c.imap_port ?? 993),
    imapSecurity: select(
      [["ssl", t("security.ssl")], ["starttls", t("security.starttls")], ["none", t("security.none")]],
      c.imap_security ?? "ssl",
    ),
    smtpHost: text(c.smtp_host, { placeholder: "smtp.example.com" }),
    smtpPort: port(c.smtp_port ?? 587),
    smtpSecurity: select(
      [["starttls", t("security.starttls")], ["ssl", t("security.ssl")], ["none", t("security.none")]],
      c.smtp_security ?? "starttls",
    ),
    username: text(c.username, { autocomplete: "username" }),
    password: h("input", { type: "password", autocomplete: "new-password" }),
  };
  followDefaults(controls.imapSecurity, controls.imapPort, IMAP_PORTS);
  followDefaults(controls.smtpSecurity, controls.smtpPort, SMTP_PORTS);
  // The user name is usually the address: offer it until someone types another.
  addressInput?.addEventListener("change", () => {
    if (!controls.username.value) controls.username.value = addressInput.value.trim();
  });
  const fields = [
    group(t("imap.incoming"), [
      field(t("imap.host"), controls.imapHost, { path: "config.imap_host", hint: t("imap.host_hint") }),
      h(
        "div",
        { class: "row" },
        field(t("imap.port"), controls.imapPort, { path: "config.imap_port", hint: t("imap.port_hint") }),
        field(t("imap.security"), controls.imapSecurity, { path: "config.imap_security" }),
      ),
    ]),
    group(t("imap.outgoing"), [
      field(t("smtp.host"), controls.smtpHost, { path: "config.smtp_host", hint: t("smtp.host_hint") }),
      h(
        "div",
        { class: "row" },
        field(t("smtp.port"), controls.smtpPort, { path: "config.smtp_port", hint: t("smtp.port_hint") }),
        field(t("smtp.security"), controls.smtpSecurity, { path: "config.smtp_security" }),
      ),
    ]),
    group(t("imap.sign_in"), [
      field(t("imap.username"), controls.username, { path: "config.username" }),
      field(account ? t("imap.new_password") : t("imap.password"), controls.password, {
        path: "credentials.password",
        hint: account ? t("credentials.keep_hint") : t("imap.password_hint"),
      }),
    ]),
  ];
  const read = () => ({
    config: {
      imap_host: controls.imapHost.value.trim(),
      imap_port: Number(controls.imapPort.value),
      imap_security: controls.imapSecurity.value,
      smtp_host: controls.smtpHost.value.trim(),
      smtp_port: Number(controls.smtpPort.value),
      smtp_security: controls.smtpSecurity.value,
      username: controls.username.value.trim(),
    },
    credentials: controls.password.value ? { password: controls.password.value } : undefined,
  });
  return { controls, fields, read, secret: controls.password };
}

/** Twilio's Account SID, Auth Token, optional Messaging Service and the business name. */
export function twilioFields(account) {
  const c = account?.config ?? {};
  const controls = {
    accountSid: text(c.account_sid, { placeholder: "AC…" }),
    messagingServiceSid: text(c.messaging_service_sid, { placeholder: "MG…" }),
    businessName: text(c.business_name),
    authToken: h("input", { type: "password", autocomplete: "new-password" }),
  };
  const fields = [
    field(t("twilio.account_sid"), controls.accountSid, { path: "config.account_sid" }),
    field(account ? t("twilio.new_auth_token") : t("twilio.auth_token"), controls.authToken, {
      path: "credentials.auth_token",
      hint: account ? t("credentials.keep_hint") : undefined,
    }),
    field(t("twilio.messaging_service_sid"), controls.messagingServiceSid, {
      path: "config.messaging_service_sid",
      hint: t("field.optional"),
    }),
    field(t("account.business_name"), controls.businessName, { path: "config.business_name" }),
  ];
  const read = () => {
    const config = { account_sid: controls.accountSid.value.trim(), business_name: valueOrNull(controls.businessName) };
    const service = valueOrNull(controls.messagingServiceSid);
    if (service || account?.config?.messaging_service_sid) config.messaging_service_sid = service;
    return {
      config,
      credentials: controls.authToken.value ? { auth_token: controls.authToken.value } : undefined,
    };
  };
  return { controls, fields, read, secret: controls.authToken };
}

/** The name shown for a check (`imap`, `smtp`, `twilio`, `meta`, or another the API adds). */
function checkName(name) {
  const known = { imap: "check.imap", smtp: "check.smtp", twilio: "check.twilio", meta: "check.meta" };
  return known[name] ? t(known[name]) : name;
}

/** Each check's result, in words and with a mark (not colour alone). */
export function checksView(report) {
  const failed = report.checks.filter((check) => !check.ok).length;
  const summary = report.ok ? t("check.all_passed") : t("check.some_failed", { count: failed });
  announce(summary);
  return h(
    "div",
    { class: `checks ${report.ok ? "ok" : "failed"}` },
    h("p", { class: "checks-summary" }, summary),
    h(
      "ul",
      { class: "checks-list", "aria-label": t("check.results") },
      report.checks.map((check) =>
        h(
          "li",
          { class: `check ${check.ok ? "ok" : "failed"}`, data: { check: check.name } },
          h("span", { class: "check-mark", "aria-hidden": "true" }, check.ok ? "✓" : "✗"),
          h("strong", {}, checkName(check.name)),
          h("span", { class: "check-result" }, check.ok ? t("check.passed") : t("check.failed")),
          check.error ? h("span", { class: "check-message" }, `${check.error.message} (${check.error.code})`) : null,
        ),
      ),
    ),
  );
}

/**
 * The "Test the connection" button and where its results go. `settings()` gives what to test:
 * `{path, body}` (unsaved settings, or a saved account's own route).
 */
export function connectionTest(settings) {
  const results = h("div", { class: "check-results" });
  const button = h("button", { type: "button", class: "secondary" }, t("account.test_connection"));
  button.addEventListener("click", () => {
    void run(button.form ?? button.closest("form"), async () => {
      replace(results, h("p", { class: "loading" }, t("check.running")));
      announce(t("check.running"));
      try {
        const { path, body } = settings();
        replace(results, checksView(await api.post(path, body)));
      } catch (error) {
        replace(results);
        throw error;
      }
    });
  });
  return { button, results };
}

/** The form creating an account of `provider` (imap or twilio); `onCreated(account)`. */
export function newAccountForm(provider, onCreated) {
  const email = provider === "imap";
  const identity = identityFields(null, email ? t("account.email_address") : t("account.whatsapp_number"), {
    addressPlaceholder: email ? "support@example.com" : "+33612345678",
  });
  const settings = email ? imapFields(null, identity.controls.address) : twilioFields(null);
  const body = () => {
    const { config, credentials } = settings.read();
    const { name, address, sender_name } = identity.read();
    return { provider, name, address, sender_name, config, credentials: credentials ?? {} };
  };
  const test = connectionTest(() => {
    const { provider: p, address, config, credentials } = body();
    return { path: "/v1/accounts/test-connection", body: { provider: p, address, config, credentials } };
  });
  const element = form(
    [
      identity.fields,
      settings.fields,
      test.results,
      h("div", { class: "actions" }, test.button, h("button", { type: "submit", class: "primary" }, t("action.save"))),
    ],
    async () => {
      const account = await api.post("/v1/accounts", body());
      announce(t("account.created", { name: account.name }));
      onCreated(account);
    },
  );
  return element;
}

/** Test a saved account's stored settings. */
export function savedConnectionTest(account) {
  return connectionTest(() => ({ path: accountPath(account.id, "/test-connection"), body: {} }));
}
