/* The staff question form: show only the settings of the type chosen (each group of settings names
   the types that use it in data-types). Without JavaScript every group is shown, each naming its
   types. No inline script: CSP friendly. */
(function () {
  "use strict";
  var type = document.getElementById("type");
  if (!type) { return; }
  var groups = document.querySelectorAll("fieldset.type-settings[data-types]");
  function show() {
    groups.forEach(function (group) {
      group.hidden = group.getAttribute("data-types").split(" ").indexOf(type.value) < 0;
    });
  }
  type.addEventListener("change", show);
  show();
})();
