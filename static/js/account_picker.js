// The account picker of the territory form (templates/territories/territory_form.html): a search box that finds
// accounts by name or domain over a small JSON endpoint, and the list of chosen accounts, each a hidden input.
//   [data-account-picker]: one picker; data-search-url answers {results: [{id, name, domain, territory}]};
//     data-field-name names the hidden inputs.
//   [data-picker-search]: the search box (Enter searches at once rather than sending the form).
//   [data-picker-results]: the results, each an "Add" button; [data-picker-chosen]: the chosen accounts.
//   [data-picker-remove]: removes its account from the chosen list.
(function () {
  "use strict";

  const WAIT_MS = 250;

  function chosenIds(picker) {
    return new Set(
      Array.from(picker.querySelectorAll("[data-picker-chosen] [data-picker-item]")).map((item) => item.dataset.pickerItem)
    );
  }

  function refreshEmpty(picker) {
    const empty = picker.querySelector("[data-picker-empty]");
    if (empty) empty.hidden = chosenIds(picker).size > 0;
  }

  function describe(account) {
    return [account.domain, account.territory ? "in " + account.territory : "in no territory"].filter(Boolean).join(" · ");
  }

  function choose(picker, account) {
    if (chosenIds(picker).has(String(account.id))) return;
    const template = picker.querySelector("template[data-picker-template]");
    const list = picker.querySelector("[data-picker-chosen]");
    if (!template || !list) return;
    const item = template.content.firstElementChild.cloneNode(true);
    item.dataset.pickerItem = String(account.id);
    const label = item.querySelector("[data-picker-label]");
    label.textContent = account.name;
    if (account.domain) {
      const domain = document.createElement("span");
      domain.className = "text-muted small";
      domain.textContent = " " + account.domain;
      label.appendChild(domain);
    }
    const input = item.querySelector("input[type=hidden]");
    input.name = picker.dataset.fieldName;
    input.value = String(account.id);
    item.querySelector("[data-picker-remove]").setAttribute("aria-label", "Remove " + account.name);
    list.appendChild(item);
    refreshEmpty(picker);
  }

  function show(picker, results, text) {
    const box = picker.querySelector("[data-picker-results]");
    const status = picker.querySelector("[data-picker-status]");
    box.replaceChildren();
    const chosen = chosenIds(picker);
    results.forEach((account) => {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "list-group-item list-group-item-action d-flex justify-content-between align-items-center py-1";
      button.dataset.pickerAdd = String(account.id);
      const name = document.createElement("span");
      name.textContent = account.name;
      const detail = document.createElement("span");
      detail.className = "small text-muted";
      detail.textContent = chosen.has(String(account.id)) ? "named" : describe(account) + " · Add";
      button.append(name, detail);
      button.disabled = chosen.has(String(account.id));
      button.addEventListener("click", () => {
        choose(picker, account);
        button.disabled = true;
        detail.textContent = "named";
      });
      button.pickerDetail = detail;
      button.pickerAccount = account;
      box.appendChild(button);
    });
    if (status) {
      if (text.length < 2) status.textContent = "";
      else if (!results.length) status.textContent = "No account's name or domain holds “" + text + "”.";
      else status.textContent = results.length + (results.length === 1 ? " account" : " accounts") + " found: Add names one here.";
    }
  }

  function search(picker) {
    const input = picker.querySelector("[data-picker-search]");
    const text = input.value.trim();
    if (text.length < 2) {
      show(picker, [], text);
      return;
    }
    const url = picker.dataset.searchUrl + "?q=" + encodeURIComponent(text);
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then((response) => {
        // A refused or failed search is said as one, not shown as "no account found".
        if (!response.ok) throw new Error("search answered " + response.status);
        return response.json();
      })
      .then((data) => {
        if (input.value.trim() === text) show(picker, data.results || [], text);
      })
      .catch(() => {
        if (input.value.trim() !== text) return; // a newer search is on its way
        picker.querySelector("[data-picker-results]").replaceChildren();
        const status = picker.querySelector("[data-picker-status]");
        if (status) status.textContent = "The search did not answer; try again.";
      });
  }

  document.querySelectorAll("[data-account-picker]").forEach((picker) => {
    const input = picker.querySelector("[data-picker-search]");
    let timer = null;
    input.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(() => search(picker), WAIT_MS);
    });
    input.addEventListener("keydown", (event) => {
      if (event.key !== "Enter") return;
      event.preventDefault();
      clearTimeout(timer);
      search(picker);
    });
    picker.addEventListener("click", (event) => {
      const remove = event.target.closest("[data-picker-remove]");
      if (!remove) return;
      const item = remove.closest("[data-picker-item]");
      const id = item.dataset.pickerItem;
      item.remove();
      refreshEmpty(picker);
      // A result already shown for this account may be added again.
      picker.querySelectorAll("[data-picker-results] [data-picker-add]").forEach((button) => {
        if (button.dataset.pickerAdd !== id || !button.pickerAccount) return;
        button.disabled = false;
        button.pickerDetail.textContent = describe(button.pickerAccount) + " · Add";
      });
    });
    refreshEmpty(picker);
  });
})();
