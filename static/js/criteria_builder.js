// The criterion builder (templates/accounts/_criteria_builder.html): rows of criteria edited in a page.
//   [data-criteria-builder="<prefix>"]: one builder, holding its formset's management form.
//   [data-criteria-add]: adds a row, copied from the builder's <template data-criteria-template>.
//   [data-criteria-remove]: marks its row removed (the row's hidden DELETE field) and hides it.
//   The attribute picker offers only the operators that apply to the attribute's type, and the value box hints at
//   what the operator takes ("a, b, c", "low, high").
// Loaded by the partial itself, possibly more than once on a page: it sets itself up once.
(function () {
  "use strict";
  if (window.criteriaBuilderReady) return;
  window.criteriaBuilderReady = true;

  function readJson(text) {
    try {
      return JSON.parse(text || "{}");
    } catch (error) {
      return {};
    }
  }

  function refresh(builder) {
    const shown = builder.querySelectorAll("[data-criteria-rows] > [data-criteria-row]:not([hidden])");
    const empty = builder.querySelector("[data-criteria-empty]");
    if (empty) empty.hidden = shown.length > 0;
  }

  // Only the operators that apply to the chosen attribute stay selectable; the current choice is never taken away
  // on load (the server says why it does not apply), only when the attribute changes.
  function fitOperators(row, builder, attributeChanged) {
    const attribute = row.querySelector("select[name$='-attribute']");
    const operator = row.querySelector("select[name$='-operator']");
    if (!attribute || !operator) return;
    const option = attribute.selectedOptions[0];
    const kinds = readJson(builder.dataset.operatorKinds);
    const allowed = option && option.dataset.kind ? kinds[option.dataset.kind] : null;
    Array.from(operator.options).forEach((choice) => {
      choice.disabled = Boolean(allowed) && !allowed.includes(choice.value) && !(choice.selected && !attributeChanged);
    });
    if (attributeChanged && operator.selectedOptions[0] && operator.selectedOptions[0].disabled) {
      const first = Array.from(operator.options).find((choice) => !choice.disabled);
      if (first) operator.value = first.value;
    }
    hintValue(row, builder);
  }

  function hintValue(row, builder) {
    const operator = row.querySelector("select[name$='-operator']");
    const value = row.querySelector("input[name$='-value']");
    if (!operator || !value) return;
    const hints = readJson(builder.dataset.valueHints);
    value.placeholder = hints[operator.value] || "value";
  }

  function addRow(builder) {
    const prefix = builder.dataset.criteriaBuilder;
    const total = builder.querySelector("input[name='" + prefix + "-TOTAL_FORMS']");
    const template = builder.querySelector("template[data-criteria-template]");
    const rows = builder.querySelector("[data-criteria-rows]");
    if (!total || !template || !rows) return;
    const index = Number(total.value) || 0;
    rows.insertAdjacentHTML("beforeend", template.innerHTML.replace(/__prefix__/g, String(index)));
    total.value = String(index + 1);
    const row = rows.lastElementChild;
    fitOperators(row, builder, false);
    refresh(builder);
    const first = row.querySelector("select, input:not([type=hidden])");
    if (first) first.focus();
  }

  function removeRow(row) {
    const builder = row.closest("[data-criteria-builder]");
    const removed = row.querySelector("input[name$='-DELETE']");
    if (removed) removed.value = "on";
    row.hidden = true;
    if (builder) {
      refresh(builder);
      const add = builder.querySelector("[data-criteria-add]");
      if (add) add.focus();
    }
  }

  document.addEventListener("click", (event) => {
    const add = event.target.closest("[data-criteria-add]");
    if (add) {
      const builder = add.closest("[data-criteria-builder]");
      if (builder) addRow(builder);
      return;
    }
    const remove = event.target.closest("[data-criteria-remove]");
    if (remove) {
      const row = remove.closest("[data-criteria-row]");
      if (row) removeRow(row);
    }
  });

  document.addEventListener("change", (event) => {
    const row = event.target.closest("[data-criteria-row]");
    const builder = event.target.closest("[data-criteria-builder]");
    if (!row || !builder) return;
    if (event.target.matches("select[name$='-attribute']")) fitOperators(row, builder, true);
    else if (event.target.matches("select[name$='-operator']")) hintValue(row, builder);
  });

  function setUp() {
    document.querySelectorAll("[data-criteria-builder]").forEach((builder) => {
      builder.querySelectorAll("[data-criteria-rows] > [data-criteria-row]").forEach((row) => {
        fitOperators(row, builder, false);
      });
      refresh(builder);
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setUp);
  else setUp();
})();
