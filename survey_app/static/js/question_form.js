/* The staff question form: show only the settings of the type chosen (each group of settings names
   the types that use it in data-types), and the display-logic rules only when rules are chosen.
   Without JavaScript everything is shown, each group naming its types. No inline script. */
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

  // The display-logic rules only when "Only when the rules below hold" is chosen.
  var rules = document.querySelector(".logic-builder .rules");
  var modes = document.querySelectorAll("input[name=logic_mode]");
  function showRules() {
    var chosen = document.querySelector("input[name=logic_mode]:checked");
    if (rules) { rules.hidden = !chosen || chosen.value !== "rules"; }
  }
  modes.forEach(function (mode) { mode.addEventListener("change", showRules); });
  showRules();
})();
