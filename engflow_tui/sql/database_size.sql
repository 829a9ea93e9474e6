-- database_size: size in bytes of the current database (cost grows with relations: slow cadence).
SELECT pg_database_size(current_database())::int8 AS size_bytes
