/** How big and how rough a chaos run is. */
export interface ChaosProfile {
  name: string;
  bridges: number;
  conversations: number;
  customerMessages: number;
  agentMessages: number;
  /** Every n-th conversation's agent ends the chat halfway; the customer's next message starts another. */
  endChatEvery: number;
  /** Pause between one side's messages, drawn from [min, max] ms. */
  pauseMs: [number, number];
  /** Pause between SIGKILLs, drawn from [min, max] ms. */
  killEveryMs: [number, number];
  /** How long a killed process stays down. */
  downMs: [number, number];
  /** When Redis is killed and restarted, after the load starts. */
  redisRestartAtMs: number;
  /** When the provider stops answering, and for how long. */
  providerOutage: { atMs: number; forMs: number };
}

const PROFILES: Record<string, ChaosProfile> = {
  // Part of `npm test` (and CI): about a minute.
  ci: {
    name: 'ci',
    bridges: 3,
    conversations: 8,
    customerMessages: 14,
    agentMessages: 10,
    endChatEvery: 2,
    pauseMs: [300, 1_500],
    killEveryMs: [2_500, 4_000],
    downMs: [300, 1_000],
    redisRestartAtMs: 5_000,
    providerOutage: { atMs: 7_000, forMs: 10_000 },
  },
  // `npm run test:chaos`: a few minutes.
  full: {
    name: 'full',
    bridges: 3,
    conversations: 24,
    customerMessages: 50,
    agentMessages: 40,
    endChatEvery: 3,
    pauseMs: [200, 1_600],
    killEveryMs: [2_000, 4_000],
    downMs: [300, 1_500],
    redisRestartAtMs: 15_000,
    providerOutage: { atMs: 25_000, forMs: 10_000 },
  },
};

/** CHAOS_PROFILE (`ci` by default, `full`) and CHAOS_SEED pick the run. */
export function chaosProfile(env = process.env): { profile: ChaosProfile; seed: number } {
  const name = env.CHAOS_PROFILE ?? 'ci';
  const profile = PROFILES[name];
  if (!profile) {
    throw new Error(`CHAOS_PROFILE must be one of ${Object.keys(PROFILES).join(', ')}: ${name}`);
  }
  const seed = env.CHAOS_SEED ? Number(env.CHAOS_SEED) : 20261121;
  if (!Number.isInteger(seed)) throw new Error(`CHAOS_SEED must be an integer: ${env.CHAOS_SEED}`);
  return { profile, seed };
}
