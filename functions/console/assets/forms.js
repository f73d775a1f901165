// Labelled fields, and the API's errors shown next to the field they name.
//
// Every control is built with its <label> and an error slot linked by aria-describedby. A field's
// container carries `data-field` with the API's name for it (`name`, `config.imap_host`,
// `days.monday[1].start`): an error detail goes to the container of that name or, failing that,
// of its nearest parent (`days.monday[1]`, then `days.monday`); what matches nothing goes to the
// form's own message.

import { h, uid } from "./dom.js";
import { errorText, t } from "./i18n.js";
import { announce } from "./status.js";

function errorSlot() {
  return h("p", { class: "field-error", id: uid("error"), hidden: true });
}

function describe(control, ...ids) {
  const current = (control.getAttribute("aria-describedby") ?? "").split(" ").filter(Boolean);
  const all = [...new Set([...current, ...ids])];
  control.setAttribute("aria-describedby", all.join(" "));
}

/**
 * A label, its control, an optional hint and the error slot. `path` is the API's name of the field.
 * The control gets an id if it has none.
 */
export function field(labelText, control, { path, hint, className, hiddenLabel } = {}) {
  control.id ||= uid("field");
  const error = errorSlot();
  const hintElement = hint ? h("p", { class: "hint", id: uid("hint") }, hint) : null;
  describe(control, ...(hintElement ? [hintElement.id] : []), error.id);
  const row = h(
    "div",
    { class: className ? `field ${className}` : "field" },
    h("label", { for: control.id, class: hiddenLabel ? "visually-hidden" : null }, labelText),
    control,
    hintElement,
    error,
  );
  if (path) row.dataset.field = path;
  return row;
}

/** A checkbox with its label after it, and its error slot. */
export function checkbox(labelText, input, { path } = {}) {
  input.id ||= uid("field");
  const error = errorSlot();
  describe(input, error.id);
  const row = h("div", { class: "field checkbox" }, input, h("label", { for: input.id }, labelText), error);
  if (path) row.dataset.field = path;
  return row;
}

/** A <fieldset> whose legend names a group of controls; errors naming the group go to its slot. */
export function group(legendText, children, { path, className } = {}) {
  const set = h(
    "fieldset",
    { class: className ? `group ${className}` : "group" },
    h("legend", {}, legendText),
    children,
    errorSlot(),
  );
  if (path) set.dataset.field = path;
  return set;
}

/** An element (a list row) that receives the errors naming `path`; its error slot is added last. */
export function errorTarget(element, path) {
  element.dataset.field = path;
  element.append(errorSlot());
  return element;
}

/**
 * A <form> (browser validation off: the API is the one judge) with its message area. `onSubmit`
 * gets the form; while it runs the form's buttons are disabled; an ApiError it throws is shown on
 * the form. Returns the form.
 */
export function form(children, onSubmit, props = {}) {
  const message = h("div", { class: "form-message", role: "alert", hidden: true });
  const element = h("form", { novalidate: true, ...props }, message, children);
  element.addEventListener("submit", (event) => {
    event.preventDefault();
    void run(element, () => onSubmit(element));
  });
  return element;
}

/** Run `action` for `form`: errors cleared first, buttons disabled meanwhile, ApiErrors shown. */
export async function run(formElement, action) {
  clearErrors(formElement);
  const buttons = [...formElement.querySelectorAll("button")].filter((b) => !b.disabled);
  buttons.forEach((b) => {
    b.disabled = true;
  });
  try {
    return await action();
  } catch (error) {
    if (!error.isApiError) throw error;
    showErrors(formElement, error);
    return undefined;
  } finally {
    buttons.forEach((b) => {
      b.disabled = false;
    });
  }
}

function parentPath(path) {
  const parent = path.replace(/(\.[^.[\]]+|\[\d+\])$/, "");
  return parent === path ? "" : parent;
}

function containerFor(formElement, path) {
  for (let p = path; p; p = parentPath(p)) {
    const found = formElement.querySelector(`[data-field="${CSS.escape(p)}"]`);
    if (found) return found;
  }
  return null;
}

function mark(container, text) {
  const slot = container.querySelector(":scope > .field-error");
  slot.hidden = false;
  slot.append(h("span", {}, text));
  for (const control of container.querySelectorAll("input, select, textarea")) {
    control.setAttribute("aria-invalid", "true");
    describe(control, slot.id);
  }
}

/** Show an ApiError: each detail next to its field, the rest in the form's message. */
export function showErrors(formElement, error) {
  clearErrors(formElement);
  const loose = [];
  let first = null;
  for (const detail of error.details ?? []) {
    const container = containerFor(formElement, detail.field ?? "");
    if (container) {
      mark(container, detail.message);
      first ??= container;
    } else {
      loose.push(detail.field ? `${detail.field}: ${detail.message}` : detail.message);
    }
  }
  const lines = first && !loose.length ? [t("form.fix_marked")] : loose.length ? loose : [errorText(error)];
  formMessage(formElement, lines, "error");
  announce(lines.join(" "));
  first?.querySelector("input, select, textarea")?.focus();
}

/** Put `lines` in the form's message area (kind "error" or "success"). */
export function formMessage(formElement, lines, kind) {
  const message = formElement.querySelector(":scope > .form-message");
  message.replaceChildren(...lines.map((line) => h("p", {}, line)));
  message.className = `form-message ${kind}`;
  message.hidden = false;
}

export function clearErrors(formElement) {
  for (const slot of formElement.querySelectorAll(".field-error")) {
    slot.replaceChildren();
    slot.hidden = true;
  }
  for (const control of formElement.querySelectorAll("[aria-invalid]")) control.removeAttribute("aria-invalid");
  const message = formElement.querySelector(":scope > .form-message");
  if (message) {
    message.replaceChildren();
    message.hidden = true;
  }
}

/** Trimmed value of a control, or null when empty (the API's "not given"). */
export function valueOrNull(control) {
  const value = control.value.trim();
  return value === "" ? null : value;
}

/** Up, down and remove buttons for item `index` of `items`, redrawn by `render`. */
export function orderButtons(items, index, render, what) {
  const move = (to) => () => {
    const [item] = items.splice(index, 1);
    items.splice(to, 0, item);
    render();
  };
  return h(
    "div",
    { class: "order-buttons" },
    h("button", { type: "button", class: "icon-button", "aria-label": t("order.up", { what }), disabled: index === 0, onclick: move(index - 1) }, "↑"),
    h(
      "button",
      { type: "button", class: "icon-button", "aria-label": t("order.down", { what }), disabled: index === items.length - 1, onclick: move(index + 1) },
      "↓",
    ),
    h(
      "button",
      {
        type: "button",
        class: "icon-button",
        "aria-label": t("order.remove", { what }),
        onclick: () => {
          items.splice(index, 1);
          render();
        },
      },
      "×",
    ),
  );
}
