// Live pages: when the server reports a match, a checked upload or tournament progress,
// fetch this page again and swap its <main> in place. No library; server-rendered HTML.
(function () {
  "use strict";
  if (!window.EventSource || !document.body.dataset.live) return;
  var pending = null;
  function refresh() {
    pending = null;
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
  ["match", "submission", "tournament"].forEach(function (kind) {
    events.addEventListener(kind, soon);
  });
})();
