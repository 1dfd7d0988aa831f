// Progressive enhancement only: count down before another code may be requested.
// (A static file, not inline: the Content-Security-Policy allows scripts from our origin only.)
(function () {
  "use strict";
  var button = document.querySelector('[data-testid="send-code"][data-wait]');
  if (!button) { return; }
  var left = parseInt(button.getAttribute("data-wait"), 10), label = button.textContent;
  button.disabled = true;
  var tick = function () {
    if (left <= 0) { button.disabled = false; button.textContent = label; return; }
    button.textContent = label + " (" + left + "s)"; left -= 1; window.setTimeout(tick, 1000);
  };
  tick();
})();
