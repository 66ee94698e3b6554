// The KPI dashboard's cards: the page paints at once with a placeholder per KPI, then each card is fetched from
// its data-kpi-card URL (an HTML fragment) and put in place as soon as it is computed, a few at a time so the
// server is not flooded. A card that fails says so and keeps its link to the KPI's own page.
(function () {
  "use strict";
  const cards = Array.from(document.querySelectorAll("[data-kpi-card]"));
  const AT_ONCE = 3;
  let next = 0;

  function fill(card) {
    return fetch(card.dataset.kpiCard, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then((response) => response.text().then((html) => ({ ok: response.ok, html })))
      .then(({ ok, html }) => {
        if (!ok) throw new Error(html);
        card.innerHTML = html;
        card.dataset.kpiState = "done";
        if (window.drawCharts) window.drawCharts(card);
      })
      .catch(() => {
        const pending = card.querySelector("[data-kpi-pending]");
        if (pending) {
          pending.className = "text-danger small mb-0";
          pending.textContent = "Could not compute this figure just now: reload the page, or open the KPI.";
        }
        card.dataset.kpiState = "failed";
      })
      .finally(() => card.removeAttribute("aria-busy"));
  }

  function work() {
    if (next >= cards.length) return Promise.resolve();
    return fill(cards[next++]).then(work);
  }

  for (let i = 0; i < AT_ONCE; i++) work();
})();
