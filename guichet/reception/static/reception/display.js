// The waiting-room screen: replace the list of calls each time the server sends it (server-sent events).
// Without JavaScript, or if EventSource is missing, the page reloads itself (meta refresh in <noscript>).
(function () {
  "use strict";
  var list = document.getElementById("called");
  if (!list || !window.EventSource) {
    if (list) { window.setTimeout(function () { window.location.reload(); }, 10000); }
    return;
  }
  var source = new EventSource(list.getAttribute("data-events"));
  source.onmessage = function (event) {
    list.innerHTML = event.data;
  };
})();
