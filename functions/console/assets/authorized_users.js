// Who may see and answer an account's conversations (admins always can).

import { accountPath, api } from "./api.js";
import { h } from "./dom.js";
import { checkbox, form, group } from "./forms.js";
import { t } from "./i18n.js";
import { announce } from "./status.js";
import { loadingCard } from "./views.js";

export function authorizedUsersCard(account, team) {
  return loadingCard(t("users.title"), async () => {
    const saved = await api.get(accountPath(account.id, "/authorized-users"));
    return usersForm(account, team, new Set(saved.user_ids));
  });
}

/** One checkbox per team member; `chosen` (a Set of ids) follows the boxes. */
export function teamCheckboxes(team, chosen) {
  const boxes = team.map((user) =>
    checkbox(
      `${user.name} · ${user.email}${user.active === false ? ` (${t("team.inactive")})` : ""}`,
      h("input", {
        type: "checkbox",
        checked: chosen.has(user.id),
        onchange: (e) => (e.target.checked ? chosen.add(user.id) : chosen.delete(user.id)),
      }),
    ),
  );
  return boxes.length ? h("div", { class: "checkbox-list" }, boxes) : h("p", { class: "empty" }, t("team.none"));
}

function usersForm(account, team, chosen) {
  return form(
    [
      h("p", { class: "lead" }, t("users.intro")),
      group(t("users.legend"), teamCheckboxes(team, chosen), { path: "user_ids" }),
      team.length ? h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, t("users.save"))) : null,
    ],
    async () => {
      await api.put(accountPath(account.id, "/authorized-users"), { user_ids: [...chosen] });
      announce(t("users.saved"));
    },
  );
}
