// Tag autocomplete: fills the add-tag box's <datalist> with existing tags while typing.
// The form works without it; this only saves typing and steers people to tags in use.
(function () {
  "use strict";
  var DELAY_MS = 150;
  var SUGGESTIONS = 8;

  function enhance(input) {
    var list = document.getElementById(input.getAttribute("list"));
    var source = input.getAttribute("data-tag-autocomplete");
    if (!list || !source || !window.fetch) {
      return;
    }
    var timer = null;
    var latest = "";

    function show(names) {
      while (list.firstChild) {
        list.removeChild(list.firstChild);
      }
      names.forEach(function (name) {
        var option = document.createElement("option");
        option.value = name;
        list.appendChild(option);
      });
    }

    function lookUp(typed) {
      var url = source + "?page_size=" + SUGGESTIONS + "&q=" + encodeURIComponent(typed);
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          return response.ok ? response.json() : { results: [] };
        })
        .then(function (data) {
          if (typed === latest) {
            show((data.results || []).map(function (tag) { return tag.name; }));
          }
        })
        .catch(function () {
          show([]); // no suggestions is fine: the form still works
        });
    }

    input.addEventListener("input", function () {
      latest = input.value.trim();
      window.clearTimeout(timer);
      if (!latest) {
        show([]);
        return;
      }
      timer = window.setTimeout(function () { lookUp(latest); }, DELAY_MS);
    });
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("input[data-tag-autocomplete]"), enhance);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
