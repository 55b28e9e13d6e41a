// The dashboard's charts, drawn from the JSON block the page embeds (no inline script: CSP).
const percent = (v) => `${Math.round(v * 100)}%`;

// Calibration drift: mean predicted (x) against the share won (y) by decile, this period and
// at the model's validation; on the diagonal, predictions match what happened.
function reliability(canvas, series) {
  const axis = (title) => ({type: "linear", min: 0, max: 1, title: {display: true, text: title},
                            ticks: {callback: percent, stepSize: 0.2}});
  return new Chart(canvas, {
    type: "scatter",
    data: {datasets: [
      {label: "This period", data: series.period, showLine: true, borderColor: "#c92a2a",
       backgroundColor: "#c92a2a", pointRadius: 4},
      {label: "At validation", data: series.validation, showLine: true, borderColor: "#3b5bdb",
       backgroundColor: "#3b5bdb", borderDash: [6, 4], pointStyle: "rect", pointRadius: 4},
      {label: "Perfect", data: [{x: 0, y: 0}, {x: 1, y: 1}], showLine: true,
       borderColor: "#adb5bd", borderWidth: 1, pointRadius: 0},
    ]},
    options: {animation: false, maintainAspectRatio: true, aspectRatio: 1.3,
              scales: {x: axis("Predicted"), y: axis("Won")},
              plugins: {legend: {position: "bottom"}, tooltip: {callbacks: {
                label: (c) => `${c.dataset.label}: predicted ${percent(c.parsed.x)}, won ${percent(c.parsed.y)}`}}}},
  });
}

document.addEventListener("DOMContentLoaded", () => {
  const block = document.getElementById("chart-data");
  if (!block) return;
  const data = JSON.parse(block.textContent);
  const kinds = {funnel: "bar", speed: "bar", calibration: "line"};
  for (const [id, series] of Object.entries(data)) {
    const canvas = document.getElementById(id);
    if (!canvas) continue;
    if (series.reliability) {
      reliability(canvas, series);
      continue;
    }
    new Chart(canvas, {
      type: kinds[id] || "bar",
      data: {labels: series.labels, datasets: [{data: series.values, backgroundColor: "#4c6ef5",
             borderColor: "#3b5bdb", borderRadius: 4}]},
      options: {plugins: {legend: {display: false}}, animation: false,
                indexAxis: id === "funnel" ? "y" : "x", maintainAspectRatio: true},
    });
  }
});
