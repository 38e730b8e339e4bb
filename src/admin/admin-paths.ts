import type { QueueName } from '../relay';

/** Where the console, its login and the queue dashboard are served. */
export const CONSOLE_PATH = '/admin/console';
export const CONSOLE_JOBS_PATH = `${CONSOLE_PATH}/jobs`;
export const LOGIN_PATH = '/admin/login';
export const LOGOUT_PATH = '/admin/logout';
export const QUEUE_DASHBOARD_PATH = '/admin/queues';

export function consoleConversationPath(conversationId: string): string {
  return `${CONSOLE_PATH}/conversations/${encodeURIComponent(conversationId)}`;
}

/** Job ids are URL-encoded message ids; in a path they are encoded once more. */
export function consoleJobPath(queue: QueueName, jobId: string): string {
  return `${CONSOLE_JOBS_PATH}/${queue}/${encodeURIComponent(jobId)}`;
}
