// Session timeout warning. The server ends idle sessions (governance/sessions.py) whether or not
// this runs; this script only warns first. A little before the session runs out it asks the
// server how long is really left (another tab may have been used meanwhile), and if the end is
// near it opens a modal dialog with a countdown and "Stay signed in" and "Sign out" buttons.
// When the time is up it asks once more (which signs the session out) and goes to the sign-in page.

const dialog = document.querySelector("dialog[data-session-timeout]");

const describe = (seconds) => {
  const minutes = Math.floor(seconds / 60);
  const rest = seconds % 60;
  const parts = [];
  if (minutes) parts.push(`${minutes} minute${minutes === 1 ? "" : "s"}`);
  if (rest || !minutes) parts.push(`${rest} second${rest === 1 ? "" : "s"}`);
  return parts.join(" ");
};

if (dialog && typeof dialog.showModal === "function") {
  const statusUrl = dialog.dataset.sessionStatusUrl;
  const loginUrl = dialog.dataset.sessionLoginUrl;
  const countdown = dialog.querySelector("[data-session-countdown]");
  const announcement = dialog.querySelector("[data-session-announcement]");
  const extendForm = dialog.querySelector("form[data-session-extend]");
  const canExtend = dialog.querySelector("[data-session-can-extend]");
  const cannotExtend = dialog.querySelector("[data-session-cannot-extend]");
  let warning = Number(dialog.dataset.sessionWarning);
  let deadline = Date.now() + Number(dialog.dataset.sessionRemaining) * 1000;
  let timer = null;
  let ticker = null;
  let lastAnnounced = null;
  let returnFocus = null;

  const secondsLeft = () => Math.max(0, Math.round((deadline - Date.now()) / 1000));

  const signedOut = (state) => {
    const next = encodeURIComponent(window.location.pathname + window.location.search);
    window.location.assign(`${state.login_url || loginUrl}?next=${next}`);
  };

  const close = () => {
    window.clearInterval(ticker);
    ticker = null;
    if (dialog.open) dialog.close();
    if (returnFocus && document.contains(returnFocus)) returnFocus.focus();
  };

  const tick = () => {
    const left = secondsLeft();
    countdown.textContent = describe(left);
    // Screen readers hear the time at the start, each minute, and every 15 seconds at the end.
    const announceAt = left > 60 ? Math.ceil(left / 60) * 60 : Math.ceil(left / 15) * 15;
    if (announceAt !== lastAnnounced) {
      lastAnnounced = announceAt;
      announcement.textContent = `You will be signed out in ${describe(left)}.`;
    }
    if (left <= 0) {
      window.clearInterval(ticker);
      ticker = null;
      check();
    }
  };

  const open = (extendable) => {
    canExtend.hidden = !extendable;
    cannotExtend.hidden = extendable;
    extendForm.hidden = !extendable;
    if (!dialog.open) {
      returnFocus = document.activeElement;
      lastAnnounced = null;
      dialog.showModal();
    }
    tick();
    if (!ticker) ticker = window.setInterval(tick, 1000);
  };

  const schedule = () => {
    window.clearTimeout(timer);
    const wait = Math.max(0, deadline - Date.now() - warning * 1000);
    timer = window.setTimeout(check, wait);
  };

  const apply = (state) => {
    if (!state.signed_in) {
      signedOut(state);
      return;
    }
    warning = state.warning;
    deadline = Date.now() + state.remaining * 1000;
    if (state.remaining > warning) {
      close();
      schedule();
    } else {
      // Also when the server still counts a few seconds at our end: the countdown runs on.
      open(state.extendable);
    }
  };

  const check = async () => {
    try {
      const response = await fetch(statusUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      apply(await response.json());
    } catch (error) {
      // The network dropped: try again shortly; the server ends the session on time anyway.
      window.setTimeout(check, 5000);
    }
  };

  extendForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const response = await fetch(extendForm.action, {
        method: "POST",
        body: new FormData(extendForm),
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      });
      apply(await response.json());
    } catch (error) {
      extendForm.submit();
    }
  });

  // Escape would close the dialog and leave the countdown unseen: it means "stay signed in".
  dialog.addEventListener("cancel", (event) => {
    event.preventDefault();
    if (!extendForm.hidden) extendForm.requestSubmit();
  });

  schedule();
}
