// Long work after a submit (OCR of an ID photo, uploads, PDF rendering): a form marked with
// data-busy-text says so beside its button and cannot be sent twice while the page waits.
(function () {
  "use strict";
  document.querySelectorAll("form[data-busy-text]").forEach(function (form) {
    form.addEventListener("submit", function () {
      var button = form.querySelector("button[type=submit], button:not([type])");
      var note = document.createElement("span");
      note.className = "busy-indicator";
      note.setAttribute("role", "status");
      note.setAttribute("data-testid", "busy");
      note.textContent = form.getAttribute("data-busy-text");
      if (button) {
        button.insertAdjacentElement("afterend", note);
        // Disabled after the browser has taken the button's value into the submission.
        window.setTimeout(function () { button.disabled = true; }, 0);
      } else {
        form.appendChild(note);
      }
    });
  });
})();
