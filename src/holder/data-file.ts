import type { Context } from 'koa';
import type { HolderData } from '../cards/export-holder-data.ts';
import { presentActivityItem } from './activity-routes.ts';

/** A copy of a holder's data as it is saved: the file's name and its JSON. */
export interface HolderDataFile {
  filename: string;
  text: string;
}

/**
 * The one shape of the file, whoever asked for it (the holder at /card/data and /api/holder/data, the operator's API,
 * console and CLI): when it was made, then cards/export-holder-data.ts's parts, the activity worded in English as
 * every JSON answer (as /api/holder/activity gives it), times in `timeZone` (config billing.timeZone).
 */
export function holderDataFile(data: HolderData, timeZone: string, madeAt = new Date()): HolderDataFile {
  const file = { made_at: madeAt.toISOString(), ...data, activity: data.activity.map((item) => presentActivityItem(item, timeZone)) };
  return { filename: `cybercard-data-${madeAt.toISOString().slice(0, 10)}.json`, text: JSON.stringify(file, null, 2) };
}

/** Answers the file as a download; the caller's guard has set no-store (a holder's or operator's answer is never cached). */
export function sendHolderDataFile(ctx: Context, file: HolderDataFile): void {
  ctx.set('Content-Disposition', `attachment; filename="${file.filename}"`);
  ctx.type = 'application/json; charset=utf-8';
  ctx.body = file.text;
}
