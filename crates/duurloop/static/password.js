// Show the password (ASVS 2.1.12): each "Show password" button next to a password field
// (rendered hidden, so without JavaScript there is nothing that does not work) is shown and
// switches its field between hidden and readable text. aria-pressed says which it is; the
// label stays the same. A button, so it works with the keyboard (Enter, Space) and by touch.
// The field is hidden again before its form is sent, so a browser does not keep it as text.
(function () {
  "use strict";
  function setShown(button, input, shown) {
    input.type = shown ? "text" : "password";
    button.setAttribute("aria-pressed", shown ? "true" : "false");
  }
  function wire(button) {
    var input = document.getElementById(button.getAttribute("data-show-password"));
    if (!input || input.type !== "password") {
      return;
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      setShown(button, input, input.type === "password");
    });
    if (input.form) {
      input.form.addEventListener("submit", function () {
        setShown(button, input, false);
      });
    }
  }
  function init() {
    var buttons = document.querySelectorAll("button[data-show-password]");
    for (var i = 0; i < buttons.length; i++) {
      wire(buttons[i]);
    }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
