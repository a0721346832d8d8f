/* Display logic in the browser: hide questions and pages whose condition does not hold.
   The server applies the same rules (questionnaire/logic.py) and is what counts; without
   JavaScript every question is shown and answers to hidden ones are ignored.
   No inline script: conditions come from data-condition attributes (CSP friendly). */
(function () {
  "use strict";
  // An error summary takes the focus, so that keyboard and screen-reader users hear it first.
  var summary = document.querySelector(".error-summary");
  if (summary) { summary.focus(); }

  // Printing the results opens every breakdown, so that the printout has all the tables.
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("details").forEach(function (d) { d.open = true; });
  });

  var form = document.querySelector("form[data-logic-form]");
  if (!form) { return; }

  // How to read an answer off a question's widget: its type says (data-answer, from
  // questionnaire/question_types/: QuestionType.browser_answer).
  function answerOf(box) {
    var how = box.getAttribute("data-answer");
    if (how === "several") {
      var codes = [];
      box.querySelectorAll("input[type=checkbox]:checked").forEach(function (i) { codes.push(Number(i.dataset.code)); });
      return codes.length ? codes : null;
    }
    if (how === "one") {
      var checked = box.querySelector("input[type=radio]:checked");
      return checked ? Number(checked.dataset.code) : null;
    }
    if (how === "select") {
      var select = box.querySelector("select");
      var option = select && select.options[select.selectedIndex];
      return option && option.dataset.code ? Number(option.dataset.code) : null;
    }
    var input = box.querySelector("input, textarea");
    if (!input || !input.value.trim()) { return null; }
    if (how === "number") {
      // Digit grouping as the server reads it (types.check_number): 1,000,000 / 1.000.000 / 1 000;
      // one group after a comma or point is a decimal where decimals are allowed (2,500 is 2.5).
      var text = input.value.trim();
      var grouped = /^[+-]?\d{1,3}([,. \u00a0\u202f])\d{3}(?:\1\d{3})*$/.exec(text);
      if (grouped && (input.inputMode === "numeric" || ",.".indexOf(grouped[1]) < 0 ||
                      text.split(grouped[1]).length > 2)) {
        text = text.replace(/[,. \u00a0\u202f]/g, "");
      }
      var n = Number(text.replace(",", "."));
      return isNaN(n) ? null : n;
    }
    return input.value;
  }

  function evaluate(condition, answers) {
    if (!condition) { return true; }
    if (condition.all) { return condition.all.every(function (c) { return evaluate(c, answers); }); }
    if (condition.any) { return condition.any.some(function (c) { return evaluate(c, answers); }); }
    if (condition.not) { return !evaluate(condition.not, answers); }
    var value = answers[condition.question];
    var answered = value !== null && value !== undefined && value !== "";
    if ("answered" in condition) { return answered === condition.answered; }
    if (!answered) { return false; }
    var list = Array.isArray(value) ? value : [value];
    if (condition["in"]) { return list.some(function (v) { return condition["in"].indexOf(v) >= 0; }); }
    if (condition.any_of) { return list.some(function (v) { return condition.any_of.indexOf(v) >= 0; }); }
    if (typeof value === "number") {
      if ("min" in condition && value < condition.min) { return false; }
      if ("max" in condition && value > condition.max) { return false; }
      return true;
    }
    return false;
  }

  function parse(element) {
    var text = element.getAttribute("data-condition");
    try { return text ? JSON.parse(text) : null; } catch (e) { return null; }
  }

  // Answers on earlier pages (the server sends what display logic needs, as codes).
  var known = {};
  try { known = JSON.parse(form.getAttribute("data-answers") || "{}") || {}; } catch (e) { known = {}; }

  function update() {
    var answers = Object.assign({}, known);
    form.querySelectorAll(".survey-page").forEach(function (page) {
      var pageShown = evaluate(parse(page), answers);
      page.hidden = !pageShown;
      page.querySelectorAll("[data-question]").forEach(function (box) {
        var inHidden = box.parentElement && box.parentElement.closest("[hidden]");
        var shown = pageShown && !inHidden && evaluate(parse(box), answers);
        box.hidden = !shown;
        answers[box.getAttribute("data-question")] = shown ? answerOf(box) : null;
      });
    });
  }

  form.addEventListener("change", update);
  form.addEventListener("input", update);
  update();
}());
