CREATE TABLE "quotas" (
	"project_id" text NOT NULL,
	"resource" text NOT NULL,
	"limit" integer NOT NULL,
	CONSTRAINT "quotas_project_id_resource_pk" PRIMARY KEY("project_id","resource")
);
--> statement-breakpoint
CREATE TABLE "tags" (
	"resource_id" uuid NOT NULL,
	"resource_type" text NOT NULL,
	"tag" text NOT NULL,
	CONSTRAINT "tags_resource_id_tag_pk" PRIMARY KEY("resource_id","tag")
);
--> statement-breakpoint
CREATE INDEX "tags_tag_idx" ON "tags" USING btree ("tag");