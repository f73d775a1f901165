// Pieces every tab uses: a card, the loading line, a load failure, a panel's heading row.

import { h, uid } from "./dom.js";
import { errorText, t } from "./i18n.js";

/** A <section> card titled `title` (a region named by its heading). */
export function card(title, ...children) {
  const id = uid("card-title");
  return h("section", { class: "card", "aria-labelledby": id }, h("h3", { id }, title), children);
}

/** A panel's heading with its actions on the right. */
export function panelHead(title, ...actions) {
  return h("div", { class: "panel-head" }, h("h2", {}, title), h("div", { class: "actions" }, actions));
}

export function loading() {
  return h("p", { class: "loading" }, t("page.loading"));
}

/** What a view shows when it could not load (a 401 or 403 has already taken over the page). */
export function failure(error) {
  if (!error?.isApiError) throw error;
  return h("p", { class: "notice error", role: "alert" }, t("error.load_failed"), " ", errorText(error));
}

/** Local date and time of an ISO instant, in the page's language. */
export function when(iso) {
  return iso ? new Date(iso).toLocaleString(document.documentElement.lang, { dateStyle: "medium", timeStyle: "short" }) : "—";
}

/** A card that shows "Loading…" until `load()` gives its content (or fails). */
export function loadingCard(title, load) {
  const body = h("div", {}, loading());
  load().then(
    (content) => body.replaceChildren(...[content].flat()),
    (error) => body.replaceChildren(failure(error)),
  );
  return card(title, body);
}
