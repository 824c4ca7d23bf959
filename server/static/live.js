// Live pages: when the server reports a match, a checked upload or tournament progress,
// fetch this page again and swap its <main> in place. No library; server-rendered HTML.
(function () {
  "use strict";
  if (!window.EventSource || !document.body.dataset.live) return;
  var pending = null;
  function refresh() {
    pending = null;
    var file = document.querySelector("#live input[type=file]");
    if (file && file.files && file.files.length) return; // never drop a file being chosen
    fetch(window.location.href, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (!html) return;
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("live");
        var here = document.getElementById("live");
        if (fresh && here) here.replaceChildren.apply(here, Array.from(fresh.childNodes));
      })
      .catch(function () {});
  }
  function soon() { if (!pending) pending = setTimeout(refresh, 1000); }
  var events = new EventSource("/api/events");
  // Whatever happened between this page's render and the stream's start (or a
  // reconnect) has no event of its own: fetch the page once when the stream opens.
  events.addEventListener("open", soon);
  // data-live names the events this page shows ("match submission tournament").
  document.body.dataset.live.split(" ").forEach(function (kind) {
    events.addEventListener(kind, soon);
  });
})();
