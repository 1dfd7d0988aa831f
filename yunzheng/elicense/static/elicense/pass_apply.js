// The traffic-pass application form: the defaults follow the chosen pass type. Each <option>
// carries its type's longest validity, decision time and proposed time windows (rendered by the
// server, which also fills the first type's defaults, so the form works without this script).
// Changing the type sets "valid until" to its longest validity from "valid from", proposes its
// time windows and vehicle task unless the applicant wrote or chose their own, and updates the
// hint under the type.
(function () {
  "use strict";
  var form = document.querySelector("form[data-pass-form]");
  if (!form) { return; }
  var type = form.querySelector("select[name=pass_type]");
  var from = form.querySelector("input[name=valid_from]");
  var until = form.querySelector("input[name=valid_until]");
  var windows = form.querySelector("input[name=time_windows]");
  var task = form.querySelector("select[name=vehicle_task]");
  if (!type || !from || !until || !windows) { return; }

  var chosen = function () { return type.options[type.selectedIndex] || null; };
  var addDays = function (iso, days) {
    var day = new Date(iso + "T00:00:00Z");
    if (isNaN(day.getTime())) { return ""; }
    day.setUTCDate(day.getUTCDate() + days);
    return day.toISOString().slice(0, 10);
  };
  var showHint = function (option) {
    var spans = { "validity-days": option.dataset.validityDays, "decision-days": option.dataset.decisionDays };
    Object.keys(spans).forEach(function (key) {
      var span = form.querySelector("[data-hint=" + key + "]");
      if (span && spans[key]) { span.textContent = spans[key]; }
    });
  };
  var setValidity = function (option) {
    var days = parseInt(option.dataset.validityDays, 10);
    if (from.value && days > 0) {
      var last = addDays(from.value, days - 1);
      if (last) { until.value = last; }
    }
  };

  var proposed = chosen() ? (chosen().dataset.timeWindows || "") : "";
  var proposedTask = chosen() ? (chosen().dataset.vehicleTask || "") : "";
  if (chosen()) { showHint(chosen()); }
  type.addEventListener("change", function () {
    var option = chosen();
    if (!option) { return; }
    setValidity(option);
    // Only replace windows the form proposed (or none): never what the applicant typed.
    if (!windows.value.trim() || windows.value === proposed) {
      windows.value = option.dataset.timeWindows || "";
    }
    proposed = option.dataset.timeWindows || "";
    // The same for the task: only a task the form proposed (or none) follows the type.
    if (task && (!task.value || task.value === proposedTask)) {
      task.value = option.dataset.vehicleTask || "";
    }
    proposedTask = option.dataset.vehicleTask || "";
    showHint(option);
  });
  from.addEventListener("change", function () {
    if (chosen()) { setValidity(chosen()); }
  });
}());
