// ExtendDB console: small progressive enhancements (every page works without them).
"use strict";
document.addEventListener("click", function (event) {
  // Copy buttons: <button data-copy="#id"> copies the text of the element it names.
  const copy = event.target.closest("[data-copy]");
  if (copy) {
    const source = document.querySelector(copy.dataset.copy);
    if (source && navigator.clipboard) {
      navigator.clipboard.writeText(source.textContent.trim()).then(function () {
        copy.textContent = "Copied";
      });
    }
    event.preventDefault();
  }
  // "Select all" boxes: <input type=checkbox data-select-all="name"> ticks every box of that name.
  const all = event.target.closest("[data-select-all]");
  if (all) {
    document.querySelectorAll('input[type=checkbox][name="' + all.dataset.selectAll + '"]').forEach(function (box) {
      box.checked = all.checked;
    });
  }
});
document.addEventListener("submit", function (event) {
  // <button data-confirm="text"> asks before its form is sent.
  const button = event.submitter;
  if (button && button.dataset.confirm && !window.confirm(button.dataset.confirm)) {
    event.preventDefault();
  }
});
