// An account's auto-reply: on or off, the triggers in the order they are tried (each with its
// message), and the cooldown that keeps two autoresponders from answering each other forever.

import { accountPath, api } from "./api.js";
import { h, replace, select } from "./dom.js";
import { checkbox, errorTarget, field, form, group, orderButtons } from "./forms.js";
import { t } from "./i18n.js";
import { announce } from "./status.js";
import { loadingCard } from "./views.js";

const TRIGGERS = ["outside_business_hours", "first_contact", "always"];

export function autoReplyCard(account) {
  return loadingCard(t("autoreply.title"), async () => {
    const settings = await api.get(accountPath(account.id, "/auto-reply"));
    return autoReplyForm(account, settings);
  });
}

function autoReplyForm(account, saved) {
  const state = structuredClone(saved);
  const enabled = h("input", { type: "checkbox", checked: state.enabled, onchange: (e) => (state.enabled = e.target.checked) });
  const cooldown = h("input", {
    type: "number",
    min: "0",
    max: "43200",
    inputmode: "numeric",
    value: String(state.cooldown_minutes),
    oninput: (e) => (state.cooldown_minutes = e.target.value === "" ? null : Number(e.target.value)),
  });
  const list = h("ol", { class: "rule-list" });
  function render() {
    replace(
      list,
      state.rules.map((rule, index) => {
        const what = t("autoreply.reply_n", { n: index + 1 });
        const trigger = select(
          TRIGGERS.map((value) => [value, t(`trigger.${value}`)]),
          rule.trigger,
          { onchange: (e) => (rule.trigger = e.target.value) },
        );
        const message = h("textarea", { rows: "3", oninput: (e) => (rule.message = e.target.value) });
        message.value = rule.message;
        return errorTarget(
          h(
            "li",
            { class: "rule" },
            h("div", { class: "rule-head" }, h("strong", {}, what), orderButtons(state.rules, index, render, what)),
            field(t("autoreply.trigger"), trigger, { path: `rules[${index}].trigger` }),
            field(t("autoreply.message"), message, { path: `rules[${index}].message` }),
          ),
          `rules[${index}]`,
        );
      }),
    );
    if (!state.rules.length) list.append(h("li", { class: "empty" }, t("autoreply.none")));
  }
  render();
  const add = h(
    "button",
    {
      type: "button",
      class: "secondary",
      onclick: () => {
        const unused = TRIGGERS.find((trigger) => !state.rules.some((rule) => rule.trigger === trigger)) ?? "always";
        state.rules.push({ trigger: unused, message: "" });
        render();
        list.querySelectorAll("select")[state.rules.length - 1]?.focus();
      },
    },
    t("autoreply.add"),
  );
  return form(
    [
      h("p", { class: "lead" }, t("autoreply.intro")),
      checkbox(t("autoreply.enabled"), enabled, { path: "enabled" }),
      group(t("autoreply.rules"), [h("p", { class: "hint" }, t("autoreply.rules_hint")), list, add], { path: "rules" }),
      field(t("autoreply.cooldown"), cooldown, { path: "cooldown_minutes", hint: t("autoreply.cooldown_hint") }),
      h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, t("autoreply.save"))),
    ],
    async () => {
      const stored = await api.put(accountPath(account.id, "/auto-reply"), state);
      Object.assign(state, structuredClone(stored));
      render();
      announce(t("autoreply.saved"));
    },
  );
}
