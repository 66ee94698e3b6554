// Live progress bars: poll /api/v1/jobs/{id}/ for every unfinished job on the page.
(function () {
  "use strict";
  const rows = Array.from(document.querySelectorAll("[data-job-id]"));
  const labels = { queued: "Queued", running: "Running", succeeded: "Succeeded", failed: "Failed" };

  function update(el, job) {
    const percent = job.status === "succeeded" ? 100 : (job.total ? Math.min(100, Math.floor((100 * job.done) / job.total)) : 0);
    const bar = el.querySelector(".progress-bar");
    const outer = el.querySelector(".progress");
    if (bar) {
      bar.style.width = percent + "%";
      bar.textContent = percent + "%";
      bar.classList.toggle("bg-success", job.status === "succeeded");
      bar.classList.toggle("bg-danger", job.status === "failed");
      bar.classList.toggle("progress-bar-striped", job.status === "running");
      bar.classList.toggle("progress-bar-animated", job.status === "running");
    }
    if (outer) outer.setAttribute("aria-valuenow", String(percent));
    const count = el.querySelector(".job-count");
    if (count) count.textContent = job.done + (job.total ? " / " + job.total : "");
    const status = el.querySelector(".job-status");
    if (status) status.textContent = labels[job.status] || job.status;
  }

  function poll(el) {
    const id = el.dataset.jobId;
    fetch("/api/v1/jobs/" + id + "/", { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then((r) => (r.ok ? r.json() : Promise.reject(r.status)))
      .then((job) => {
        update(el, job);
        if (job.status === "succeeded" || job.status === "failed") {
          if (el.dataset.reloadOnFinish) window.location.reload();
        } else {
          window.setTimeout(() => poll(el), 1000);
        }
      })
      .catch(() => window.setTimeout(() => poll(el), 5000));
  }

  rows.filter((el) => el.dataset.jobFinished !== "1").forEach(poll);
})();
