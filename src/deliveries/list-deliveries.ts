import type { Db } from '../db/knex.ts';
import { countDeliveries, listDeliveries, type Delivery, type DeliveryCounts, type DeliveryFilter } from '../db/site-deliveries.ts';

/** The days the per-site counts look back over. */
export const COUNT_DAYS = 7;

export interface DeliveryOverview {
  /** Per member site and kind, the last COUNT_DAYS days' pending, delivered and given up. */
  counts: DeliveryCounts[];
  deliveries: Delivery[];
}

/** What the operator reads of the deliveries to member sites: the counts, and the list asked for (newest first). */
export async function deliveryOverview(db: Db, f: DeliveryFilter): Promise<DeliveryOverview> {
  return { counts: await countDeliveries(db, COUNT_DAYS, f.clientId), deliveries: await listDeliveries(db, f) };
}
