import type { Knex } from 'knex';

/**
 * Every change to a member site or a resource server is announced on the channel `cybercard_directory`
 * (payload `site:<client_id>` or `rs:<identifier>`), at commit and only if it commits: each card-manager
 * instance keeps the rows its requests read most in memory (db/directory.ts) and forgets one when it hears
 * of a change. A trigger rather than the code that writes: a change made by another instance, the CLI or
 * the operator's own SQL is announced all the same.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE FUNCTION cybercard_directory_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_TABLE_NAME = 'member_sites' THEN
        PERFORM pg_notify('cybercard_directory', 'site:' || CASE WHEN TG_OP = 'DELETE' THEN OLD.client_id ELSE NEW.client_id END);
        IF TG_OP = 'UPDATE' AND OLD.client_id <> NEW.client_id THEN
          PERFORM pg_notify('cybercard_directory', 'site:' || OLD.client_id);
        END IF;
      ELSE
        PERFORM pg_notify('cybercard_directory', 'rs:' || CASE WHEN TG_OP = 'DELETE' THEN OLD.identifier ELSE NEW.identifier END);
        IF TG_OP = 'UPDATE' AND OLD.identifier <> NEW.identifier THEN
          PERFORM pg_notify('cybercard_directory', 'rs:' || OLD.identifier);
        END IF;
      END IF;
      RETURN NULL;
    END
    $$`);
  await knex.raw(`CREATE TRIGGER member_sites_changed AFTER INSERT OR UPDATE OR DELETE ON member_sites
                  FOR EACH ROW EXECUTE FUNCTION cybercard_directory_changed()`);
  await knex.raw(`CREATE TRIGGER resource_servers_changed AFTER INSERT OR UPDATE OR DELETE ON resource_servers
                  FOR EACH ROW EXECUTE FUNCTION cybercard_directory_changed()`);
  // TRUNCATE fires no row trigger: announce it whole.
  await knex.raw(`
    CREATE FUNCTION cybercard_directory_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM pg_notify('cybercard_directory', '*');
      RETURN NULL;
    END
    $$`);
  await knex.raw(`CREATE TRIGGER member_sites_truncated AFTER TRUNCATE ON member_sites
                  FOR EACH STATEMENT EXECUTE FUNCTION cybercard_directory_truncated()`);
  await knex.raw(`CREATE TRIGGER resource_servers_truncated AFTER TRUNCATE ON resource_servers
                  FOR EACH STATEMENT EXECUTE FUNCTION cybercard_directory_truncated()`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TRIGGER resource_servers_truncated ON resource_servers');
  await knex.raw('DROP TRIGGER member_sites_truncated ON member_sites');
  await knex.raw('DROP TRIGGER resource_servers_changed ON resource_servers');
  await knex.raw('DROP TRIGGER member_sites_changed ON member_sites');
  await knex.raw('DROP FUNCTION cybercard_directory_truncated()');
  await knex.raw('DROP FUNCTION cybercard_directory_changed()');
}
