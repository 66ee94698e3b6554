// The rep's queue: SLA countdowns that tick, and accept / reject without leaving the page.
// Without this script the countdowns show the time left when the page was served and the forms post normally.
(function () {
  "use strict";
  const loadedAt = Date.now();

  // The same words as duration_words() and left_words() in handoffs/sla.py.
  function durationWords(hours, business) {
    const minutes = Math.floor(Math.abs(hours) * 60 + 0.5);
    const kind = business ? "business " : "";
    if (minutes === 0) return "";
    if (minutes < 60) return minutes + " " + kind + "minute" + (minutes !== 1 ? "s" : "");
    const whole = Math.floor(Math.abs(hours) + 0.5);
    return whole + " " + kind + "hour" + (whole !== 1 ? "s" : "");
  }

  function leftWords(leftHours, overdue, business) {
    if (overdue) {
      const words = durationWords(-Math.min(leftHours, 0), business);
      return words ? "overdue by " + words : "overdue";
    }
    const words = durationWords(Math.max(leftHours, 0), business);
    return words ? words + " left" : "less than a minute left";
  }

  // How much of the clock ran in the first `elapsed` ms since the page was served: all of it on a 24x7 clock, only
  // the working hours (the windows the server listed, in ms from then) on a business-hours clock.
  function clockRan(el, elapsed) {
    if (el.dataset.windows === undefined) return elapsed;
    if (!el.windowSpans) el.windowSpans = JSON.parse(el.dataset.windows);
    return el.windowSpans.reduce(
      (total, span) => total + Math.max(0, Math.min(span[1], elapsed) - Math.max(span[0], 0)),
      0
    );
  }

  function tick() {
    const elapsed = Date.now() - loadedAt;
    document.querySelectorAll("time.countdown[data-left-ms]").forEach((el) => {
      // Counted from the server's figures, so a wrong clock on this machine does not move the deadline.
      const left = Number(el.dataset.leftMs) - clockRan(el, elapsed);
      const overdue = elapsed > Number(el.dataset.dueInMs);
      const words = el.querySelector(".countdown-left");
      if (words) words.textContent = leftWords(left / 3600000, overdue, el.dataset.business === "1");
      if (overdue) {
        el.classList.add("text-danger", "fw-semibold");
        const card = el.closest("article.handoff");
        if (card) {
          card.classList.add("border-danger", "handoff-overdue");
          const badge = card.querySelector(".overdue-badge");
          if (badge) badge.hidden = false;
        }
      }
    });
  }

  function showMessage(text, level) {
    const box = document.getElementById("queue-messages");
    if (!box) return;
    const alert = document.createElement("div");
    alert.className = "alert alert-" + level;
    alert.setAttribute("role", "alert");
    alert.textContent = text;
    box.prepend(alert);
  }

  function showErrors(form, errors) {
    form.querySelectorAll("[data-error-for]").forEach((el) => {
      const field = el.dataset.errorFor;
      const input = form.querySelector("[name='" + field + "']");
      const problems = (errors && errors[field]) || [];
      el.textContent = problems.join(" ");
      if (input) input.classList.toggle("is-invalid", problems.length > 0);
    });
  }

  function removeCard(card) {
    card.remove();
    const count = document.getElementById("queue-count");
    if (count) count.textContent = String(Math.max(0, Number(count.textContent) - 1));
    const empty = document.getElementById("queue-empty");
    if (empty && !document.querySelector("article.handoff")) empty.hidden = false;
  }

  function submit(event) {
    const form = event.currentTarget;
    const card = form.closest("article.handoff");
    if (!card || !window.fetch) return; // the form posts normally
    event.preventDefault();
    const buttons = card.querySelectorAll("button");
    const enable = (on) => buttons.forEach((b) => (b.disabled = !on));
    enable(false);
    fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    })
      .then((response) =>
        response
          .json()
          .catch(() => ({}))
          .then((data) => ({ response, data }))
      )
      .then(({ response, data }) => {
        if (response.ok) {
          showMessage(data.message, "success");
          removeCard(card);
        } else if (response.status === 409) {
          showMessage(data.message, "warning"); // already decided: nothing left to do here
          removeCard(card);
        } else if (response.status === 400) {
          showErrors(form, data.errors);
          showMessage(data.message, "danger");
          enable(true);
        } else {
          showMessage(data.message || "Nothing changed (error " + response.status + "): reload the page.", "danger");
          enable(true);
        }
      })
      .catch(() => {
        showMessage("The server could not be reached: nothing changed. Try again.", "danger");
        enable(true);
      });
  }

  document.querySelectorAll("form.handoff-action").forEach((form) => form.addEventListener("submit", submit));

  // A note is needed when the reason is "other".
  document.querySelectorAll("select.handoff-reason").forEach((select) => {
    const note = select.form.querySelector(".handoff-note");
    const update = () => {
      if (note) note.required = select.value === "other";
    };
    select.addEventListener("change", update);
    update();
  });

  tick();
  window.setInterval(tick, 1000);
})();
