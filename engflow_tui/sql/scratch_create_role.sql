-- scratch_create_role: a role a dump's policies name ({role}: a quoted identifier), created on
-- the throw-away server of a test restore only (never on a watched database). Any version.
CREATE ROLE {role} NOLOGIN
