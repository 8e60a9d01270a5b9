// Impact report progress: poll the version's status URL and update the page as the worker
// moves through its steps; reload once the build is ready or has failed, so the page shows
// the preview and publish buttons (or the reason and "Try again"). Without JavaScript the
// page offers a refresh link instead.

// The tag's colour and words come with each answer (governance/status_tags.py), as on the page.
const INTERVAL_MS = 2000;
const GIVE_UP_AFTER_MS = 30 * 60 * 1000;

const region = document.querySelector("[data-report-status-url]");

if (region && !["ready", "failed"].includes(region.dataset.reportStatus)) {
  const url = region.dataset.reportStatusUrl;
  const tagHolder = region.querySelector("[data-report-status-tag]");
  const stepHolder = region.querySelector("[data-report-status-step]");
  const started = Date.now();
  let shown = region.dataset.reportStatus;

  const show = (state) => {
    const tag = document.createElement("strong");
    tag.className = `nhsuk-tag nhsuk-tag--${state.colour}`;
    tag.textContent = state.label;
    tagHolder.replaceChildren(tag);
    stepHolder.textContent = state.finished ? "" : state.step;
  };

  const poll = async () => {
    try {
      const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (response.ok) {
        const state = await response.json();
        show(state);
        if (state.finished) {
          window.location.reload();
          return;
        }
        shown = state.status;
      }
    } catch (error) {
      // A dropped connection: try again at the next tick.
    }
    if (Date.now() - started < GIVE_UP_AFTER_MS) {
      window.setTimeout(poll, INTERVAL_MS);
    } else {
      stepHolder.textContent = `${shown === "running" ? "Still being made." : "Still queued."} Refresh the page to check again.`;
    }
  };

  window.setTimeout(poll, INTERVAL_MS);
}
