// Start the NHS.UK frontend components (header menu, character counts, error summary focus...).
import { initAll } from "./nhsuk-frontend.min.js";
// The session timeout warning (it does nothing on pages without its dialog).
import "./session-timeout.mjs";

initAll();

// Forms marked data-prevent-double-submit disable their buttons once sent, so a double
// click sends one request. The server is still the guard: it accepts one submission.
document.querySelectorAll("form[data-prevent-double-submit]").forEach((form) => {
  form.addEventListener("submit", () => {
    window.setTimeout(() => {
      form.querySelectorAll("button[type=submit]").forEach((button) => {
        button.setAttribute("aria-disabled", "true");
        button.disabled = true;
      });
    }, 0);
  });
});
