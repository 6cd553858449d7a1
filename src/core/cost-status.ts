/**
 * What a call's price rests on. `priced`: the answering model's own rates. `estimated`: the
 * answering model has no price and the requested one has (Google reroutes retired models to
 * their replacements, billed at theirs): priced at the requested model's rates, and said so.
 * `unpriced`: no rates at all; the cost is null, never a made-up 0.
 */
export const COST_STATUSES = ['priced', 'estimated', 'unpriced'] as const;
export type CostStatus = (typeof COST_STATUSES)[number];
