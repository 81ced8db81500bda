// Behaviour the templates need, kept out of inline attributes so the Content-Security-Policy
// can forbid inline script (no hx-on, no onclick).
document.addEventListener("click", function (event) {
  var target = event.target;
  if (!(target instanceof Element)) {
    return;
  }
  var dismiss = target.closest(".flash-dismiss");
  if (dismiss) {
    var flash = dismiss.closest(".flash");
    if (flash) {
      flash.remove();
    }
  }
});
