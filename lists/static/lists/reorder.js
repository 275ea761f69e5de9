// Drag to reorder the items of one's own list (the ↑/↓ buttons do the same without scripts).
// The new order of the page's items is POSTed to the list's reorder URL.
(function () {
  "use strict";
  function csrfToken(root) {
    var input = root.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }
  function setUp(list) {
    var dragged = null;
    list.addEventListener("dragstart", function (e) {
      dragged = e.target.closest("li[data-item-id]");
      if (dragged) { dragged.classList.add("dragging"); e.dataTransfer.effectAllowed = "move"; }
    });
    list.addEventListener("dragover", function (e) {
      var over = e.target.closest("li[data-item-id]");
      if (!dragged || !over || over === dragged) return;
      e.preventDefault();
      var box = over.getBoundingClientRect();
      var after = e.clientY > box.top + box.height / 2;
      list.insertBefore(dragged, after ? over.nextSibling : over);
    });
    list.addEventListener("dragend", function () {
      if (!dragged) return;
      dragged.classList.remove("dragging");
      dragged = null;
      var body = new URLSearchParams();
      list.querySelectorAll("li[data-item-id]").forEach(function (li) {
        body.append("item", li.dataset.itemId);
      });
      fetch(list.dataset.reorderUrl, {
        method: "POST",
        headers: { "X-CSRFToken": csrfToken(list) },
        body: body,
        credentials: "same-origin"
      }).then(function (r) { if (!r.ok) { window.location.reload(); } });
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("ol[data-reorder-url]").forEach(setUp);
  });
})();
