// The Labels tab: name, description and colour, shown as the coloured chips conversations carry.

import { all, api } from "./api.js";
import { confirm } from "./dialogs.js";
import { chip, h, replace } from "./dom.js";
import { field, form, valueOrNull } from "./forms.js";
import { t } from "./i18n.js";
import { announce } from "./status.js";
import { card, failure, loading, panelHead } from "./views.js";

const DEFAULT_COLOR = "#9E9E9E";

export async function showLabels(panel) {
  replace(panel, loading());
  let labels;
  try {
    labels = await all("/v1/labels");
  } catch (error) {
    replace(panel, failure(error));
    return;
  }
  const editorArea = h("div");
  const reload = () => void showLabels(panel);
  const edit = (label) => {
    replace(editorArea, labelEditor(label, reload, () => replace(editorArea)));
    editorArea.querySelector("input")?.focus();
  };
  replace(
    panel,
    panelHead(t("tab.labels"), h("button", { type: "button", class: "primary", onclick: () => edit(null) }, t("labels.new"))),
    h("p", { class: "lead" }, t("labels.intro")),
    editorArea,
    card(
      t("labels.list"),
      labels.length
        ? h(
            "ul",
            { class: "item-list" },
            labels.map((label) =>
              h(
                "li",
                { class: "item" },
                h(
                  "div",
                  { class: "item-main" },
                  chip(label.name, label.color),
                  label.description ? h("span", { class: "hint" }, label.description) : null,
                ),
                h(
                  "div",
                  { class: "actions" },
                  h("button", { type: "button", "aria-label": t("action.edit_named", { name: label.name }), onclick: () => edit(label) }, t("action.edit")),
                  h(
                    "button",
                    {
                      type: "button",
                      class: "danger",
                      "aria-label": t("action.delete_named", { name: label.name }),
                      onclick: async () => {
                        if (!(await confirm(t("labels.delete_confirm", { name: label.name }), t("action.delete")))) return;
                        try {
                          await api.delete(`/v1/labels/${encodeURIComponent(label.id)}`);
                          announce(t("labels.deleted", { name: label.name }));
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
          )
        : h("p", { class: "empty" }, t("labels.none")),
    ),
  );
}

function labelEditor(label, saved, cancel) {
  const name = h("input", { type: "text", value: label?.name ?? "", autocomplete: "off", maxlength: "64" });
  const description = h("textarea", { rows: "2" });
  description.value = label?.description ?? "";
  const color = h("input", { type: "color", value: (label?.color ?? DEFAULT_COLOR).toLowerCase() });
  const sample = h("div", { class: "chip-sample", "aria-hidden": "true" });
  const drawSample = () => replace(sample, chip(name.value.trim() || t("labels.sample"), color.value.toUpperCase()));
  name.addEventListener("input", drawSample);
  color.addEventListener("input", drawSample);
  drawSample();
  const element = form(
    [
      field(t("labels.name"), name, { path: "name", hint: t("labels.name_hint") }),
      field(t("labels.description"), description, { path: "description", hint: t("labels.description_hint") }),
      h("div", { class: "row align-end" }, field(t("labels.color"), color, { path: "color" }), sample),
      h(
        "div",
        { class: "actions" },
        h("button", { type: "button", onclick: cancel }, t("action.cancel")),
        h("button", { type: "submit", class: "primary" }, t("labels.save")),
      ),
    ],
    async () => {
      const body = { name: name.value.trim(), description: valueOrNull(description), color: color.value.toUpperCase() };
      const stored = label
        ? await api.patch(`/v1/labels/${encodeURIComponent(label.id)}`, body)
        : await api.post("/v1/labels", body);
      announce(t(label ? "labels.updated" : "labels.created", { name: stored.name }));
      saved();
    },
  );
  element.classList.add("narrow");
  return card(label ? t("labels.edit_title", { name: label.name }) : t("labels.new_title"), element);
}
