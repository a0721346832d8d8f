/* A resume link (/s/<survey>/resume#7KQ2-M9XD-4HRT) carries its code after the '#', the one
   part of an address a browser never sends: no server or proxy log can hold it. This puts the
   code into the resume form, which the resident then submits, and takes it out of the address
   bar and the history. Without JavaScript the resident types the code (it is on the same
   "finish later" page as the link). No inline script: CSP friendly. */
(function () {
  "use strict";
  var form = document.querySelector("form[data-resume-form]");
  var hash = window.location.hash;
  if (!form || hash.length < 2) { return; }
  var input = form.querySelector("input[name=code]");
  var code = "";
  try { code = decodeURIComponent(hash.slice(1)); } catch (e) { code = ""; }
  code = code.replace(/[^0-9A-Za-z -]/g, "").slice(0, 24);
  if (input && code && !input.value) {
    input.value = code;
    var button = form.querySelector("button[type=submit]");
    if (button) { button.focus(); }
  }
  if (window.history && window.history.replaceState) {
    window.history.replaceState(null, "", window.location.pathname + window.location.search);
  }
})();
