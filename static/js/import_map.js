// The import mapping page: when a field's column changes, show a few values of the newly chosen column beside it.
(function () {
  "use strict";
  document.querySelectorAll("select.column-choice").forEach(function (select) {
    select.addEventListener("change", function () {
      const cell = document.getElementById(select.dataset.samples);
      const option = select.options[select.selectedIndex];
      if (cell) cell.textContent = (option && option.dataset.samples) || "";
    });
  });
})();
