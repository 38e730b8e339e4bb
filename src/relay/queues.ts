/** The relay's queues: customer → Connect and Connect → customer. */
export const QUEUES = ['inbound', 'outbound'] as const;
export type QueueName = (typeof QUEUES)[number];
