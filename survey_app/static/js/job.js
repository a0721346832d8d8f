/* A background job's page (staff/job.html): asks how far the job has got and shows it; when
   the job has finished, reloads the page, which then shows the outcome. The numbers are not
   announced to screen readers at every change, only each new phase (the status line below).
   No inline script: CSP friendly. */
(function () {
  "use strict";
  var box = document.querySelector("[data-job-state]");
  if (!box || !window.fetch) { return; }
  var url = box.getAttribute("data-job-state");
  var phase = document.getElementById("job-phase");
  var bar = document.getElementById("job-progress");
  var announce = document.getElementById("job-announce");
  var noWorker = document.getElementById("job-no-worker");
  var lastPhase = null;
  var delay = 1000;

  function number(n) { return n.toLocaleString("en-US"); }

  function show(state) {
    if (state.finished) { window.location.reload(); return true; }
    var text = state.status === "queued" ? "Waiting for the job worker to start it."
      : state.phase + (state.total ? ": " + number(state.done) + " of " + number(state.total) : "") + ".";
    phase.textContent = text;
    if (state.total) { bar.max = state.total; bar.value = state.done; }
    if (state.phase !== lastPhase) { announce.textContent = state.status === "queued" ? text : state.phase; lastPhase = state.phase; }
    noWorker.hidden = !state.no_worker;
    return false;
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { if (!response.ok) { throw new Error(response.status); } return response.json(); })
      .then(function (state) { if (!show(state)) { delay = Math.min(delay * 1.2, 5000); setTimeout(poll, delay); } })
      .catch(function () { delay = Math.min(delay * 2, 15000); setTimeout(poll, delay); });
  }
  setTimeout(poll, delay);
})();
