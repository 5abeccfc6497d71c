import { extractSources } from '@optimus-ts/plugin-sdk/sql';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

const sourcesOf = (sql: string, opts: Parameters<typeof extractSources>[1] = {}) =>
  extractSources(sql, opts).sources;

describe('extractSources: which tables a BigQuery script reads', () => {
  it('reads `p.d.t`, `p`.`d`.`t` and bare p.d.t as the same URN form', () => {
    expect(
      sourcesOf('SELECT * FROM `p1.d1.t1` JOIN `p2`.`d2`.`t2` USING (id) JOIN p3.d3.t3 USING (id)'),
    ).toEqual(['bigquery://p1:d1.t1', 'bigquery://p2:d2.t2', 'bigquery://p3:d3.t3']);
  });

  it('gives a dataset.table name the default project, and warns about it without one', () => {
    expect(extractSources('SELECT * FROM sales.orders', { defaultProject: 'acme' })).toEqual({
      sources: ['bigquery://acme:sales.orders'],
      warnings: [],
    });
    const { sources, warnings } = extractSources('SELECT * FROM sales.orders');
    expect(sources).toEqual([]);
    expect(warnings).toEqual([
      "statement 1 (line 1): table `sales.orders` names no project and no default project is set; it is not inferred, list it under the job's dependencies",
    ]);
  });

  it('keeps hyphenated projects and sorts and de-duplicates what it finds', () => {
    expect(
      sourcesOf(
        'SELECT * FROM `my-proj.z.b` a JOIN `my-proj.z.a` b USING (k) JOIN `my-proj.z.b` c USING (k)',
      ),
    ).toEqual(['bigquery://my-proj:z.a', 'bigquery://my-proj:z.b']);
  });

  it('drops CTE names, nested CTEs included, but keeps the tables their bodies read', () => {
    const sql = `
      WITH orders AS (SELECT * FROM \`shop.raw.orders\`),
           enriched AS (
             WITH c AS (SELECT * FROM \`shop.raw.customers\`)
             SELECT * FROM orders JOIN c USING (customer_id)
           )
      SELECT * FROM enriched`;
    expect(extractSources(sql)).toEqual({
      sources: ['bigquery://shop:raw.customers', 'bigquery://shop:raw.orders'],
      warnings: [],
    });
  });

  it('finds tables in nested subqueries, EXISTS, scalar subqueries, ARRAY() and UNION', () => {
    const sql = `
      SELECT (SELECT MAX(ts) FROM \`p.d.scalar\`) AS latest, ARRAY(SELECT x FROM \`p.d.arr\`) AS xs
      FROM (SELECT * FROM (SELECT * FROM \`p.d.deep\`) AS inner1) AS outer1
      WHERE EXISTS (SELECT 1 FROM \`p.d.exists\` e WHERE e.id = outer1.id)
      UNION ALL
      SELECT NULL, NULL FROM \`p.d.union\``;
    expect(sourcesOf(sql)).toEqual([
      'bigquery://p:d.arr',
      'bigquery://p:d.deep',
      'bigquery://p:d.exists',
      'bigquery://p:d.scalar',
      'bigquery://p:d.union',
    ]);
  });

  it('does not take UNNEST or an alias.array path for a table', () => {
    const sql = 'SELECT * FROM `p.d.events` AS e, UNNEST(e.params) AS p CROSS JOIN e.items AS i';
    expect(extractSources(sql, { defaultProject: 'p' })).toEqual({
      sources: ['bigquery://p:d.events'],
      warnings: [],
    });
  });

  it('keeps wildcard tables and reads a partition decorator as its table', () => {
    expect(
      sourcesOf(
        "SELECT * FROM `p.analytics.events_*` WHERE _TABLE_SUFFIX > '2024' UNION ALL SELECT * FROM `p.d.t$20240101`",
      ),
    ).toEqual(['bigquery://p:analytics.events_*', 'bigquery://p:d.t']);
  });

  it('ignores table-like text in comments and string literals', () => {
    const sql = `
      -- from p.d.line_comment; join p.d.x
      # from p.d.hash_comment
      /* select * from \`p.d.block_comment\`; */
      SELECT 'from p.d.in_string; select 1' AS a, "join \`p.d.dq\`" AS b, '''from p.d.triple''' AS c
      FROM \`p.d.real\``;
    expect(extractSources(sql)).toEqual({ sources: ['bigquery://p:d.real'], warnings: [] });
  });

  it('does not count tables written (INSERT, CREATE … AS, UPDATE, DELETE, TRUNCATE) but counts what they read', () => {
    const sql = `
      INSERT INTO \`p.out.a\` SELECT * FROM \`p.in.a\`;
      CREATE OR REPLACE TABLE \`p.out.b\` AS SELECT * FROM \`p.in.b\`;
      UPDATE \`p.out.c\` SET x = 1 WHERE id IN (SELECT id FROM \`p.in.c\`);
      DELETE FROM \`p.out.d\` WHERE id IN (SELECT id FROM \`p.in.d\`);
      TRUNCATE TABLE \`p.out.e\`;`;
    expect(extractSources(sql)).toEqual({
      sources: ['bigquery://p:in.a', 'bigquery://p:in.b', 'bigquery://p:in.c', 'bigquery://p:in.d'],
      warnings: [],
    });
  });

  it('removes the destination, given as a URN, p:d.t or p.d.t', () => {
    const sql = 'SELECT * FROM `p.d.dest` UNION ALL SELECT * FROM `p.d.other`';
    for (const destination of ['bigquery://p:d.dest', 'p:d.dest', 'p.d.dest']) {
      expect(sourcesOf(sql, { destination })).toEqual(['bigquery://p:d.other']);
    }
  });

  it('honours /* @ignoreupstream */ before a table, for that reference only', () => {
    const sql = `
      SELECT * FROM /* @ignoreupstream */ \`p.d.ignored\`
      JOIN /*@IgnoreUpstream*/ p.d.bare_ignored USING (id)
      JOIN \`p.d.kept\` USING (id)`;
    expect(extractSources(sql)).toEqual({ sources: ['bigquery://p:d.kept'], warnings: [] });
    expect(sourcesOf('SELECT * FROM /* @ignoreupstream */ `p.d.t` UNION ALL SELECT * FROM `p.d.t`')).toEqual([
      'bigquery://p:d.t',
    ]);
  });

  it('reads MERGE by hand: the target is not a source, the USING table or subquery and condition subqueries are', () => {
    const sql = `
      MERGE \`p.d.target\` T
      USING (SELECT * FROM \`p.d.staging\` WHERE day = @day) S
      ON T.id = S.id
      WHEN MATCHED AND S.id IN (SELECT id FROM \`p.d.allowed\`) THEN UPDATE SET v = S.v
      WHEN NOT MATCHED THEN INSERT ROW;
      MERGE INTO p.d.target2 USING \`p.d.plain_source\` ON FALSE WHEN NOT MATCHED THEN INSERT ROW`;
    expect(extractSources(sql)).toEqual({
      sources: ['bigquery://p:d.allowed', 'bigquery://p:d.plain_source', 'bigquery://p:d.staging'],
      warnings: [],
    });
  });

  it('reads DECLARE … DEFAULT, SET, IF/ELSE, BEGIN … END and transactions in a script', () => {
    const sql = `
      DECLARE since DATE DEFAULT (SELECT MAX(day) FROM \`p.d.watermark\`);
      DECLARE n INT64;
      SET n = (SELECT COUNT(*) FROM \`p.d.counted\`);
      BEGIN TRANSACTION;
      IF EXISTS (SELECT 1 FROM \`p.d.flag\`) THEN
        INSERT INTO \`p.d.out\` SELECT * FROM \`p.d.when_true\`;
      ELSE
        INSERT INTO \`p.d.out\` SELECT * FROM \`p.d.when_false\`;
      END IF;
      BEGIN
        CREATE TEMP TABLE staged AS SELECT * FROM \`p.d.raw\`;
        SELECT * FROM staged;
      EXCEPTION WHEN ERROR THEN
        SELECT 1;
      END;
      COMMIT TRANSACTION;`;
    expect(extractSources(sql, { destination: 'bigquery://p:d.out' })).toEqual({
      sources: [
        'bigquery://p:d.counted',
        'bigquery://p:d.flag',
        'bigquery://p:d.raw',
        'bigquery://p:d.watermark',
        'bigquery://p:d.when_false',
        'bigquery://p:d.when_true',
      ],
      warnings: [],
    });
  });

  it('warns about a statement it cannot parse, naming its number and line, and still reads the others', () => {
    const sql = [
      'SELECT * FROM `p.d.first`;',
      '',
      '-- a comment before the statement',
      'SELECT * EXCEPT (secret) FROM `p.d.unreadable`',
      '  TABLESAMPLE SYSTEM (10 PERCENT);',
      'SELECT * FROM `p.d.third`',
    ].join('\n');
    expect(extractSources(sql)).toEqual({
      sources: ['bigquery://p:d.first', 'bigquery://p:d.third'],
      warnings: [
        "statement 2 (line 4) could not be parsed: SELECT * EXCEPT (secret) FROM `p.d.unreadable`; tables it reads are not inferred, list them under the job's dependencies",
      ],
    });
  });

  it('reads QUALIFY with or without a WHERE, and temp functions (their subqueries only)', () => {
    const sql = `
      CREATE TEMP FUNCTION js(s STRING) RETURNS STRING LANGUAGE js AS """return s; // from p.d.js""";
      CREATE TEMP FUNCTION lookup(k INT64) AS ((SELECT v FROM \`p.d.lookup\` WHERE id = k));
      SELECT a, ROW_NUMBER() OVER (PARTITION BY b ORDER BY c DESC) AS rn FROM \`p.d.ranked\` QUALIFY rn = 1;
      SELECT a FROM \`p.d.grouped\` GROUP BY a QUALIFY COUNT(*) OVER () > 1;
      SELECT a FROM \`p.d.filtered\` WHERE a > 0 QUALIFY ROW_NUMBER() OVER (ORDER BY a) = 1`;
    expect(extractSources(sql)).toEqual({
      sources: [
        'bigquery://p:d.filtered',
        'bigquery://p:d.grouped',
        'bigquery://p:d.lookup',
        'bigquery://p:d.ranked',
      ],
      warnings: [],
    });
  });

  it('does not split a statement at a ; inside a string, a backtick name or a comment', () => {
    const { sources, warnings } = extractSources(
      "SELECT ';' AS a, `p.d.t`.x FROM `p.d.t` /* ; */ -- ;\nWHERE b != ';'; SELECT 2",
    );
    expect(warnings).toEqual([]);
    expect(sources).toEqual(['bigquery://p:d.t']);
  });

  it('warns about a table that names no dataset, unless the script created it', () => {
    const { sources, warnings } = extractSources(
      'CREATE TEMP TABLE tmp AS SELECT * FROM `p.d.a`;\nSELECT * FROM tmp JOIN lonely USING (id)',
    );
    expect(sources).toEqual(['bigquery://p:d.a']);
    expect(warnings).toEqual([
      "statement 2 (line 2): table `lonely` names no dataset; it is not inferred, list it under the job's dependencies",
    ]);
  });

  it('skips INFORMATION_SCHEMA views, which no job writes', () => {
    expect(extractSources('SELECT * FROM `region-us`.INFORMATION_SCHEMA.JOBS')).toEqual({
      sources: [],
      warnings: [],
    });
  });

  it('answers an empty script or one of comments only with nothing', () => {
    expect(extractSources('')).toEqual({ sources: [], warnings: [] });
    expect(extractSources('-- nothing yet\n/* todo */\n;;')).toEqual({ sources: [], warnings: [] });
  });

  it('reads a rendered Optimus bq2bq query (window dates substituted) like upstream jobs have', () => {
    const sql = `-- rendered from query.sql
      SELECT
        DATE('2024-01-01') AS day,
        o.customer_id,
        SUM(o.amount) AS revenue
      FROM \`acme-data.sales.orders\` o
      LEFT JOIN \`acme-data.crm.customers\` c ON c.id = o.customer_id
      WHERE o.created_at >= TIMESTAMP('2024-01-01T00:00:00Z')
        AND o.created_at < TIMESTAMP('2024-01-02T00:00:00Z')
      GROUP BY 1, 2`;
    expect(
      sourcesOf(sql, { destination: 'bigquery://acme-data:mart.revenue', defaultProject: 'acme-data' }),
    ).toEqual(['bigquery://acme-data:crm.customers', 'bigquery://acme-data:sales.orders']);
  });
});

describe('extractSources: generated queries', () => {
  const word = fc.stringMatching(/^[a-z][a-z0-9_]{0,10}$/).map((w) => `x${w}`);
  const project = fc.stringMatching(/^[a-z][a-z0-9-]{2,12}[a-z0-9]$/);
  const table = fc.record({ project, dataset: word, table: word });
  type Table = { project: string; dataset: string; table: string };
  const urn = (t: Table) => `bigquery://${t.project}:${t.dataset}.${t.table}`;
  const forms = [
    (t: Table) => `\`${t.project}.${t.dataset}.${t.table}\``,
    (t: Table) => `\`${t.project}\`.\`${t.dataset}\`.\`${t.table}\``,
    (t: Table) => `\`${t.project}\`.${t.dataset}.${t.table}`,
  ];

  it('round-trips generated table names through CTEs, joins, subqueries and UNION into exactly their URNs', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({ t: table, form: fc.nat(forms.length - 1), shape: fc.nat(3), ignored: fc.boolean() }),
          {
            minLength: 1,
            maxLength: 8,
          },
        ),
        table,
        (reads, destination) => {
          const ctes: string[] = [];
          const selects: string[] = [];
          reads.forEach(({ t, form, shape, ignored }, i) => {
            const ref = `${ignored ? '/* @ignoreupstream */ ' : ''}${forms[form]!(t)}`;
            if (shape === 0) selects.push(`SELECT a FROM ${ref}`);
            else if (shape === 1) selects.push(`SELECT a FROM (SELECT a FROM ${ref} AS s${i})`);
            else if (shape === 2) {
              ctes.push(`cte${i} AS (SELECT a FROM ${ref})`);
              selects.push(`SELECT a FROM cte${i}`);
            } else
              selects.push(
                `SELECT a FROM \`${destination.project}.${destination.dataset}.${destination.table}\` JOIN ${ref} USING (a)`,
              );
          });
          const query = `${ctes.length ? `WITH ${ctes.join(', ')} ` : ''}${selects.join(' UNION ALL ')}`;
          const script = `INSERT INTO \`${destination.project}.${destination.dataset}.${destination.table}\`\n${query}`;
          const expected = new Set(reads.filter((r) => !r.ignored).map((r) => urn(r.t)));
          expected.delete(urn(destination));
          const result = extractSources(script, { destination: urn(destination) });
          expect(result.warnings).toEqual([]);
          expect(result.sources).toEqual([...expected].sort());
        },
      ),
      { numRuns: 200 },
    );
  });

  it('counts every statement of a generated script, unparseable ones only as warnings', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ t: table, broken: fc.boolean() }), { minLength: 1, maxLength: 6 }),
        (statements) => {
          // TABLESAMPLE is valid BigQuery that node-sql-parser 5.4 cannot read.
          const script = statements
            .map(
              ({ t, broken }) =>
                `SELECT * FROM \`${t.project}.${t.dataset}.${t.table}\`${broken ? ' TABLESAMPLE SYSTEM (1 PERCENT)' : ''}`,
            )
            .join(';\n');
          const result = extractSources(script);
          const readable = statements.filter((s) => !s.broken);
          expect(result.sources).toEqual([...new Set(readable.map((s) => urn(s.t)))].sort());
          const brokenLines = statements.flatMap((s, i) => (s.broken ? [i + 1] : []));
          expect(
            result.warnings.map((w) => /^statement (\d+) \(line (\d+)\)/.exec(w)?.slice(1).map(Number)),
          ).toEqual(brokenLines.map((n) => [n, n]));
        },
      ),
      { numRuns: 100 },
    );
  });
});
