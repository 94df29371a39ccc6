import { createHash } from 'node:crypto';

/**
 * What the confirmation email's link opens: a page that asks for the password chosen when
 * registering and sends it with the link's token (POST to the same path). Following the link
 * changes nothing by itself: a mail scanner that fetches every link, or someone who got a link
 * they did not ask for, confirms no one. The page is the same for every token and holds nothing
 * from the request (the script reads the token from the address bar), so nothing can be injected
 * into it; its one script is allowed by its hash, and it may talk to this shop only.
 */
const SCRIPT = `
const form = document.getElementById('confirm');
const outcome = document.getElementById('outcome');
const token = new URLSearchParams(location.search).get('token') || '';
form.addEventListener('submit', async (event) => {
  event.preventDefault();
  outcome.textContent = 'Confirming…';
  try {
    const response = await fetch(location.pathname, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token, password: form.elements.password.value }),
    });
    const body = await response.json().catch(() => ({}));
    if (response.ok) {
      form.hidden = true;
      outcome.textContent = 'Your email address is confirmed: sign in with that password.';
    } else {
      outcome.textContent = body.detail || 'The shop answered ' + response.status + ': try again.';
    }
  } catch {
    outcome.textContent = 'The shop could not be reached: try again.';
  }
});
`;

export const CONFIRM_PAGE = [
  '<!doctype html>',
  '<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">',
  '<title>Confirm your email address</title></head><body>',
  '<h1>Confirm your email address</h1>',
  '<form id="confirm">',
  '<p><label>The password you chose when registering ',
  '<input type="password" name="password" autocomplete="current-password" required maxlength="256"></label></p>',
  '<p><button type="submit">Confirm</button></p>',
  '</form>',
  '<p id="outcome" role="status"></p>',
  '<noscript><p>This page needs JavaScript. Without it: POST this path with ',
  '{"token": "&lt;the token in this address&gt;", "password": "&lt;your password&gt;"}.</p></noscript>',
  `<script>${SCRIPT}</script>`,
  '</body></html>',
].join('\n');

/** The page's own policy, instead of the edge's default: its inline script by hash, requests to this origin only. */
export const CONFIRM_PAGE_CSP = [
  "default-src 'none'",
  `script-src 'sha256-${createHash('sha256').update(SCRIPT).digest('base64')}'`,
  "connect-src 'self'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');
