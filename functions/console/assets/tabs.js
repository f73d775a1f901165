// A tab list as WAI-ARIA describes it: buttons with role="tab" and aria-selected, one in the Tab
// order, the arrow keys (and Home, End) moving to and selecting the next tab.

import { h } from "./dom.js";

/**
 * `tabs`: [{id, label}]. `onSelect(id, panel)` fills the tab's panel each time it is selected.
 * Returns {list, panels, select(id)}: the tab list and the panels' container, to place on the page.
 */
export function tabList(tabs, onSelect, { label, orientation = "horizontal" } = {}) {
  const list = h("div", { role: "tablist", "aria-label": label, "aria-orientation": orientation });
  const panels = h("div", { class: "tab-panels" });
  const buttons = new Map();
  const panelOf = new Map();

  for (const tab of tabs) {
    const button = h(
      "button",
      {
        type: "button",
        role: "tab",
        id: `tab-${tab.id}`,
        "aria-controls": `panel-${tab.id}`,
        "aria-selected": "false",
        tabindex: "-1",
        onclick: () => select(tab.id),
      },
      tab.label,
    );
    const panel = h("div", {
      role: "tabpanel",
      id: `panel-${tab.id}`,
      "aria-labelledby": button.id,
      tabindex: "0",
      hidden: true,
    });
    buttons.set(tab.id, button);
    panelOf.set(tab.id, panel);
    list.append(button);
    panels.append(panel);
  }

  list.addEventListener("keydown", (event) => {
    const ids = tabs.map((tab) => tab.id);
    const current = ids.indexOf(document.activeElement?.id?.replace(/^tab-/, ""));
    if (current < 0) return;
    const next = {
      ArrowRight: current + 1,
      ArrowDown: current + 1,
      ArrowLeft: current - 1,
      ArrowUp: current - 1,
      Home: 0,
      End: ids.length - 1,
    }[event.key];
    if (next === undefined) return;
    event.preventDefault();
    const id = ids[(next + ids.length) % ids.length];
    select(id);
    buttons.get(id).focus();
  });

  function select(id) {
    for (const [tabId, button] of buttons) {
      const selected = tabId === id;
      button.setAttribute("aria-selected", String(selected));
      button.tabIndex = selected ? 0 : -1;
      panelOf.get(tabId).hidden = !selected;
    }
    onSelect(id, panelOf.get(id));
  }

  return { list, panels, select };
}
