// An account's assignment rules: an ordered list (the first rule that finds someone wins), each
// with its parameters and what to do when it finds no one.

import { accountPath, api } from "./api.js";
import { h, replace, select } from "./dom.js";
import { errorTarget, field, form, group, orderButtons } from "./forms.js";
import { t } from "./i18n.js";
import { announce } from "./status.js";
import { loadingCard } from "./views.js";

const RULE_TYPES = ["customer_sales_rep", "customer_custom_field", "last_assigned_user", "team_brand", "load_balanced", "random"];
const FALLBACKS = ["next_rule", "unassigned", "assign_user"];

// The parameters of each rule type (the API's *Params models): name, input type, required.
const PARAMS = {
  customer_custom_field: [{ name: "field", type: "text", labelKey: "rules.param_field", hintKey: "rules.param_field_hint" }],
  last_assigned_user: [{ name: "within_days", type: "number", labelKey: "rules.param_within_days", hintKey: "rules.param_within_days_hint" }],
  team_brand: [{ name: "brand", type: "text", labelKey: "rules.param_brand", hintKey: "rules.param_brand_hint" }],
};

export function assignmentRulesCard(account, team) {
  return loadingCard(t("rules.title"), async () => {
    const saved = await api.get(accountPath(account.id, "/assignment-rules"));
    return rulesForm(account, team, saved);
  });
}

function paramInput(rule, param) {
  const value = rule.params[param.name];
  const input = h("input", {
    type: param.type,
    value: value === undefined || value === null ? "" : String(value),
    min: param.type === "number" ? "1" : null,
    inputmode: param.type === "number" ? "numeric" : null,
    autocomplete: "off",
    oninput: (e) => {
      const raw = e.target.value.trim();
      if (raw === "") delete rule.params[param.name];
      else rule.params[param.name] = param.type === "number" ? Number(raw) : raw;
    },
  });
  return input;
}

function rulesForm(account, team, saved) {
  const state = structuredClone(saved);
  for (const rule of state.rules) {
    rule.params ??= {};
    rule.fallback ??= { action: "next_rule", user_id: null };
  }
  const people = team.filter((user) => user.active !== false);
  const list = h("ol", { class: "rule-list" });

  function ruleItem(rule, index) {
    const what = t("rules.rule_n", { n: index + 1 });
    const type = select(
      RULE_TYPES.map((value) => [value, t(`rule.${value}`)]),
      rule.type,
      {
        onchange: (e) => {
          rule.type = e.target.value;
          rule.params = {}; // each type has its own parameters
          render();
          list.querySelectorAll("li.rule")[index]?.querySelector("select")?.focus();
        },
      },
    );
    const action = select(
      FALLBACKS.map((value) => [value, t(`fallback.${value}`)]),
      rule.fallback.action,
      {
        onchange: (e) => {
          rule.fallback.action = e.target.value;
          if (rule.fallback.action !== "assign_user") rule.fallback.user_id = null;
          else rule.fallback.user_id ??= people[0]?.id ?? null;
          render();
          list.querySelectorAll("li.rule")[index]?.querySelectorAll("select")[1]?.focus();
        },
      },
    );
    const fallbackUser =
      rule.fallback.action === "assign_user"
        ? field(
            t("rules.fallback_user"),
            select(
              people.length ? people.map((user) => [user.id, `${user.name} (${user.email})`]) : [["", t("team.none")]],
              rule.fallback.user_id ?? "",
              { onchange: (e) => (rule.fallback.user_id = e.target.value || null) },
            ),
            { path: `rules[${index}].fallback.user_id` },
          )
        : null;
    return errorTarget(
      h(
        "li",
        { class: "rule" },
        h("div", { class: "rule-head" }, h("strong", {}, what), orderButtons(state.rules, index, render, what)),
        field(t("rules.type"), type, { path: `rules[${index}].type`, hint: t(`rule.${rule.type}_hint`) }),
        (PARAMS[rule.type] ?? []).map((param) =>
          field(t(param.labelKey), paramInput(rule, param), { path: `rules[${index}].params.${param.name}`, hint: t(param.hintKey) }),
        ),
        errorTarget(
          h(
            "div",
            { class: "fallback" },
            h(
              "div",
              { class: "row" },
              field(t("rules.fallback"), action, { path: `rules[${index}].fallback.action` }),
              fallbackUser,
            ),
          ),
          `rules[${index}].fallback`,
        ),
      ),
      `rules[${index}]`,
    );
  }

  function render() {
    replace(list, state.rules.map(ruleItem));
    if (!state.rules.length) list.append(h("li", { class: "empty" }, t("rules.none")));
  }
  render();

  const add = h(
    "button",
    {
      type: "button",
      class: "secondary",
      onclick: () => {
        state.rules.push({ type: "customer_sales_rep", params: {}, fallback: { action: "next_rule", user_id: null } });
        render();
        list.querySelectorAll("li.rule")[state.rules.length - 1]?.querySelector("select")?.focus();
      },
    },
    t("rules.add"),
  );
  return form(
    [
      h("p", { class: "lead" }, t("rules.intro")),
      group(t("rules.list"), [list, add], { path: "rules" }),
      h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, t("rules.save"))),
    ],
    async () => {
      const body = {
        rules: state.rules.map((rule) => ({
          type: rule.type,
          params: rule.params,
          fallback: rule.fallback.action === "assign_user" ? rule.fallback : { action: rule.fallback.action },
        })),
      };
      const stored = await api.put(accountPath(account.id, "/assignment-rules"), body);
      state.rules = structuredClone(stored.rules);
      for (const rule of state.rules) {
        rule.params ??= {};
        rule.fallback ??= { action: "next_rule", user_id: null };
      }
      render();
      announce(t("rules.saved"));
    },
  );
}
