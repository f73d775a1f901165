// How an account's status and provider read on the page.

import { h } from "./dom.js";
import { t } from "./i18n.js";

/** Actif / Erreur / En pause, in words (the chip's colour only repeats them). */
export function statusChip(account) {
  return h("span", { class: `status status-${account.status}` }, t(`status.${account.status}`));
}

export function providerName(provider) {
  return t(`provider.${provider}`);
}
