import { createHash } from 'node:crypto';
import type { Response } from 'express';
import { CSRF_FIELD } from './admin-access';
import { CONSOLE_PATH, LOGOUT_PATH, QUEUE_DASHBOARD_PATH } from './admin-paths';
import { html, type SafeHtml } from './html';

// Written into the template itself: literal parts of `html` are markup, not escaped.
const STYLESHEET = html`<style>
  body {
    font:
      15px/1.45 system-ui,
      sans-serif;
    margin: 0;
    color: #1d232a;
    background: #f6f7f9;
  }
  header {
    display: flex;
    gap: 1.25rem;
    align-items: center;
    padding: 0.6rem 1.5rem;
    background: #1d2b3a;
  }
  header a,
  header button {
    color: #fff;
    text-decoration: none;
  }
  header form {
    margin-left: auto;
  }
  main {
    padding: 1rem 1.5rem 3rem;
    max-width: 80rem;
  }
  h1 {
    font-size: 1.4rem;
  }
  h2 {
    font-size: 1.15rem;
    margin-top: 2rem;
  }
  table {
    border-collapse: collapse;
    background: #fff;
    width: 100%;
  }
  th,
  td {
    text-align: left;
    vertical-align: top;
    padding: 0.35rem 0.6rem;
    border-bottom: 1px solid #dde1e6;
  }
  th {
    background: #eef1f4;
    font-weight: 600;
  }
  dl {
    display: grid;
    grid-template-columns: max-content 1fr;
    gap: 0.25rem 1rem;
  }
  dt {
    font-weight: 600;
  }
  dd {
    margin: 0;
  }
  form {
    display: inline;
  }
  form.search {
    display: flex;
    gap: 0.5rem;
    align-items: end;
    margin: 0.5rem 0 1rem;
  }
  label {
    display: flex;
    flex-direction: column;
    font-size: 0.85rem;
    gap: 0.15rem;
  }
  input {
    font: inherit;
    padding: 0.3rem 0.45rem;
  }
  button {
    font: inherit;
    padding: 0.25rem 0.7rem;
    cursor: pointer;
  }
  header button {
    background: none;
    border: 1px solid #fff6;
    border-radius: 3px;
  }
  button.danger {
    color: #9b1c1c;
  }
  .notice {
    padding: 0.5rem 0.8rem;
    background: #e3f4e6;
    border-left: 4px solid #2f8a43;
  }
  .notice.error {
    background: #fbe7e7;
    border-color: #b42318;
  }
  .muted {
    color: #5d6875;
  }
  code {
    font-size: 0.9em;
    word-break: break-all;
  }
</style>`;
const STYLE = String(STYLESHEET).slice('<style>'.length, -'</style>'.length);

/** Nothing runs on these pages and nothing loads from elsewhere; only that stylesheet applies. */
const SECURITY_HEADERS = {
  'Content-Security-Policy': [
    "default-src 'none'",
    `style-src 'sha256-${createHash('sha256').update(STYLE).digest('base64')}'`,
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; '),
  'Cache-Control': 'no-store',
  'Referrer-Policy': 'same-origin',
  'X-Content-Type-Options': 'nosniff',
};

/** The hidden field every form that changes something carries. */
export function csrfField(csrf: string): SafeHtml {
  return html`<input type="hidden" name="${CSRF_FIELD}" value="${csrf}" />`;
}

/** A whole page; `csrf` is given on the pages of a logged-in operator, who get the navigation. */
export function layout(page: { title: string; body: SafeHtml; csrf?: string }): SafeHtml {
  const nav =
    page.csrf !== undefined &&
    html`<header>
      <a href="${CONSOLE_PATH}">Conversations</a>
      <a href="${CONSOLE_PATH}/jobs">Queues and failed jobs</a>
      <a href="${QUEUE_DASHBOARD_PATH}">Bull Board</a>
      <form method="post" action="${LOGOUT_PATH}">
        ${csrfField(page.csrf)}<button type="submit">Log out</button>
      </form>
    </header>`;
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${page.title} · connect-stream-bridge</title>
        ${STYLESHEET}
      </head>
      <body>
        ${nav}
        <main>${page.body}</main>
      </body>
    </html>`;
}

export function sendPage(res: Response, page: SafeHtml, status = 200): void {
  res.status(status).set(SECURITY_HEADERS).type('html').send(String(page));
}
