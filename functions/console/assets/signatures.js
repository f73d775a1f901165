// Email signatures of an account: the account's default and the users' own. The HTML typed is
// sanitized by the API; the preview shows only what the API kept, in a sandboxed frame (no
// scripts, no same-origin access), never the HTML as typed.

import { accountPath, all, api } from "./api.js";
import { teamCheckboxes } from "./authorized_users.js";
import { confirm } from "./dialogs.js";
import { h, replace, select } from "./dom.js";
import { checkbox, field, form, group } from "./forms.js";
import { t } from "./i18n.js";
import { announce } from "./status.js";
import { failure, loading, loadingCard, panelHead } from "./views.js";

/** The Signatures tab: choose an email account, then its signatures. */
export async function showSignaturesTab(panel) {
  replace(panel, loading());
  let accounts;
  let team;
  try {
    [accounts, team] = await Promise.all([all("/v1/accounts"), all("/v1/users")]);
  } catch (error) {
    replace(panel, failure(error));
    return;
  }
  const email = accounts.filter((account) => account.channel === "email");
  if (!email.length) {
    replace(panel, panelHead(t("tab.signatures")), h("p", { class: "empty" }, t("signatures.no_email_account")));
    return;
  }
  const area = h("div");
  const chooser = select(
    email.map((account) => [account.id, `${account.name} · ${account.address}`]),
    email[0].id,
    { onchange: (e) => show(e.target.value) },
  );
  function show(accountId) {
    replace(area, signaturesCard(email.find((account) => account.id === accountId), team));
  }
  replace(
    panel,
    panelHead(t("tab.signatures")),
    h("p", { class: "lead" }, t("signatures.intro")),
    h("div", { class: "card compact" }, field(t("signatures.account"), chooser)),
    area,
  );
  show(email[0].id);
}

/** The signatures card of one account (also shown on the account's page). */
export function signaturesCard(account, team) {
  return loadingCard(t("signatures.title_for", { name: account.name }), async () => {
    const box = h("div", { class: "signatures" });
    await showList(box, account, team);
    return box;
  });
}

function previewDocument(html) {
  // The frame's own policy: no script, images only over https or inline, as the sanitizer allows.
  return (
    "<!doctype html><html><head><meta charset=\"utf-8\">" +
    "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src https: data:; style-src 'unsafe-inline'\">" +
    "<style>body{font:14px/1.5 system-ui,sans-serif;color:#1f2328;margin:12px}</style></head><body>" +
    html +
    "</body></html>"
  );
}

/** A sandboxed frame showing `html` as the API returned it (sanitized). */
export function sanitizedPreview(html) {
  const frame = h("iframe", { class: "preview-frame", sandbox: "", title: t("signatures.preview"), referrerpolicy: "no-referrer" });
  frame.srcdoc = previewDocument(html);
  return frame;
}

async function showList(box, account, team) {
  const signatures = await all(accountPath(account.id, "/signatures"));
  const names = new Map(team.map((user) => [user.id, user.name]));
  const edit = (signature) => replace(box, editor(box, account, team, signature));
  replace(
    box,
    signatures.length
      ? h(
          "ul",
          { class: "item-list" },
          signatures.map((signature) =>
            h(
              "li",
              { class: "item" },
              h(
                "div",
                { class: "item-main" },
                h("strong", {}, signature.name),
                signature.default_for_account ? h("span", { class: "badge" }, t("signatures.default")) : null,
                signature.user_ids.length
                  ? h("span", { class: "hint" }, t("signatures.for_users", { names: signature.user_ids.map((id) => names.get(id) ?? id).join(", ") }))
                  : null,
              ),
              h(
                "div",
                { class: "actions" },
                h("button", { type: "button", onclick: () => edit(signature), "aria-label": t("action.edit_named", { name: signature.name }) }, t("action.edit")),
                h(
                  "button",
                  {
                    type: "button",
                    class: "danger",
                    "aria-label": t("action.delete_named", { name: signature.name }),
                    onclick: async () => {
                      if (!(await confirm(t("signatures.delete_confirm", { name: signature.name }), t("action.delete")))) return;
                      try {
                        await api.delete(accountPath(account.id, `/signatures/${encodeURIComponent(signature.id)}`));
                        announce(t("signatures.deleted"));
                      } catch (error) {
                        if (!error.isApiError) throw error;
                        announce(error.message);
                      }
                      await showList(box, account, team);
                    },
                  },
                  t("action.delete"),
                ),
              ),
            ),
          ),
        )
      : h("p", { class: "empty" }, t("signatures.none")),
    h("div", { class: "actions" }, h("button", { type: "button", class: "primary", onclick: () => edit(null) }, t("signatures.new"))),
  );
}

function editor(box, account, team, signature) {
  const name = h("input", { type: "text", value: signature?.name ?? "", autocomplete: "off" });
  const html = h("textarea", { rows: "8", class: "code", spellcheck: "false" });
  html.value = signature?.html ?? "";
  const isDefault = h("input", { type: "checkbox", checked: signature?.default_for_account ?? !signature });
  const users = new Set(signature?.user_ids ?? []);
  const preview = h("div", { class: "preview" });
  let saved = signature;

  function showPreview(typed) {
    replace(
      preview,
      h("h4", {}, t("signatures.preview")),
      saved ? sanitizedPreview(saved.html) : h("p", { class: "hint" }, t("signatures.preview_after_save")),
      saved && typed !== undefined && typed !== saved.html ? h("p", { class: "hint" }, t("signatures.sanitized_note")) : null,
    );
  }
  showPreview();

  const element = form(
    [
      field(t("signatures.name"), name, { path: "name" }),
      field(t("signatures.html"), html, { path: "html", hint: t("signatures.html_hint") }),
      checkbox(t("signatures.default_for_account"), isDefault, { path: "default_for_account" }),
      group(t("signatures.users"), [h("p", { class: "hint" }, t("signatures.users_hint")), teamCheckboxes(team, users)], { path: "user_ids" }),
      h(
        "div",
        { class: "actions" },
        h("button", { type: "button", onclick: () => void showList(box, account, team) }, t("action.back_to_list")),
        h("button", { type: "submit", class: "primary" }, t("signatures.save")),
      ),
      preview,
    ],
    async () => {
      const body = { name: name.value.trim(), html: html.value, default_for_account: isDefault.checked, user_ids: [...users] };
      const path = saved
        ? accountPath(account.id, `/signatures/${encodeURIComponent(saved.id)}`)
        : accountPath(account.id, "/signatures");
      saved = saved ? await api.patch(path, body) : await api.post(path, body);
      showPreview(body.html);
      announce(t("signatures.saved"));
    },
  );
  element.classList.add("narrow");
  return h("div", { class: "editor" }, h("h4", {}, signature ? t("signatures.edit_title", { name: signature.name }) : t("signatures.new_title")), element);
}
