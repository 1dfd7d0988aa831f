// Phones: the header's links fold into a menu behind one button. Without JavaScript the menu
// simply stays open (the CSS hides it only when this script has marked the page).
(function () {
  var toggle = document.querySelector(".menu-toggle");
  var menu = document.getElementById("site-menu");
  if (!toggle || !menu) { return; }
  document.documentElement.classList.add("js-menu");
  toggle.addEventListener("click", function () {
    var open = toggle.getAttribute("aria-expanded") !== "true";
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
    menu.classList.toggle("open", open);
  });
})();
