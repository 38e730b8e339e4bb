import type { ConversationView } from '../conversations';
import { conversationPage, jobsPage, noticeNamed } from './console-pages';
import type { FailedJobView } from './relay-jobs';

const CSRF = 'csrf-token-of-the-session';
const HOSTILE = '<script>alert(1)</script>';

const conversation: ConversationView = {
  id: '0123456789abcdef0123456789abcdef',
  state: 'active',
  channel: 'generic:app',
  customerAddress: '+15550001111',
  businessAddress: '+15559990000',
  displayName: HOSTILE,
  initialContactId: 'contact-1',
  contactId: 'contact-1',
  contactIds: ['contact-1'],
  participantId: 'participant-1',
  connectionExpiresAt: Date.UTC(2025, 5, 2),
  createdAt: Date.UTC(2025, 5, 1, 12, 3, 4, 567),
  updatedAt: Date.UTC(2025, 5, 1, 12, 3, 5),
};

const failedJob: FailedJobView = {
  id: 'generic%3Aapp%2Fmsg-1',
  messageId: 'generic%3Aapp%2Fmsg-1',
  conversationId: conversation.id,
  failedReason: HOSTILE,
  attemptsMade: 2,
  createdAt: Date.UTC(2025, 5, 1),
  failedAt: Date.UTC(2025, 5, 1, 0, 0, 1),
  message: {
    ...conversation,
    providerMessageId: 'msg-1',
    text: HOSTILE,
    attachments: [],
    receivedAt: 1,
  },
};

function pages(): string[] {
  const counts = { waiting: 0, active: 0, delayed: 0, prioritized: 0, failed: 1 };
  return [
    String(
      conversationPage(CSRF, {
        conversation,
        trace: [{ at: conversation.createdAt, event: 'received', reason: HOSTILE }],
      }),
    ),
    String(
      jobsPage(
        CSRF,
        [{ queue: 'inbound', paused: false, counts }],
        [{ queue: 'inbound', total: 1, jobs: [failedJob] }],
        'retried',
      ),
    ),
  ];
}

describe('console pages', () => {
  it('put the CSRF token of the session in every form that posts', () => {
    for (const page of pages()) {
      const forms = page.match(/<form method="post"[^]*?<\/form>/g) ?? [];
      expect(forms.length).toBeGreaterThanOrEqual(2);
      for (const form of forms) {
        expect(form).toContain(`<input type="hidden" name="_csrf" value="${CSRF}" />`);
      }
    }
  });

  it('escape what customers, agents and providers wrote', () => {
    for (const page of pages()) {
      expect(page).not.toContain(HOSTILE);
      expect(page).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    }
  });

  it('show times as UTC dates with seconds, and job ids encoded once more in paths', () => {
    const [conversationHtml, jobsHtml] = pages();
    expect(conversationHtml).toContain('<td>2025-06-01 12:03:04 UTC</td>');
    expect(jobsHtml).toContain(
      'action="/admin/console/jobs/inbound/generic%253Aapp%252Fmsg-1/retry"',
    );
  });

  it('take only the notices they know from a link', () => {
    expect(noticeNamed('retried')).toBe('retried');
    for (const name of [undefined, '', 'toString', '__proto__', '<b>hi</b>']) {
      expect(noticeNamed(name)).toBeUndefined();
    }
  });
});
