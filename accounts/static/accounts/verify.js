// Counts down the "send a new code" cooldown and enables the button when it ends.
(function () {
  var note = document.getElementById("resend-wait");
  var button = document.getElementById("resend-button");
  if (!note || !button) return;
  var left = parseInt(note.getAttribute("data-wait"), 10) || 0;
  var counter = note.querySelector(".countdown");
  var timer = setInterval(function () {
    left -= 1;
    if (left <= 0) {
      clearInterval(timer);
      button.disabled = false;
      note.textContent = "You can ask for a new code now.";
      return;
    }
    if (counter) counter.textContent = String(left);
  }, 1000);
})();
