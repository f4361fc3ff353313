// Autocomplete for the site's search box: ways to finish the last word, from /api/search/suggestions/.
// An enhancement only: without it the box and the search page work the same.
(function () {
  "use strict";
  var input = document.getElementById("site-search-q");
  if (!input || !window.fetch) { return; }
  var list = document.createElement("datalist");
  list.id = "site-search-suggestions";
  input.parentNode.appendChild(list);
  input.setAttribute("list", list.id);
  input.setAttribute("autocomplete", "off");
  var timer = null;
  var asked = "";
  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () {
      var text = input.value;
      if (text.trim().length < 2 || text === asked) { return; }
      asked = text;
      fetch("/api/search/suggestions/?q=" + encodeURIComponent(text), { headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : { suggestions: [] }; })
        .then(function (body) {
          if (input.value !== text) { return; }
          list.replaceChildren.apply(list, body.suggestions.map(function (suggestion) {
            var option = document.createElement("option");
            option.value = suggestion;
            return option;
          }));
        })
        .catch(function () { /* no suggestions: the box still searches */ });
    }, 150);
  });
})();
