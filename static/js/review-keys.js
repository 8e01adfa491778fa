// In a review: "n" (or "j") opens the next account, "p" (or "k") the previous one; never while typing in a form.
document.addEventListener("keydown", (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey || event.target.closest("input, textarea, select, [contenteditable]")) {
    return;
  }
  const rel = { n: "next", j: "next", p: "prev", k: "prev" }[event.key];
  const link = rel && document.querySelector(`a[rel~="${rel}"]`);
  if (link) {
    event.preventDefault();
    link.click();
  }
});
