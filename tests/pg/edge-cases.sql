-- Generated edge cases for the pg_dump oracle (tests/integration/pg.sh):
-- what a schema-and-data round trip gets wrong first.
CREATE SCHEMA "Odd Schema";
CREATE SCHEMA ünïcode;
COMMENT ON SCHEMA ünïcode IS 'non-ASCII names';
CREATE EXTENSION IF NOT EXISTS pgcrypto WITH SCHEMA public;

CREATE TYPE public.mood AS ENUM ('sad', 'ok', 'happy', 'it''s "fine"');
CREATE DOMAIN public.posint AS integer DEFAULT 1 NOT NULL CHECK (VALUE > 0);
CREATE DOMAIN public.email AS text COLLATE "C" CHECK (VALUE ~ '@');
ALTER DOMAIN public.email ADD CONSTRAINT email_short CHECK (length(VALUE) < 200) NOT VALID;
CREATE TYPE public.pair AS (a integer, b text, m public.mood);
COMMENT ON TYPE public.pair IS 'a composite';
CREATE TYPE public.floatrange AS RANGE (subtype = float8, subtype_diff = float8mi);

CREATE FUNCTION public.add_one(x integer) RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS 'SELECT x + 1';
CREATE FUNCTION public.touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN NEW.updated := now(); RETURN NEW; END $$;
CREATE PROCEDURE public.noop(a integer) LANGUAGE sql AS $$ SELECT 1 $$;
CREATE AGGREGATE public.concat_all(text) (SFUNC = textcat, STYPE = text, INITCOND = '');

CREATE TABLE "Odd Schema"."Mixed ""Case"" Table" (
    "Id" integer GENERATED ALWAYS AS IDENTITY (START WITH 100 INCREMENT BY 5),
    "tab	name" text,
    "naïve" text COLLATE "C",
    doubled integer GENERATED ALWAYS AS ("Id" * 2) STORED,
    PRIMARY KEY ("Id")
);
COMMENT ON TABLE "Odd Schema"."Mixed ""Case"" Table" IS 'quotes "and" tabs';
COMMENT ON COLUMN "Odd Schema"."Mixed ""Case"" Table"."naïve" IS 'é';

CREATE TABLE public.types (
    id bigserial PRIMARY KEY,
    j jsonb,
    js json,
    arr integer[],
    tarr text[],
    b bytea,
    t text,
    n numeric(12,4),
    nn numeric,
    f float8,
    r real,
    ts timestamp,
    tstz timestamptz,
    d date,
    iv interval,
    rng int4range,
    trng tstzrange,
    fr public.floatrange,
    m public.mood,
    p public.pair,
    pos public.posint,
    mail public.email,
    u uuid DEFAULT gen_random_uuid(),
    inet_ inet,
    bits bit varying(16),
    x xml,
    dropme text,
    v varchar(20) DEFAULT 'x'::character varying,
    CONSTRAINT t_len CHECK (length(t) < 1000),
    CONSTRAINT n_nonneg CHECK (n >= 0) NOT VALID
);
ALTER TABLE public.types DROP COLUMN dropme;
ALTER TABLE public.types ALTER COLUMN t SET STATISTICS 500;
ALTER TABLE public.types ALTER COLUMN b SET STORAGE EXTERNAL;
CREATE INDEX types_j_gin ON public.types USING gin (j jsonb_path_ops);
CREATE INDEX types_lower_t ON public.types (lower(t)) WHERE t IS NOT NULL;
CREATE INDEX types_incl ON public.types (d) INCLUDE (n);
CREATE INDEX types_rng ON public.types USING gist (rng);
CREATE UNIQUE INDEX types_u ON public.types (u) WITH (fillfactor = 70);

INSERT INTO public.types (j, js, arr, tarr, b, t, n, nn, f, r, ts, tstz, d, iv, rng, trng, fr, m, p, pos, mail, inet_, bits, x, v) VALUES
 ('{"a": [1, 2, {"b": null}], "ü": "\u00e9"}', '{"keep":  "spacing"}', '{1,NULL,3}', '{"a b","c,d","e\"f",NULL,"NULL"}',
  '\x00ff00deadbeef00', E'tab\there\nnewline\\backslash\r\n\\.\n\\N', 12.5, 'NaN', 'Infinity', '-0', 'infinity', '-infinity',
  '2024-02-29', '1 year 2 mons 3 days 04:05:06.789', '[1,10)', '[2024-01-01 00:00+00,infinity)', '[1.5,2.5]', 'it''s "fine"',
  ROW(1, E'x\ty', 'ok'), 7, 'a@b', '10.0.0.1/8', B'1011', '<a x="1">t&amp;</a>', ''),
 (NULL, NULL, '{}', '{}', '', '', 0, -1e-30, 'NaN', 3.4e38, '-infinity', 'infinity', '0001-01-01 BC', '-1 day', 'empty', NULL, NULL, NULL,
  NULL, 1, NULL, NULL, NULL, NULL, NULL),
 (NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 2, NULL, NULL, NULL, NULL, NULL);
INSERT INTO "Odd Schema"."Mixed ""Case"" Table" ("tab	name", "naïve") VALUES ('a', 'b'), (E'\\N', NULL), ('', '');

-- User collations (ICU, non-deterministic; libc), used by columns.
CREATE COLLATION public.german_ci (provider = icu, locale = 'de-u-ks-level2', deterministic = false);
CREATE COLLATION public.c_copy (provider = libc, locale = 'C');
COMMENT ON COLLATION public.c_copy IS 'libc C';
CREATE TABLE public.names (n text COLLATE public.german_ci, m text COLLATE public.c_copy);
INSERT INTO public.names VALUES ('Straße', 'b'), ('STRASSE', 'a');

-- Foreign-key cycle, self reference, deferrable constraints.
CREATE TABLE public.a (id int PRIMARY KEY, b_id int);
CREATE TABLE public.b (id int PRIMARY KEY, a_id int REFERENCES public.a DEFERRABLE INITIALLY DEFERRED);
ALTER TABLE public.a ADD CONSTRAINT a_b_fk FOREIGN KEY (b_id) REFERENCES public.b DEFERRABLE;
CREATE TABLE public.tree (id int PRIMARY KEY, parent int REFERENCES public.tree ON DELETE CASCADE, UNIQUE (parent, id));
BEGIN;
SET CONSTRAINTS ALL DEFERRED;
INSERT INTO public.a VALUES (1, 1), (2, NULL);
INSERT INTO public.b VALUES (1, 1);
COMMIT;
INSERT INTO public.tree VALUES (1, NULL), (2, 1), (3, 2);

-- Exclusion constraint.
CREATE TABLE public.booking (room int, during tsrange, EXCLUDE USING gist (during WITH &&));
INSERT INTO public.booking VALUES (1, '[2024-01-01,2024-01-02)');

-- Partitions with a default, sub-partitions, a partition-local index.
CREATE TABLE public.events (id bigint NOT NULL, at date NOT NULL, kind text DEFAULT 'x', payload jsonb)
    PARTITION BY RANGE (at);
CREATE TABLE public.events_2024 PARTITION OF public.events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE public.events_2025 PARTITION OF public.events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')
    PARTITION BY HASH (id);
CREATE TABLE public.events_2025_a PARTITION OF public.events_2025 FOR VALUES WITH (MODULUS 2, REMAINDER 0);
CREATE TABLE public.events_2025_b PARTITION OF public.events_2025 FOR VALUES WITH (MODULUS 2, REMAINDER 1);
CREATE TABLE public.events_default PARTITION OF public.events DEFAULT;
ALTER TABLE public.events ADD PRIMARY KEY (id, at);
CREATE INDEX events_kind ON public.events (kind);
CREATE INDEX events_2024_payload ON public.events_2024 USING gin (payload);
ALTER TABLE public.events_2024 ALTER COLUMN kind SET DEFAULT 'y';
INSERT INTO public.events SELECT g, date '2024-01-01' + g * 3, CASE WHEN g % 2 = 0 THEN 'a' END, jsonb_build_object('g', g)
    FROM generate_series(1, 400) g;
CREATE TRIGGER events_noop BEFORE INSERT ON public.events FOR EACH ROW EXECUTE FUNCTION public.touch();
ALTER TABLE public.events DISABLE TRIGGER events_noop;

-- Inheritance with a merged column and an inherited check.
CREATE TABLE public.parent (id int, note text CHECK (note <> 'bad'), updated timestamptz);
CREATE TABLE public.child (extra int, note text) INHERITS (public.parent);
INSERT INTO public.parent VALUES (1, 'p', NULL);
INSERT INTO public.child VALUES (2, 'c', NULL, 9);
CREATE TRIGGER child_touch BEFORE UPDATE ON public.child FOR EACH ROW EXECUTE FUNCTION public.touch();
COMMENT ON TRIGGER child_touch ON public.child IS 'keeps updated';

-- Unlogged table, sequences, views, a materialized view, a rule.
CREATE UNLOGGED TABLE public.scratch (k text PRIMARY KEY, v int) WITH (fillfactor = 80);
INSERT INTO public.scratch VALUES ('k', 1);
CREATE SEQUENCE public.counter AS integer START WITH 10 INCREMENT BY 3 MAXVALUE 1000 CYCLE;
SELECT nextval('public.counter') AS n1, nextval('public.counter') AS n2 \gset
CREATE SEQUENCE public.unused;
CREATE VIEW public.v_types WITH (security_barrier = true) AS SELECT id, t FROM public.types WHERE id > 0;
CREATE VIEW public.v_check AS SELECT * FROM public.scratch WHERE v > 0 WITH CASCADED CHECK OPTION;
CREATE MATERIALIZED VIEW public.mv_events AS SELECT kind, count(*) AS n FROM public.events GROUP BY kind;
CREATE UNIQUE INDEX mv_events_kind ON public.mv_events (kind);
CREATE MATERIALIZED VIEW public.mv_empty AS SELECT 1 AS one WITH NO DATA;
CREATE RULE scratch_protect AS ON DELETE TO public.scratch WHERE OLD.k = 'keep' DO INSTEAD NOTHING;
CREATE STATISTICS public.types_stats (dependencies) ON d, n FROM public.types;

-- Row-level security and policies.
CREATE TABLE public.secrets (id int PRIMARY KEY, owner_name text, body text);
ALTER TABLE public.secrets ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.secrets FORCE ROW LEVEL SECURITY;
CREATE POLICY own_rows ON public.secrets FOR SELECT TO PUBLIC USING (owner_name = current_user);
CREATE POLICY no_bad ON public.secrets AS RESTRICTIVE FOR INSERT WITH CHECK (body <> 'bad');
INSERT INTO public.secrets VALUES (1, 'postgres', 'x');

-- Grants and an owner other than the superuser.
DO $$BEGIN CREATE ROLE ferry_reader; EXCEPTION WHEN duplicate_object THEN NULL; END$$;
GRANT SELECT ON public.types TO ferry_reader;
GRANT USAGE ON SCHEMA "Odd Schema" TO ferry_reader WITH GRANT OPTION;
REVOKE EXECUTE ON FUNCTION public.add_one(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.add_one(integer) TO ferry_reader;
ALTER TABLE public.scratch OWNER TO ferry_reader;

-- A large table, so its COPY stream is cut into several archive parts.
CREATE TABLE public.big (id int PRIMARY KEY, body text, ref int REFERENCES public.tree (id));
INSERT INTO public.big SELECT g, repeat(md5(g::text), 8), 1 + g % 3 FROM generate_series(1, 40000) g;

-- Storage parameters of a table's TOAST table; an index column's statistics target.
ALTER TABLE public.big SET (toast.autovacuum_enabled = false, autovacuum_enabled = true);
CREATE INDEX big_expr ON public.big ((id % 7), lower(body));
ALTER INDEX public.big_expr ALTER COLUMN 1 SET STATISTICS 400;

-- A partition created on its own, columns in another order and one dropped,
-- then attached: its COPY must go by column name.
CREATE TABLE public.readings (sensor int NOT NULL, at date NOT NULL, value numeric CHECK (value >= 0))
    PARTITION BY LIST (sensor);
CREATE TABLE public.readings_1 (value numeric CONSTRAINT readings_value_check CHECK (value >= 0), junk text, at date NOT NULL, sensor int NOT NULL);
ALTER TABLE public.readings_1 DROP COLUMN junk;
ALTER TABLE public.readings ATTACH PARTITION public.readings_1 FOR VALUES IN (1);
CREATE TABLE public.readings_2 PARTITION OF public.readings FOR VALUES IN (2);
INSERT INTO public.readings VALUES (1, '2024-05-01', 1.5), (2, '2024-05-02', 2.5), (1, '2024-05-03', 0);

-- Constraints whose index ferry builds first and then adopts (USING INDEX),
-- and ones it cannot adopt: deferrable, INCLUDE columns.  NULLS NOT
-- DISTINCT and index storage options must survive either way.
CREATE TABLE public.adopt (
    id int, code text, x int, y int, z int,
    CONSTRAINT adopt_pk PRIMARY KEY (id) WITH (fillfactor = 60),
    CONSTRAINT adopt_code UNIQUE NULLS NOT DISTINCT (code),
    CONSTRAINT adopt_xy UNIQUE (x) INCLUDE (y),
    CONSTRAINT adopt_z UNIQUE (z) DEFERRABLE INITIALLY DEFERRED);
COMMENT ON CONSTRAINT adopt_pk ON public.adopt IS 'adopted';
INSERT INTO public.adopt VALUES (1, 'a', 1, 1, 1), (2, NULL, 2, 2, 2);
