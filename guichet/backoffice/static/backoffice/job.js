// A staff job's page, while the job runs: read its status every few seconds and update the progress in
// place (without JavaScript, a <noscript> refresh reloads the page instead). When the job ends, the link to
// the result appears and takes focus once, so that the change is announced and reachable.
(function () {
  "use strict";
  var box = document.getElementById("job");
  if (!box || box.getAttribute("data-job-active") !== "1") return;
  var url = box.getAttribute("data-job-status");
  var bar = document.getElementById("job-progress");
  var count = box.querySelector("[data-job-count]");
  var label = document.querySelector("[data-job-label]");
  var done = box.querySelector("[data-job-done]");

  function show(status) {
    if (label) label.textContent = status.label;
    if (bar && status.total) {
      bar.max = status.total;
      bar.value = status.done;
      bar.textContent = status.percent + " %";
    }
    // The server's own sentence, in the reader's language.
    if (count) count.textContent = status.text;
    if (!status.active && done) {
      done.hidden = false;
      done.querySelector("a").focus();
    }
    return status.active;
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (status) {
        if (status === null || show(status)) window.setTimeout(poll, 2000);
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 1000);
})();
