/* Guichet — optional improvements. Every page works without this file. */
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    // Take keyboard and screen-reader users straight to the list of mistakes after a refused form.
    var summary = document.querySelector("[data-error-summary]");
    if (summary) { summary.focus(); }
    // "Copy the link" buttons, shown only where copying can work.
    if (navigator.clipboard) {
      document.querySelectorAll("[data-copy-target]").forEach(function (button) {
        var target = document.getElementById(button.getAttribute("data-copy-target"));
        if (!target) { return; }
        button.hidden = false;
        button.addEventListener("click", function () {
          navigator.clipboard.writeText(target.textContent.trim()).then(function () {
            var done = button.getAttribute("data-copied");
            if (done) { button.textContent = done; }
          });
        });
      });
    }
    // The countdown of a slot held in open mode; the page still says the time without it.
    var deadline = document.querySelector("[data-hold-expires]");
    if (deadline) {
      var ends = Date.parse(deadline.getAttribute("data-hold-expires"));
      var output = document.querySelector("[data-hold-remaining]");
      var tick = function () {
        var seconds = Math.max(0, Math.round((ends - Date.now()) / 1000));
        if (output) { output.textContent = Math.floor(seconds / 60) + ":" + String(seconds % 60).padStart(2, "0"); }
        if (seconds > 0) { window.setTimeout(tick, 1000); }
      };
      tick();
    }
  });
})();
