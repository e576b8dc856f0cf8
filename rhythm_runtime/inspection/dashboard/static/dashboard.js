// Confirm before an action form posts; re-fetch the runs table every 2 s while "live" is ticked.
document.querySelectorAll("form[data-confirm]").forEach((form) => {
  form.addEventListener("submit", (event) => {
    if (!window.confirm(form.dataset.confirm)) event.preventDefault();
  });
});

const runs = document.getElementById("runs");
const live = document.getElementById("live");
if (runs && live) {
  setInterval(async () => {
    if (!live.checked || document.hidden) return;
    try {
      const response = await fetch(runs.dataset.src, { credentials: "same-origin" });
      if (response.ok) runs.innerHTML = await response.text();
    } catch (error) {
      // the server is away: keep the last table and try again on the next tick
    }
  }, 2000);
}
