/* Coding page (staff/coding.html): keys 1 to 9 tick or untick the themes shown with that
   number; Enter (on the page or a theme) saves and goes on to the next answer. Not while typing in
   a field. */
(function () {
  "use strict";
  var form = document.querySelector("form[data-coding]");
  if (!form) { return; }
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    if (target && (target.tagName === "INPUT" && target.type !== "checkbox" || target.tagName === "TEXTAREA" ||
                   target.tagName === "SELECT")) { return; }
    var box = form.querySelector('input[data-key="' + event.key + '"]');
    if (box) {
      box.checked = !box.checked;
      box.focus();
      event.preventDefault();
    } else if (event.key === "Enter" && (!target || target === document.body || target.type === "checkbox")) {
      // Only from the page itself or a theme: Enter on a link or button does what it says.
      form.querySelector('button[value="save"]').click();
      event.preventDefault();
    }
  });
  form.setAttribute("data-keys-ready", "");  // the keys work from here on (tests wait for it)
}());
