// Live refresh of the dashboard: every N seconds (the operator's pick, kept in localStorage) the
// page body is fetched again as a fragment and swapped in. It pauses while the tab is hidden or
// the operator is typing in a form field, so a filter being edited is never overwritten.
(function () {
  "use strict";
  var key = "fieldwork.dashboard.refresh";
  var picker = document.getElementById("refresh-interval");
  var live = document.getElementById("live");
  if (!picker || !live) { return; }
  var seconds = parseInt(window.localStorage.getItem(key) || "5", 10);
  picker.value = String(seconds);
  if (picker.value !== String(seconds)) { seconds = 5; picker.value = "5"; }
  var timer = null;
  var busy = false;

  function typing() {
    var el = document.activeElement;
    return !!el && (el.tagName === "INPUT" || el.tagName === "TEXTAREA" || el.tagName === "SELECT") && el !== picker;
  }

  function fragmentURL() {
    var url = new URL(window.location.href);
    url.searchParams.set("fragment", "1");
    url.searchParams.delete("done");
    return url.toString();
  }

  function refresh() {
    if (busy || document.hidden || typing()) { return; }
    busy = true;
    fetch(fragmentURL(), { credentials: "same-origin", redirect: "follow", headers: { "Accept": "text/html" } })
      .then(function (response) {
        if (response.redirected) { window.location.assign(response.url); return null; }
        return response.ok ? response.text() : null;
      })
      .then(function (html) {
        // The server escaped every value; the policy forbids inline script, so none of it runs.
        if (html !== null && !typing()) { live.innerHTML = html; }
      })
      .catch(function () {})
      .then(function () { busy = false; });
  }

  function schedule() {
    if (timer) { window.clearInterval(timer); timer = null; }
    if (seconds > 0) { timer = window.setInterval(refresh, seconds * 1000); }
  }

  picker.addEventListener("change", function () {
    seconds = parseInt(picker.value, 10) || 0;
    window.localStorage.setItem(key, String(seconds));
    schedule();
  });
  document.addEventListener("visibilitychange", function () { if (!document.hidden) { refresh(); } });
  schedule();
})();
