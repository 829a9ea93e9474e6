-- slow_query_texts: the text of the statements $1 (bigint[] of queryid), and whether each is
-- the console's own: run by this role with the console's marker $2 in its text. A client of
-- another role writing the marker in its statements does not hide them (the text alone is
-- anybody's to write). Reads the whole text file, so it is only called for queryids not
-- already cached. Texts of this database (its entries are what the panel lists). {pgss} is the
-- quoted schema.
WITH me AS (SELECT oid FROM pg_roles WHERE rolname = current_user)
SELECT DISTINCT ON (s.queryid) s.queryid, s.query,
       (s.userid = (SELECT oid FROM me) AND strpos(s.query, $2::text) > 0) AS own
  FROM {pgss}.pg_stat_statements(true) s
 WHERE s.queryid = ANY($1::int8[])
   AND s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
 ORDER BY s.queryid, (s.userid = (SELECT oid FROM me)) DESC
