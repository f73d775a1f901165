// The one live region: what just happened ("Label saved", "Testing the connection…"), read out by
// screen readers without moving the focus, and shown a few seconds as a toast.

const SHOWN_MS = 8000;

let region = null;
let clearTimer = null;

/** Use `element` (role="status", in index.html) as the live region. */
export function useStatusRegion(element) {
  region = element;
}

/** Say `text` in the live region. */
export function announce(text) {
  if (!region) return;
  window.clearTimeout(clearTimer);
  // Emptying first makes a repeated message ("Saved", "Saved") announced again.
  region.textContent = "";
  window.setTimeout(() => {
    region.textContent = text;
    clearTimer = window.setTimeout(() => {
      region.textContent = "";
    }, SHOWN_MS);
  }, 50);
}
