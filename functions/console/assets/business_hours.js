// An account's business hours: a week grid (several intervals a day, none = closed), the time
// zone, dates off and a country's public holidays. The API judges the hours (HH:MM, 24:00 as an
// end, no overlap); its errors land on the interval they name (`days.monday[1].start`).

import { accountPath, api } from "./api.js";
import { h, replace, select } from "./dom.js";
import { errorTarget, field, form, group } from "./forms.js";
import { language, t } from "./i18n.js";
import { announce } from "./status.js";
import { loadingCard } from "./views.js";

const DAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];
const WEEKDAYS = DAYS.slice(0, 5);
// The two-letter codes of the countries whose public holidays the API knows (python-holidays).
const COUNTRIES = (
  "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV " +
  "BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES " +
  "ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE " +
  "IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY " +
  "MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU " +
  "NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM " +
  "SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE " +
  "VG VI VN VU WF WS XK YE YT ZA ZM ZW"
).split(" ");

export function businessHoursCard(account) {
  return loadingCard(t("hours.title"), async () => {
    const hours = await api.get(accountPath(account.id, "/business-hours"));
    return businessHoursForm(account, hours);
  });
}

function timeZones(current) {
  const zones = new Set(typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : []);
  zones.add("UTC");
  zones.add(current);
  return [...zones].sort();
}

function countryOptions() {
  const names = new Intl.DisplayNames([language()], { type: "region" });
  const named = COUNTRIES.map((code) => [code, `${names.of(code) ?? code} (${code})`]);
  named.sort((a, b) => a[1].localeCompare(b[1], language()));
  return [["", t("hours.no_country")], ...named];
}

function timeInput(value, onInput) {
  return h("input", {
    type: "text",
    class: "time",
    value,
    placeholder: "HH:MM",
    inputmode: "numeric",
    maxlength: "5",
    autocomplete: "off",
    oninput: (event) => onInput(event.target.value.trim()),
  });
}

function businessHoursForm(account, saved) {
  const state = structuredClone(saved);
  for (const day of DAYS) state.days[day] ??= [];
  state.holidays ??= [];

  const dayGroups = new Map();
  function renderDay(day) {
    const dayName = t(`day.${day}`);
    const intervals = state.days[day];
    const rows = intervals.map((interval, index) => {
      const position = index + 1;
      return errorTarget(
        h(
          "div",
          { class: "interval" },
          field(
            t("hours.opens", { day: dayName, n: position }),
            timeInput(interval.start, (v) => {
              interval.start = v;
            }),
            { path: `days.${day}[${index}].start`, hiddenLabel: true },
          ),
          h("span", { class: "interval-dash", "aria-hidden": "true" }, "–"),
          field(
            t("hours.closes", { day: dayName, n: position }),
            timeInput(interval.end, (v) => {
              interval.end = v;
            }),
            { path: `days.${day}[${index}].end`, hiddenLabel: true },
          ),
          h(
            "button",
            {
              type: "button",
              class: "icon-button",
              "aria-label": t("hours.remove_interval", { day: dayName, n: position }),
              onclick: () => {
                intervals.splice(index, 1);
                renderDay(day);
              },
            },
            "×",
          ),
        ),
        `days.${day}[${index}]`,
      );
    });
    replace(
      dayGroups.get(day).querySelector(".day-intervals"),
      rows.length ? rows : h("span", { class: "closed" }, t("hours.closed")),
      h(
        "button",
        {
          type: "button",
          class: "link-button",
          "aria-label": t("hours.add_interval_on", { day: dayName }),
          onclick: () => {
            const last = intervals.at(-1);
            intervals.push(last ? { start: "", end: "" } : { start: "09:00", end: "18:00" });
            renderDay(day);
            dayGroups.get(day).querySelectorAll("input.time")[intervals.length * 2 - 2]?.focus();
          },
        },
        t("hours.add_interval"),
      ),
    );
  }

  const week = h(
    "div",
    { class: "week" },
    DAYS.map((day) => {
      const set = group(t(`day.${day}`), h("div", { class: "day-intervals" }), { path: `days.${day}`, className: "day" });
      dayGroups.set(day, set);
      return set;
    }),
  );
  DAYS.forEach(renderDay);

  const copyMonday = h(
    "button",
    {
      type: "button",
      class: "secondary",
      onclick: () => {
        for (const day of WEEKDAYS.slice(1)) state.days[day] = structuredClone(state.days.monday);
        WEEKDAYS.forEach(renderDay);
        announce(t("hours.copied"));
      },
    },
    t("hours.copy_monday"),
  );

  const holidayList = h("div", { class: "holiday-list" });
  function renderHolidays() {
    replace(
      holidayList,
      state.holidays.length ? null : h("p", { class: "empty" }, t("hours.no_holidays")),
      state.holidays.map((holiday, index) =>
        errorTarget(
          h(
            "div",
            { class: "holiday" },
            field(
              t("hours.holiday_date"),
              h("input", { type: "date", value: holiday.date ?? "", oninput: (e) => (holiday.date = e.target.value) }),
              { path: `holidays[${index}].date` },
            ),
            field(
              t("hours.holiday_name"),
              h("input", {
                type: "text",
                value: holiday.name ?? "",
                oninput: (e) => (holiday.name = e.target.value.trim() || null),
              }),
              { path: `holidays[${index}].name`, hint: t("field.optional") },
            ),
            h(
              "button",
              {
                type: "button",
                class: "icon-button",
                "aria-label": t("hours.remove_holiday", { n: index + 1 }),
                onclick: () => {
                  state.holidays.splice(index, 1);
                  renderHolidays();
                },
              },
              "×",
            ),
          ),
          `holidays[${index}]`,
        ),
      ),
    );
  }
  renderHolidays();

  const zone = select(
    timeZones(state.timezone).map((z) => [z, z]),
    state.timezone,
    { onchange: (e) => (state.timezone = e.target.value) },
  );
  const country = select(countryOptions(), state.holiday_country ?? "", {
    onchange: (e) => (state.holiday_country = e.target.value || null),
  });

  return form(
    [
      h("p", { class: "lead" }, t("hours.intro")),
      field(t("hours.timezone"), zone, { path: "timezone" }),
      h("div", { class: "week-head" }, h("h4", {}, t("hours.week")), copyMonday),
      h("p", { class: "hint" }, t("hours.week_hint")),
      week,
      group(t("hours.holidays"), [
        holidayList,
        h(
          "button",
          {
            type: "button",
            class: "link-button",
            onclick: () => {
              state.holidays.push({ date: "", name: null });
              renderHolidays();
              holidayList.querySelectorAll("input[type=date]")[state.holidays.length - 1]?.focus();
            },
          },
          t("hours.add_holiday"),
        ),
        field(t("hours.country"), country, { path: "holiday_country", hint: t("hours.country_hint") }),
      ], { path: "holidays" }),
      h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, t("hours.save"))),
    ],
    async () => {
      const body = {
        timezone: state.timezone,
        days: state.days,
        holidays: state.holidays.map((holiday) => ({ date: holiday.date, name: holiday.name || null })),
        holiday_country: state.holiday_country || null,
      };
      const stored = await api.put(accountPath(account.id, "/business-hours"), body);
      Object.assign(state, structuredClone(stored));
      DAYS.forEach(renderDay);
      renderHolidays();
      announce(t("hours.saved"));
    },
  );
}
