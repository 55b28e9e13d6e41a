// The dashboard's charts, drawn from the JSON block the page embeds (no inline script: CSP).
document.addEventListener("DOMContentLoaded", () => {
  const block = document.getElementById("chart-data");
  if (!block) return;
  const data = JSON.parse(block.textContent);
  const kinds = {funnel: "bar", speed: "bar", calibration: "line"};
  for (const [id, series] of Object.entries(data)) {
    const canvas = document.getElementById(id);
    if (!canvas) continue;
    new Chart(canvas, {
      type: kinds[id] || "bar",
      data: {labels: series.labels, datasets: [{data: series.values, backgroundColor: "#4c6ef5",
             borderColor: "#3b5bdb", borderRadius: 4}]},
      options: {plugins: {legend: {display: false}}, animation: false,
                indexAxis: id === "funnel" ? "y" : "x", maintainAspectRatio: true},
    });
  }
});
