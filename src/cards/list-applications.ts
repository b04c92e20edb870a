import { findApplication, listApplications as listRows, type Application, type ApplicationStatus } from '../db/applications.ts';
import type { Db } from '../db/knex.ts';
import { NotFoundError } from '../errors.ts';
import { NO_SUCH_APPLICATION } from './decide-application.ts';

/** The operator's view of applications: the review queue (oldest first) or any status (newest first). */
export function listApplications(db: Db, q: { status?: ApplicationStatus | undefined; limit?: number }): Promise<Application[]> {
  return listRows(db, q);
}

/** One application, or NotFoundError. */
export async function showApplication(db: Db, id: string): Promise<Application> {
  const app = await findApplication(db, id);
  if (!app) throw new NotFoundError(NO_SUCH_APPLICATION, { application_id: NO_SUCH_APPLICATION });
  return app;
}
