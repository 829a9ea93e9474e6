-- slow_query_texts: the text of the statements $1 (bigint[] of queryid). Reads the whole text
-- file, so it is only called for queryids not already cached. {pgss} is the quoted schema.
SELECT DISTINCT ON (s.queryid) s.queryid, s.query
  FROM {pgss}.pg_stat_statements(true) s
 WHERE s.queryid = ANY($1::int8[])
