import { TRACE_TTL_SECONDS, type TraceEvent } from '../conversations';
import type { QueueName } from '../relay';
import {
  CONSOLE_PATH,
  consoleConversationPath,
  consoleJobPath,
  CONSOLE_JOBS_PATH,
  LOGIN_PATH,
} from './admin-paths';
import { csrfField, layout } from './console-layout';
import { html, type Interpolation, type SafeHtml } from './html';
import type { FailedJobView, QueueOverview } from './relay-jobs';
import type { ConversationAnswer } from './support-conversations';

const TRACE_DAYS = TRACE_TTL_SECONDS / 86_400;

/** What an action redirects with (`?notice=`): fixed texts, so a link cannot put words on a page. */
const NOTICES = {
  ended: { text: 'The contact was ended: the customer left the chat.', error: false },
  'not-active': { text: 'The conversation has no live contact to end.', error: true },
  retried: {
    text: "The job was retried: its message went back to the end of its conversation's lane.",
    error: false,
  },
  'retried-all': {
    text: 'The failed jobs were retried; any whose message expired stay failed.',
    error: false,
  },
  discarded: { text: 'The job was discarded: its message will not be delivered.', error: false },
  'no-such-job': { text: 'That job no longer exists.', error: true },
  'not-failed': { text: 'That job is no longer failed.', error: true },
  expired: { text: 'The message of that job is no longer stored; discard the job.', error: true },
};

export type Notice = keyof typeof NOTICES;

export function noticeNamed(name: string | undefined): Notice | undefined {
  return name !== undefined && Object.hasOwn(NOTICES, name) ? (name as Notice) : undefined;
}

export function loginPage(refused: boolean): SafeHtml {
  return layout({
    title: 'Log in',
    body: html`<h1>Support console</h1>
      ${refused && html`<p class="notice error">That is not the admin token.</p>`}
      <form class="search" method="post" action="${LOGIN_PATH}">
        <label
          >Admin token
          <input type="password" name="token" autocomplete="current-password" required autofocus
        /></label>
        <button type="submit">Log in</button>
      </form>`,
  });
}

export interface ConversationSearch {
  customer?: string;
  channel?: string;
  contact?: string;
}

/** The search forms, and what a search found (`found` undefined: nothing was searched). */
export function searchPage(
  csrf: string,
  search: ConversationSearch,
  found?: ConversationAnswer[],
): SafeHtml {
  return layout({
    title: 'Conversations',
    csrf,
    body: html`<h1>Find a conversation</h1>
      <form class="search" method="get" action="${CONSOLE_PATH}">
        <label
          >Customer address
          <input name="customer" value="${search.customer}" placeholder="+15550001111" required
        /></label>
        <label
          >Channel (optional)
          <input name="channel" value="${search.channel}" placeholder="twilio:sms"
        /></label>
        <button type="submit">Find by customer</button>
      </form>
      <form class="search" method="get" action="${CONSOLE_PATH}">
        <label
          >Contact id <input name="contact" value="${search.contact}" size="40" required
        /></label>
        <button type="submit">Find by contact</button>
      </form>
      ${found && conversationList(found)}`,
  });
}

function conversationList(found: ConversationAnswer[]): SafeHtml {
  if (found.length === 0) return html`<p class="muted">No conversation found.</p>`;
  return html`<table id="conversations">
    <tr>
      <th>Conversation</th>
      <th>Customer</th>
      <th>Channel</th>
      <th>Business number</th>
      <th>State</th>
      <th>Contact</th>
      <th>Last change</th>
    </tr>
    ${found.map(
      ({ conversation: c }) =>
        html`<tr>
          <td>
            <a href="${consoleConversationPath(c.id)}"><code>${c.id}</code></a>
          </td>
          <td>${c.customerAddress}</td>
          <td>${c.channel}</td>
          <td>${c.businessAddress}</td>
          <td>${c.state}</td>
          <td><code>${c.contactId}</code></td>
          <td>${readableTime(c.updatedAt)}</td>
        </tr>`,
    )}
  </table>`;
}

/** A conversation's details (never its tokens), its trace oldest first, and the End button. */
export function conversationPage(
  csrf: string,
  { conversation: c, trace }: ConversationAnswer,
  notice?: Notice,
): SafeHtml {
  const details: [string, Interpolation][] = [
    ['State', c.state],
    ['Channel', c.channel],
    ['Customer', c.customerAddress],
    ['Business number', c.businessAddress],
    ['Display name', c.displayName],
    ['Contact', html`<code>${c.contactId}</code>`],
    ['Initial contact', html`<code>${c.initialContactId}</code>`],
    ['Contact ids', c.contactIds.length > 0 && c.contactIds.map((id) => html`<code>${id}</code> `)],
    ['Participant', html`<code>${c.participantId}</code>`],
    ['Created', readableTime(c.createdAt)],
    ['Last change', readableTime(c.updatedAt)],
    ['Ended', c.endedAt !== undefined && readableTime(c.endedAt)],
    ['Connection expires', c.state === 'active' && readableTime(c.connectionExpiresAt)],
  ];
  return layout({
    title: `Conversation ${c.id}`,
    csrf,
    body: html`<h1>Conversation <code>${c.id}</code></h1>
      ${noticeOf(notice)}
      <dl>
        ${details.map(
          ([label, value]) =>
            html`<dt>${label}</dt>
              <dd>${value || '—'}</dd>`,
        )}
      </dl>
      ${
        c.state === 'active' &&
        html`<form method="post" action="${consoleConversationPath(c.id)}/end">
          ${csrfField(csrf)}<button class="danger" type="submit">End conversation</button>
        </form>`
      }
      <h2>Timeline</h2>
      ${
        trace.length === 0
          ? html`<p class="muted">Nothing recorded (events are kept ${TRACE_DAYS} days).</p>`
          : html`<table id="timeline">
              <tr>
                <th>Time</th>
                <th>Event</th>
                <th>Direction</th>
                <th>Details</th>
              </tr>
              ${trace.map(
                (event) =>
                  html`<tr>
                    <td>${readableTime(event.at)}</td>
                    <td>${event.event}</td>
                    <td>${event.direction ?? '—'}</td>
                    <td>${traceDetails(event)}</td>
                  </tr>`,
              )}
            </table>`
      }`,
  });
}

function traceDetails(e: TraceEvent): SafeHtml {
  const details: [string, string | number | undefined][] = [
    ['provider message', e.providerMessageId],
    ['Connect message', e.connectMessageId],
    ['contact', e.contactId],
    ['part', e.part === undefined ? undefined : `${e.part} of ${e.parts ?? '?'}`],
    ['attempt', e.attempt],
    ['status', e.status],
    ['address', e.address],
    ['reason', e.reason],
  ];
  const shown = details.filter(([, value]) => value !== undefined && value !== '');
  return html`${shown.map(
    ([label, value], i) =>
      html`${i > 0 && html`<br />`}<span class="muted">${label}</span> ${value}`,
  )}`;
}

export interface FailedJobs {
  queue: QueueName;
  total: number;
  jobs: FailedJobView[];
}

/** Queue depths, then each queue's failed jobs (last failed first) with Retry and Discard. */
export function jobsPage(
  csrf: string,
  overview: QueueOverview[],
  failed: FailedJobs[],
  notice?: Notice,
): SafeHtml {
  return layout({
    title: 'Queues and failed jobs',
    csrf,
    body: html`<h1>Queues</h1>
      ${noticeOf(notice)}
      <table id="queues">
        <tr>
          <th>Queue</th>
          <th>Paused</th>
          <th>Waiting</th>
          <th>Active</th>
          <th>Delayed</th>
          <th>Prioritized</th>
          <th>Failed</th>
        </tr>
        ${overview.map(
          ({ queue, paused, counts }) =>
            html`<tr>
              <td>${queue}</td>
              <td>${paused ? 'paused' : 'no'}</td>
              <td>${counts.waiting}</td>
              <td>${counts.active}</td>
              <td>${counts.delayed}</td>
              <td>${counts.prioritized}</td>
              <td>${counts.failed}</td>
            </tr>`,
        )}
      </table>
      ${failed.map((list) => failedJobsSection(csrf, list))}`,
  });
}

function failedJobsSection(csrf: string, { queue, total, jobs }: FailedJobs): SafeHtml {
  return html`<section id="failed-${queue}">
    <h2>Failed ${queue} jobs: ${total}</h2>
    ${total > jobs.length && html`<p class="muted">The last ${jobs.length} failed are shown.</p>`}
    ${
      total > 0 &&
      html`<div>
        <form method="post" action="${CONSOLE_JOBS_PATH}/${queue}/retry-all">
          ${csrfField(csrf)}<button type="submit">Retry all ${queue} jobs</button>
        </form>
      </div>`
    }
    ${
      jobs.length > 0 &&
      html`<table>
        <tr>
          <th>Failed</th>
          <th>Job</th>
          <th>Conversation</th>
          <th>Message</th>
          <th>Reason</th>
          <th>Attempts</th>
          <th></th>
        </tr>
        ${jobs.map(
          (job) =>
            html`<tr data-job="${job.id}">
              <td>${readableTime(job.failedAt ?? job.createdAt)}</td>
              <td><code>${job.id}</code></td>
              <td>
                <a href="${consoleConversationPath(job.conversationId)}"
                  ><code>${job.conversationId}</code></a
                >
              </td>
              <td>${messageSummary(job.message)}</td>
              <td>${job.failedReason}</td>
              <td>${job.attemptsMade}</td>
              <td>
                <form method="post" action="${consoleJobPath(queue, job.id)}/retry">
                  ${csrfField(csrf)}<button type="submit">Retry</button>
                </form>
                <form method="post" action="${consoleJobPath(queue, job.id)}/discard">
                  ${csrfField(csrf)}<button class="danger" type="submit">Discard</button>
                </form>
              </td>
            </tr>`,
        )}
      </table>`
    }
  </section>`;
}

function messageSummary(message: FailedJobView['message']): Interpolation {
  if (message === null) return html`<span class="muted">no longer stored</span>`;
  if ('kind' in message && message.kind === 'end') {
    return html`<span class="muted">end of the contact</span>`;
  }
  const files = message.attachments.map(({ name }) => html` <span class="muted">[${name}]</span>`);
  return html`${message.text}${files}`;
}

function noticeOf(notice: Notice | undefined): Interpolation {
  if (notice === undefined) return undefined;
  const { text, error } = NOTICES[notice];
  return html`<p class="notice${error ? ' error' : ''}" role="status">${text}</p>`;
}

/** `2025-06-01 12:03:04 UTC`. */
function readableTime(epochMs: number): string {
  return new Date(epochMs)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d{3}Z$/, ' UTC');
}
