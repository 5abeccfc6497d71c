/**
 * Lineage (see lineage-store.ts): what inference found for each job, its static dependencies and its
 * resolved upstream edges, as columns of `jobs` so upstream resolution reads every job of every
 * project in one light query. Jobs stored before this get their static dependencies from their
 * spec here, computed as core/lineage.ts `staticDependencies` does (a non-empty string `job`,
 * `project/job` split at the first `/`), so the first deploy after the upgrade resolves them
 * without re-uploading anything; their lineage stays null until their next change, and their
 * upstreams are resolved by the next deploy that resolves.
 */
import { type Kysely, type Migration, sql } from 'kysely';

export const lineage: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .alterTable('jobs')
      .addColumn('lineage_key', 'text')
      .addColumn('destination', 'text')
      .addColumn('sources', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
      .addColumn('lineage_warnings', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
      .addColumn('static_deps', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
      .addColumn('upstreams', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
      .execute();
    // Resolution looks jobs up by what they write; `job inspect` asks who writes a source.
    await db.schema.createIndex('jobs_destination_idx').on('jobs').column('destination').execute();
    await sql`
      update jobs set static_deps = d.deps
      from (
        select j.project_name, j.name,
          jsonb_agg(
            case when position('/' in e.value->>'job') > 0
              then jsonb_build_object(
                'project', split_part(e.value->>'job', '/', 1),
                'job', substr(e.value->>'job', position('/' in e.value->>'job') + 1),
                'index', e.ord - 1)
              else jsonb_build_object('job', e.value->>'job', 'index', e.ord - 1)
            end order by e.ord) as deps
        from jobs j
        -- A spec whose dependencies are not a list has none (the function would fail on it).
        cross join lateral jsonb_array_elements(
          case when jsonb_typeof(j.spec->'dependencies') = 'array' then j.spec->'dependencies' else '[]'::jsonb end
        ) with ordinality as e(value, ord)
        where jsonb_typeof(e.value) = 'object'
          and jsonb_typeof(e.value->'job') = 'string'
          and e.value->>'job' <> ''
        group by j.project_name, j.name
      ) d
      where jobs.project_name = d.project_name and jobs.name = d.name`.execute(db);
  },
};
