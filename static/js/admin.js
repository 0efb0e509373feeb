// Admin pages: print buttons; the user form shows the unit field only for the unit role;
// the base-map form shows the key or URL field only for the kinds that use it.
document.querySelectorAll("[data-print]").forEach((button) => {
  button.addEventListener("click", () => window.print());
});

function toggle(selectId, rules) {
  const select = document.getElementById(selectId);
  if (!select) return;
  const apply = () => {
    for (const [fieldId, values] of Object.entries(rules)) {
      const box = document.getElementById(fieldId)?.closest(".mb-3");
      if (box) box.hidden = !values.includes(select.value);
    }
  };
  select.addEventListener("change", apply);
  apply();
}

toggle("role", { unit: ["unit"] });
toggle("kind", { key: ["tianditu"], url: ["custom"], attribution: ["custom"] });
