// Impact report progress: poll the version's status URL and update the page as the worker
// moves through its steps; reload once the build is ready or has failed, so the page shows
// the preview and publish buttons (or the reason and "Try again"). Without JavaScript the
// page offers a refresh link instead.

const TAGS = {
  queued: ["nhsuk-tag--grey", "Queued"],
  running: ["nhsuk-tag--blue", "Being made"],
  ready: ["nhsuk-tag--green", "Ready"],
  failed: ["nhsuk-tag--red", "Failed"],
};
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
    const [colour, label] = TAGS[state.status] || TAGS.queued;
    const tag = document.createElement("strong");
    tag.className = `nhsuk-tag ${colour}`;
    tag.textContent = label;
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
