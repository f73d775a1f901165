// The Templates tab: message templates with their approval status, and the editor: the variables
// catalogue (inserted at the cursor), an example per variable, the preview, Meta's format rules
// answered by the API next to the field they concern, and resubmission after a rejection.

import { all, api } from "./api.js";
import { confirm } from "./dialogs.js";
import { chip, h, replace, select } from "./dom.js";
import { field, form, group, run, valueOrNull } from "./forms.js";
import { t } from "./i18n.js";
import { announce } from "./status.js";
import { card, failure, loading, panelHead } from "./views.js";

// The API's placeholder (inbox.templates.rendering.PLACEHOLDER).
const PLACEHOLDER = /\{\{[ \t]*([a-z0-9_]+)[ \t]*\}\}/g;
const TYPES = ["start", "reply", "window"];
const CATEGORIES = ["utility", "marketing", "authentication"];
const RESUBMITTABLE = new Set(["rejected", "error"]);
const LABEL_COLOR = "#E8EAED";

export async function showTemplates(panel) {
  replace(panel, loading());
  let data;
  try {
    const [accounts, templates, catalogue] = await Promise.all([
      all("/v1/accounts"),
      all("/v1/templates"),
      api.get("/v1/templates/variables"),
    ]);
    data = { accounts, templates, variables: catalogue.items };
  } catch (error) {
    replace(panel, failure(error));
    return;
  }
  showList(panel, data, "");
}

/** "En attente", "Approuvé", "Rejeté"… in words, the reason beside a rejection. */
export function approvalBadge(approval) {
  return h(
    "span",
    { class: "approval" },
    h("span", { class: `badge approval-${approval.status}` }, t(`approval.${approval.status}`)),
    approval.reason ? h("span", { class: "status-reason" }, approval.reason) : null,
  );
}

function showList(panel, data, accountFilter) {
  const accountName = new Map(data.accounts.map((account) => [account.id, account.name]));
  const reload = () => void showTemplates(panel);
  const open = (template) => showEditor(panel, data, template);
  const filter = select(
    [["", t("templates.all_accounts")], ...data.accounts.map((account) => [account.id, account.name])],
    accountFilter,
    { onchange: (e) => showList(panel, data, e.target.value) },
  );
  const shown = data.templates.filter((template) => !accountFilter || template.account_id === accountFilter);
  replace(
    panel,
    panelHead(
      t("tab.templates"),
      h("button", { type: "button", class: "primary", disabled: !data.accounts.length, onclick: () => open(null) }, t("templates.new")),
    ),
    h("p", { class: "lead" }, t("templates.intro")),
    data.accounts.length ? null : h("p", { class: "notice" }, t("templates.no_account")),
    h("div", { class: "card compact" }, field(t("templates.filter_account"), filter)),
    shown.length
      ? h(
          "div",
          { class: "card table-card" },
          h(
            "table",
            { class: "table" },
            h("caption", { class: "visually-hidden" }, t("templates.table_caption")),
            h(
              "thead",
              {},
              h(
                "tr",
                {},
                [t("templates.col_name"), t("templates.col_account"), t("templates.col_type"), t("templates.col_labels"), t("templates.col_status"), t("templates.col_actions")].map(
                  (label) => h("th", { scope: "col" }, label),
                ),
              ),
            ),
            h(
              "tbody",
              {},
              shown.map((template) =>
                h(
                  "tr",
                  {},
                  h("td", {}, h("button", { type: "button", class: "link-button strong", onclick: () => open(template) }, template.name)),
                  h("td", {}, accountName.get(template.account_id) ?? "—"),
                  h("td", {}, t(`type.${template.type}`)),
                  h("td", {}, template.labels.map((label) => chip(label, LABEL_COLOR))),
                  h("td", {}, approvalBadge(template.approval)),
                  h(
                    "td",
                    { class: "actions" },
                    RESUBMITTABLE.has(template.approval.status)
                      ? h(
                          "button",
                          {
                            type: "button",
                            "aria-label": t("templates.resubmit_named", { name: template.name }),
                            onclick: async () => {
                              await resubmit(template);
                              reload();
                            },
                          },
                          t("templates.resubmit"),
                        )
                      : null,
                    h(
                      "button",
                      {
                        type: "button",
                        class: "danger",
                        "aria-label": t("action.delete_named", { name: template.name }),
                        onclick: async () => {
                          if (!(await confirm(t("templates.delete_confirm", { name: template.name }), t("action.delete")))) return;
                          try {
                            await api.delete(`/v1/templates/${encodeURIComponent(template.id)}`);
                            announce(t("templates.deleted", { name: template.name }));
                          } catch (error) {
                            if (!error.isApiError) throw error;
                            announce(error.message);
                          }
                          reload();
                        },
                      },
                      t("action.delete"),
                    ),
                  ),
                ),
              ),
            ),
          ),
        )
      : h("p", { class: "empty" }, t("templates.none")),
  );
}

async function resubmit(template) {
  try {
    const updated = await api.post(`/v1/templates/${encodeURIComponent(template.id)}/submit`);
    announce(t("templates.resubmitted", { status: t(`approval.${updated.approval.status}`) }));
    return updated;
  } catch (error) {
    if (!error.isApiError) throw error;
    announce(error.message);
    return null;
  }
}

/** The variables of `content`, each once, in order (as the API lists them). */
function variablesOf(content) {
  return [...new Set([...content.matchAll(PLACEHOLDER)].map((match) => match[1]))];
}

/** `content` with each variable that has an example replaced by it; the others listed as missing. */
function renderLocally(content, examples) {
  const missing = [];
  const text = content.replace(PLACEHOLDER, (whole, name) => {
    const value = examples[name]?.trim();
    if (value) return value;
    if (!missing.includes(name)) missing.push(name);
    return whole;
  });
  return { text, missing };
}

/** Put `text` at the cursor of `textarea` (replacing a selection) and leave the cursor after it. */
function insertAtCursor(textarea, text) {
  const start = textarea.selectionStart ?? textarea.value.length;
  const end = textarea.selectionEnd ?? start;
  textarea.setRangeText(text, start, end, "end");
  textarea.focus();
  textarea.dispatchEvent(new Event("input", { bubbles: true }));
}

function showEditor(panel, data, template) {
  let saved = template;
  const examples = { ...(template?.examples ?? {}) };
  let dirty = false;

  const accountOf = (id) => data.accounts.find((account) => account.id === id);
  const account = select(
    data.accounts.map((a) => [a.id, `${a.name} · ${a.address}`]),
    template?.account_id ?? data.accounts[0]?.id,
    { disabled: Boolean(template) },
  );
  const name = h("input", { type: "text", value: template?.name ?? "", autocomplete: "off" });
  const type = select(
    TYPES.map((value) => [value, t(`type.${value}`)]),
    template?.type ?? "reply",
  );
  const labels = h("input", { type: "text", value: (template?.labels ?? []).join(", "), autocomplete: "off" });
  const language = h("input", { type: "text", value: template?.language ?? "", placeholder: "fr, en_US", autocomplete: "off" });
  const category = select(
    [["", t("templates.category_none")], ...CATEGORIES.map((value) => [value, t(`category.${value}`)])],
    template?.category ?? "",
  );
  const content = h("textarea", { rows: "7" });
  content.value = template?.content ?? "";

  const whatsappFields = h(
    "div",
    { class: "row" },
    field(t("templates.language"), language, { path: "language", hint: t("templates.language_hint") }),
    field(t("templates.category"), category, { path: "category" }),
  );
  const showChannelFields = () => {
    whatsappFields.hidden = accountOf(account.value)?.channel !== "whatsapp";
  };
  account.addEventListener("change", showChannelFields);
  showChannelFields();

  const catalogue = h(
    "ul",
    { class: "variable-list", "aria-label": t("templates.variables") },
    data.variables.map((variable) =>
      h(
        "li",
        {},
        h(
          "button",
          {
            type: "button",
            class: "variable",
            "aria-label": t("templates.insert_variable", { name: variable.name }),
            onclick: () => insertAtCursor(content, `{{${variable.name}}}`),
          },
          `{{${variable.name}}}`,
        ),
        h("span", { class: "hint" }, variable.description),
      ),
    ),
  );

  const exampleFields = h("div", { class: "examples" });
  function renderExamples() {
    const used = variablesOf(content.value);
    replace(
      exampleFields,
      used.length
        ? used.map((variable) =>
            field(
              t("templates.example_for", { name: variable }),
              h("input", {
                type: "text",
                value: examples[variable] ?? "",
                autocomplete: "off",
                oninput: (e) => {
                  examples[variable] = e.target.value;
                  dirty = true;
                  void renderPreview();
                },
              }),
              { path: `examples.${variable}` },
            ),
          )
        : h("p", { class: "hint" }, t("templates.no_variables")),
    );
  }

  const preview = h("div", { class: "template-preview", role: "region", "aria-label": t("templates.preview") });
  let previewRun = 0;
  async function renderPreview() {
    const current = ++previewRun;
    let rendered = renderLocally(content.value, examples);
    let source = t("templates.preview_local");
    if (saved && !dirty) {
      try {
        const context = Object.fromEntries(Object.entries(examples).filter(([, value]) => value?.trim()));
        rendered = await api.post(`/v1/templates/${encodeURIComponent(saved.id)}/render`, { context });
        source = t("templates.preview_api");
      } catch (error) {
        if (!error.isApiError) throw error;
      }
    }
    if (current !== previewRun) return; // a newer keystroke already drew it
    replace(
      preview,
      h("div", { class: "preview-head" }, h("h4", {}, t("templates.preview")), h("span", { class: "hint" }, source)),
      h("div", { class: "bubble" }, rendered.text || "—"),
      rendered.missing.length ? h("p", { class: "hint" }, t("templates.missing", { names: rendered.missing.join(", ") })) : null,
    );
  }

  content.addEventListener("input", () => {
    dirty = true;
    renderExamples();
    void renderPreview();
  });

  const status = h("div", { class: "template-status" });
  function renderStatus() {
    if (!saved) return replace(status);
    const resubmitButton = RESUBMITTABLE.has(saved.approval.status)
      ? h(
          "button",
          {
            type: "button",
            onclick: (e) =>
              run(e.target.form, async () => {
                const updated = await api.post(`/v1/templates/${encodeURIComponent(saved.id)}/submit`);
                saved = updated;
                renderStatus();
                announce(t("templates.resubmitted", { status: t(`approval.${updated.approval.status}`) }));
              }),
          },
          t("templates.resubmit"),
        )
      : null;
    return replace(status, h("span", { class: "hint" }, t("templates.approval")), approvalBadge(saved.approval), resubmitButton);
  }
  renderStatus();

  const body = () => {
    const fields = {
      name: name.value.trim(),
      content: content.value,
      labels: labels.value.split(",").map((label) => label.trim()).filter(Boolean),
      type: type.value,
      language: null,
      category: null,
      examples: Object.fromEntries(
        variablesOf(content.value)
          .filter((variable) => examples[variable]?.trim())
          .map((variable) => [variable, examples[variable].trim()]),
      ),
    };
    if (accountOf(account.value)?.channel === "whatsapp") {
      fields.language = valueOrNull(language);
      fields.category = category.value || null;
    }
    return saved ? fields : { account_id: account.value, ...fields };
  };

  const element = form(
    [
      status,
      field(t("templates.account"), account, { path: "account_id", hint: t("templates.account_hint") }),
      h(
        "div",
        { class: "row" },
        field(t("templates.name"), name, { path: "name", hint: t("templates.name_hint") }),
        field(t("templates.type"), type, { path: "type", hint: t("templates.type_hint") }),
      ),
      field(t("templates.labels"), labels, { path: "labels", hint: t("templates.labels_hint") }),
      whatsappFields,
      h(
        "div",
        { class: "editor-grid" },
        h(
          "div",
          {},
          field(t("templates.content"), content, { path: "content", hint: t("templates.content_hint") }),
          group(t("templates.examples"), [h("p", { class: "hint" }, t("templates.examples_hint")), exampleFields], { path: "examples" }),
        ),
        h("div", {}, preview, group(t("templates.variables"), [h("p", { class: "hint" }, t("templates.variables_hint")), catalogue])),
      ),
      h(
        "div",
        { class: "actions" },
        h("button", { type: "button", onclick: () => void showTemplates(panel) }, t("action.back_to_list")),
        h("button", { type: "submit", class: "primary" }, t("templates.save")),
      ),
    ],
    async () => {
      const path = saved ? `/v1/templates/${encodeURIComponent(saved.id)}` : "/v1/templates";
      saved = saved ? await api.patch(path, body()) : await api.post(path, body());
      dirty = false;
      account.disabled = true;
      renderStatus();
      await renderPreview();
      announce(t("templates.saved", { name: saved.name }));
    },
  );
  renderExamples();
  void renderPreview();
  replace(
    panel,
    h("button", { type: "button", class: "link-button back", onclick: () => void showTemplates(panel) }, `← ${t("templates.back")}`),
    card(template ? t("templates.edit_title", { name: template.name }) : t("templates.new_title"), element),
  );
  name.focus();
}
