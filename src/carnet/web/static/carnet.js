// Moves the focus to the error summary when a form comes back with errors: screen readers
// announce it, and keyboard users start from the list of fields to correct.
const summary = document.querySelector("[data-carnet-focus]");
if (summary instanceof HTMLElement) {
  summary.focus();
}
