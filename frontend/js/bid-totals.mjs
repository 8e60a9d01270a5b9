// Live totals on a bid's costs and savings forms: the total of the amounts typed and, on the
// savings form, the projected return (savings for each £1 asked for). The server works out
// the same figures when the form is saved (applications.checks.projected_return): amounts
// are read in pence as whole numbers and the return is rounded half up to 2 places, so the
// page and the server always agree. Without JavaScript the saved figures are shown instead.

const MONEY = /^\d+(\.\d{1,2})?$/;

// "£12,500.5" -> 1250050n (pence); null when it is not an amount the server would accept.
export function toPence(text) {
  const cleaned = String(text || "").replace(/[£,\s]/g, "");
  if (!MONEY.test(cleaned)) return null;
  const [pounds, fraction = ""] = cleaned.split(".");
  return BigInt(pounds) * 100n + BigInt((fraction + "00").slice(0, 2));
}

export function formatPounds(pence) {
  const pounds = pence / 100n;
  const rest = pence % 100n;
  const whole = pounds.toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return rest === 0n ? `£${whole}` : `£${whole}.${rest.toString().padStart(2, "0")}`;
}

// Savings over cost to 2 places, halves rounded up, as a string like "1.85"; null if no cost.
export function projectedReturn(savingsPence, costPence) {
  if (costPence <= 0n) return null;
  const hundredths = (200n * savingsPence + costPence) / (2n * costPence);
  return `${hundredths / 100n}.${(hundredths % 100n).toString().padStart(2, "0")}`;
}

function rowRemoved(input) {
  const row = input.closest(".app-row");
  const remove = row && row.querySelector("input[type=checkbox][name$='-DELETE']");
  return Boolean(remove && remove.checked);
}

function update(form) {
  const totals = {};
  form.querySelectorAll("input[data-amount]").forEach((input) => {
    const kind = input.dataset.amount;
    const pence = toPence(input.value);
    totals[kind] = (totals[kind] || 0n) + (pence !== null && !rowRemoved(input) ? pence : 0n);
  });
  form.querySelectorAll("[data-total]").forEach((output) => {
    output.textContent = formatPounds(totals[output.dataset.total] || 0n);
  });
  const cost = form.dataset.costPence;
  const result = form.querySelector("[data-return]");
  if (cost !== undefined && result) {
    const value = projectedReturn(totals.saving || 0n, BigInt(cost));
    result.textContent = value === null ? "not worked out yet" : value;
  }
}

document.querySelectorAll("form[data-live-totals]").forEach((form) => {
  form.addEventListener("input", () => update(form));
  form.addEventListener("change", () => update(form));
});
