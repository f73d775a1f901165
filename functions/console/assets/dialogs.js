// Modal dialogs (<dialog>, which keeps the focus inside and closes on Escape) and the confirmation
// asked before anything is deleted.

import { h, uid } from "./dom.js";
import { t } from "./i18n.js";

/** Open a modal titled `title` holding `content`; returns {dialog, close}. Closing removes it. */
export function openDialog(title, content, { onClose } = {}) {
  const titleId = uid("dialog-title");
  const dialog = h(
    "dialog",
    { class: "dialog", "aria-labelledby": titleId },
    h(
      "div",
      { class: "dialog-head" },
      h("h2", { id: titleId }, title),
      h("button", { type: "button", class: "icon-button", "aria-label": t("action.close"), onclick: () => close() }, "×"),
    ),
    h("div", { class: "dialog-body" }, content),
  );
  const opener = document.activeElement;
  function close() {
    dialog.close();
  }
  dialog.addEventListener("close", () => {
    dialog.remove();
    onClose?.();
    if (opener instanceof HTMLElement && opener.isConnected) opener.focus();
  });
  document.body.append(dialog);
  dialog.showModal();
  return { dialog, close };
}

/** Ask `question`; resolves true when `confirmLabel` is chosen. */
export function confirm(question, confirmLabel) {
  return new Promise((resolve) => {
    let answer = false;
    const { close } = openDialog(
      t("confirm.title"),
      [
        h("p", {}, question),
        h(
          "div",
          { class: "actions" },
          h("button", { type: "button", onclick: () => close() }, t("action.cancel")),
          h(
            "button",
            {
              type: "button",
              class: "danger",
              onclick: () => {
                answer = true;
                close();
              },
            },
            confirmLabel,
          ),
        ),
      ],
      { onClose: () => resolve(answer) },
    );
  });
}
