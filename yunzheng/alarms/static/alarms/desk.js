/* The desk's live count: polls the counts API and flags new alarms (no reload of the list). */
(function () {
  "use strict";
  var box = document.querySelector("[data-counts-url]");
  if (!box || !window.fetch) { return; }
  var url = box.getAttribute("data-counts-url");
  var total = box.querySelector("[data-count=total]");
  var banner = document.querySelector("[data-testid=new-alarms]");
  var seen = total ? parseInt(total.textContent, 10) : 0;
  function pick(data, path) {
    return path.split(".").reduce(function (o, k) { return o == null ? o : o[k]; }, data);
  }
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        box.querySelectorAll("[data-count]").forEach(function (el) {
          var v = pick(data, el.getAttribute("data-count"));
          if (v != null) { el.textContent = v; }
        });
        if (banner && data.total > seen) { banner.hidden = false; }
        document.documentElement.setAttribute("data-alarm-poll", String(Date.now()));
      })
      .catch(function () { /* the next poll tries again */ });
  }
  window.setInterval(poll, parseInt(box.getAttribute("data-interval") || "10000", 10));
  poll();
}());
