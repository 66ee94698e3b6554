// Page behaviour that used to live in inline handlers, moved here so the Content-Security-Policy can forbid
// inline script (script-src 'self') and inline style (style-src 'self'). Loaded on every page by base.html.
//   data-select-all="<selector>" on a checkbox: ticking it ticks or unticks every checkbox the selector finds.
//   data-confirm="<question>" on a form: the form is sent only if the user confirms the question.
//   data-progress-width="<0..100>" on a progress bar: its width in percent (a style="" attribute would be blocked).
(function () {
  "use strict";

  document.addEventListener("click", (event) => {
    const master = event.target.closest("input[type=checkbox][data-select-all]");
    if (!master) return;
    document.querySelectorAll(master.dataset.selectAll).forEach((box) => {
      box.checked = master.checked;
    });
  });

  document.addEventListener("submit", (event) => {
    const form = event.target.closest("form[data-confirm]");
    if (form && !window.confirm(form.dataset.confirm)) event.preventDefault();
  });

  // Setting element.style from a script is allowed by style-src 'self'; only style="" in the HTML is refused.
  document.querySelectorAll("[data-progress-width]").forEach((bar) => {
    const percent = Math.max(0, Math.min(100, Number(bar.dataset.progressWidth) || 0));
    bar.style.width = percent + "%";
  });
})();
