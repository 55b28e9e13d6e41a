// The plan's pacing chart, drawn from the JSON block the page embeds (no inline script: CSP).
document.addEventListener("DOMContentLoaded", () => {
  const block = document.getElementById("chart-data");
  const canvas = document.getElementById("pacing");
  if (!block || !canvas) return;
  const d = JSON.parse(block.textContent);
  new Chart(canvas, {type: "bar", data: {labels: d.labels, datasets: [
    {label: "due by now", data: d.due, backgroundColor: "#dbe4ff"},
    {label: "actual", data: d.actual, backgroundColor: "#4c6ef5"}]},
    options: {animation: false, scales: {y: {type: "logarithmic"}}}});
});
