// Building the page with createElement and textContent only: nothing the API or a person typed is
// ever parsed as HTML.

let lastId = 0;

/** A page-unique id, for label `for`, aria-labelledby and aria-describedby. */
export function uid(prefix = "id") {
  lastId += 1;
  return `${prefix}-${lastId}`;
}

/**
 * h("button", {class: "primary", onclick: save}, "Save"): an element with its properties and
 * children. Keys starting with "on" add listeners; `class`, `text`, `data` and `aria-*`/other
 * attributes are set as such; booleans set or leave out an attribute; strings among the
 * children become text nodes; null and false children are skipped.
 */
export function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(props ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      element.addEventListener(key.slice(2), value);
    } else if (key === "class") {
      element.className = value;
    } else if (key === "text") {
      element.textContent = value;
    } else if (key === "data") {
      Object.assign(element.dataset, value);
    } else if (key === "value" || key === "checked" || key === "selected") {
      element[key] = value;
    } else if (value === true) {
      element.setAttribute(key, "");
    } else {
      element.setAttribute(key, String(value));
    }
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replace an element's children. */
export function replace(element, ...children) {
  element.replaceChildren();
  append(element, children);
  return element;
}

/** A `<select>` of [value, label] pairs with `selected` chosen. */
export function select(options, selected, props = {}) {
  return h(
    "select",
    props,
    options.map(([value, label]) => h("option", { value, selected: value === selected }, label)),
  );
}

/** Black or white, whichever reads better on `background` (#RRGGBB): at least 4.5:1 for any colour. */
export function textColorOn(background) {
  const channel = (hex) => {
    const c = parseInt(hex, 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  const [r, g, b] = [1, 3, 5].map((i) => channel(background.slice(i, i + 2)));
  const luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b;
  // Contrast with black is (L + 0.05) / 0.05, with white 1.05 / (L + 0.05): pick the larger.
  return (luminance + 0.05) / 0.05 >= 1.05 / (luminance + 0.05) ? "#000000" : "#FFFFFF";
}

/** A coloured chip (a label, a status): text colour chosen for contrast. */
export function chip(text, color, props = {}) {
  const background = /^#[0-9A-Fa-f]{6}$/.test(color) ? color : "#9E9E9E";
  const element = h("span", { class: "chip", ...props }, text);
  element.style.background = background;
  element.style.color = textColorOn(background);
  return element;
}
