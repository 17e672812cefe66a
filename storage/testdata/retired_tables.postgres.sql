-- The dashboards, saved_queries, macros and triggers tables as ent's migration
-- created them on PostgreSQL up to commit c3d4c2d, which defined the Dashboard,
-- SavedQuery, Macro and Trigger schemas: the statements of Schema.WriteTo
-- (migrate.WithForeignKeys(true)) on an empty database at that commit, those
-- four tables' only. Every other statement is the same with and without them.
CREATE TABLE "dashboards" ("id" uuid NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "name" character varying NOT NULL, "description" character varying NOT NULL DEFAULT '', "shared" boolean NOT NULL DEFAULT false, "widgets" jsonb NULL, "layout" jsonb NULL, "organization_id" uuid NOT NULL, "owner_id" uuid NULL, PRIMARY KEY ("id"));
CREATE INDEX "dashboard_organization_id_created_at" ON "dashboards" ("organization_id", "created_at");
CREATE TABLE "macros" ("id" uuid NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "name" character varying NOT NULL, "description" character varying NOT NULL DEFAULT '', "target" character varying NOT NULL, "actions" jsonb NOT NULL, "organization_id" uuid NOT NULL, PRIMARY KEY ("id"));
CREATE INDEX "macro_organization_id_created_at" ON "macros" ("organization_id", "created_at");
CREATE TABLE "saved_queries" ("id" uuid NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "name" character varying NOT NULL, "description" character varying NOT NULL DEFAULT '', "source" character varying NOT NULL, "query" text NOT NULL, "shared" boolean NOT NULL DEFAULT false, "organization_id" uuid NOT NULL, "owner_id" uuid NULL, PRIMARY KEY ("id"));
CREATE INDEX "savedquery_organization_id_created_at" ON "saved_queries" ("organization_id", "created_at");
CREATE TABLE "triggers" ("id" uuid NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "name" character varying NOT NULL, "event" character varying NOT NULL, "condition" text NOT NULL DEFAULT '', "actions" jsonb NOT NULL, "position" bigint NOT NULL DEFAULT 0, "enabled" boolean NOT NULL DEFAULT true, "organization_id" uuid NOT NULL, PRIMARY KEY ("id"));
CREATE INDEX "trigger_organization_id_created_at" ON "triggers" ("organization_id", "created_at");
ALTER TABLE "dashboards" ADD CONSTRAINT "dashboards_organizations_organization" FOREIGN KEY ("organization_id") REFERENCES "organizations" ("id") ON DELETE NO ACTION, ADD CONSTRAINT "dashboards_users_owner" FOREIGN KEY ("owner_id") REFERENCES "users" ("id") ON DELETE SET NULL;
ALTER TABLE "macros" ADD CONSTRAINT "macros_organizations_organization" FOREIGN KEY ("organization_id") REFERENCES "organizations" ("id") ON DELETE NO ACTION;
ALTER TABLE "saved_queries" ADD CONSTRAINT "saved_queries_organizations_organization" FOREIGN KEY ("organization_id") REFERENCES "organizations" ("id") ON DELETE NO ACTION, ADD CONSTRAINT "saved_queries_users_owner" FOREIGN KEY ("owner_id") REFERENCES "users" ("id") ON DELETE SET NULL;
ALTER TABLE "triggers" ADD CONSTRAINT "triggers_organizations_organization" FOREIGN KEY ("organization_id") REFERENCES "organizations" ("id") ON DELETE NO ACTION;
