// The licence page's "Print" button (no onclick attribute: the Content-Security-Policy refuses
// inline event handlers).
(function () {
  "use strict";
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
})();
