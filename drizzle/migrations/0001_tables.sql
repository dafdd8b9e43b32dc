CREATE SCHEMA "auth";
--> statement-breakpoint
CREATE SCHEMA "projects";
--> statement-breakpoint
CREATE SCHEMA "experiments_v1";
--> statement-breakpoint
CREATE SCHEMA "production";
--> statement-breakpoint
CREATE SCHEMA "quarantine";
--> statement-breakpoint
CREATE SCHEMA "providers";
--> statement-breakpoint
CREATE SCHEMA "audits";
--> statement-breakpoint
CREATE SCHEMA "ops";
--> statement-breakpoint
CREATE SCHEMA "analytics";
--> statement-breakpoint
CREATE TABLE "auth"."audit_logs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"org_id" uuid,
	"user_id" uuid,
	"event" text NOT NULL,
	"email_hash" text,
	"ip" text,
	"user_agent" text,
	"details" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "audit_logs_event_check" CHECK ("auth"."audit_logs"."event" in ('login_succeeded', 'login_failed', 'login_locked', 'account_locked', 'mfa_succeeded', 'mfa_failed', 'mfa_enabled', 'mfa_disabled', 'recovery_code_used', 'logout', 'token_refreshed', 'token_reuse_detected', 'password_reset_requested', 'password_reset', 'password_changed', 'registered', 'invitation_created', 'invitation_revoked', 'session_revoked', 'rate_limited')),
	CONSTRAINT "audit_logs_email_hash_check" CHECK ("auth"."audit_logs"."email_hash" ~ '^[0-9a-f]{64}$')
);
--> statement-breakpoint
CREATE TABLE "auth"."invitations" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"org_id" uuid NOT NULL,
	"code_hash" text NOT NULL,
	"email" text,
	"role" text DEFAULT 'member' NOT NULL,
	"grants_platform_admin" boolean DEFAULT false NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"used_at" timestamp with time zone,
	"used_by" uuid,
	"revoked_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_by" uuid,
	"updated_by" uuid,
	CONSTRAINT "invitations_code_hash_check" CHECK ("auth"."invitations"."code_hash" ~ '^[0-9a-f]{64}$'),
	CONSTRAINT "invitations_role_check" CHECK ("auth"."invitations"."role" in ('owner', 'admin', 'member', 'viewer')),
	CONSTRAINT "invitations_email_check" CHECK ("auth"."invitations"."email" ~ '^[^@[:space:]]+@[^@[:space:]]+$'),
	CONSTRAINT "invitations_used_revoked_check" CHECK ("auth"."invitations"."used_at" is null or "auth"."invitations"."revoked_at" is null)
);
--> statement-breakpoint
CREATE TABLE "auth"."password_resets" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"org_id" uuid NOT NULL,
	"user_id" uuid NOT NULL,
	"token_hash" text NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"used_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "password_resets_token_hash_check" CHECK ("auth"."password_resets"."token_hash" ~ '^[0-9a-f]{64}$')
);
--> statement-breakpoint
CREATE TABLE "auth"."recovery_codes" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"org_id" uuid NOT NULL,
	"user_id" uuid NOT NULL,
	"code_hash" text NOT NULL,
	"used_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "recovery_codes_code_hash_check" CHECK ("auth"."recovery_codes"."code_hash" ~ '^[0-9a-f]{64}$')
);
--> statement-breakpoint
CREATE TABLE "auth"."sessions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"org_id" uuid NOT NULL,
	"user_id" uuid NOT NULL,
	"family_id" uuid NOT NULL,
	"token_hash" text NOT NULL,
	"previous_token_hash" text,
	"rotated_at" timestamp with time zone,
	"user_agent" text,
	"ip" text,
	"last_used_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"revoked_at" timestamp with time zone,
	"revoked_reason" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "sessions_token_hash_check" CHECK ("auth"."sessions"."token_hash" ~ '^[0-9a-f]{64}$'),
	CONSTRAINT "sessions_previous_token_hash_check" CHECK ("auth"."sessions"."previous_token_hash" ~ '^[0-9a-f]{64}$'),
	CONSTRAINT "sessions_rotation_check" CHECK (("auth"."sessions"."previous_token_hash" is null) = ("auth"."sessions"."rotated_at" is null)),
	CONSTRAINT "sessions_revoked_reason_check" CHECK ("auth"."sessions"."revoked_reason" in ('logout', 'token_reuse', 'password_reset', 'password_changed', 'user_revoked', 'admin_revoked', 'account_disabled')),
	CONSTRAINT "sessions_revoked_check" CHECK ("auth"."sessions"."revoked_reason" is null or "auth"."sessions"."revoked_at" is not null)
);
--> statement-breakpoint
CREATE TABLE "auth"."users" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"org_id" uuid NOT NULL,
	"email" text NOT NULL,
	"name" text NOT NULL,
	"password_hash" text NOT NULL,
	"role" text DEFAULT 'member' NOT NULL,
	"is_platform_admin" boolean DEFAULT false NOT NULL,
	"failed_attempts" integer DEFAULT 0 NOT NULL,
	"locked_until" timestamp with time zone,
	"totp_secret_encrypted" text,
	"totp_enabled" boolean DEFAULT false NOT NULL,
	"totp_last_step" bigint,
	"email_verified_at" timestamp with time zone,
	"password_changed_at" timestamp with time zone,
	"last_login_at" timestamp with time zone,
	"status" text DEFAULT 'active' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_by" uuid,
	"updated_by" uuid,
	"deleted_at" timestamp with time zone,
	"version" integer DEFAULT 1 NOT NULL,
	CONSTRAINT "users_email_check" CHECK ("auth"."users"."email" ~ '^[^@[:space:]]+@[^@[:space:]]+$' and length("auth"."users"."email") <= 320),
	CONSTRAINT "users_role_check" CHECK ("auth"."users"."role" in ('owner', 'admin', 'member', 'viewer')),
	CONSTRAINT "users_status_check" CHECK ("auth"."users"."status" in ('active', 'disabled')),
	CONSTRAINT "users_failed_attempts_check" CHECK ("auth"."users"."failed_attempts" >= 0),
	CONSTRAINT "users_totp_last_step_check" CHECK ("auth"."users"."totp_last_step" >= 0),
	CONSTRAINT "users_totp_enabled_check" CHECK (not "auth"."users"."totp_enabled" or "auth"."users"."totp_secret_encrypted" is not null),
	CONSTRAINT "users_version_check" CHECK ("auth"."users"."version" > 0)
);
--> statement-breakpoint
CREATE TABLE "projects"."baselines" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"org_id" uuid NOT NULL,
	"project_id" uuid NOT NULL,
	"metric" text NOT NULL,
	"operator" text NOT NULL,
	"threshold" double precision NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_by" uuid,
	"updated_by" uuid,
	"version" integer DEFAULT 1 NOT NULL,
	CONSTRAINT "baselines_operator_check" CHECK ("projects"."baselines"."operator" in ('>', '<', '>=', '<=', '=')),
	CONSTRAINT "baselines_threshold_check" CHECK ("projects"."baselines"."threshold" not in ('NaN'::float8, 'Infinity'::float8, '-Infinity'::float8)),
	CONSTRAINT "baselines_version_check" CHECK ("projects"."baselines"."version" > 0)
);
--> statement-breakpoint
CREATE TABLE "projects"."organizations" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"slug" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_by" uuid,
	"updated_by" uuid,
	"deleted_at" timestamp with time zone,
	"version" integer DEFAULT 1 NOT NULL,
	CONSTRAINT "organizations_slug_check" CHECK ("projects"."organizations"."slug" ~ '^[a-z0-9]([a-z0-9-]*[a-z0-9])?$' and length("projects"."organizations"."slug") <= 63),
	CONSTRAINT "organizations_version_check" CHECK ("projects"."organizations"."version" > 0)
);
--> statement-breakpoint
CREATE TABLE "projects"."policies" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"org_id" uuid NOT NULL,
	"name" text NOT NULL,
	"description" text,
	"rego" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_by" uuid,
	"updated_by" uuid,
	"deleted_at" timestamp with time zone,
	"version" integer DEFAULT 1 NOT NULL,
	CONSTRAINT "policies_version_check" CHECK ("projects"."policies"."version" > 0)
);
--> statement-breakpoint
CREATE TABLE "projects"."project_errors" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"org_id" uuid NOT NULL,
	"project_id" uuid NOT NULL,
	"validation_id" uuid,
	"code" text NOT NULL,
	"message" text NOT NULL,
	"file_path" text,
	"line_number" integer,
	"severity" text DEFAULT 'error' NOT NULL,
	"resolved_at" timestamp with time zone,
	"resolved_by" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_by" uuid,
	"updated_by" uuid,
	CONSTRAINT "project_errors_severity_check" CHECK ("projects"."project_errors"."severity" in ('info', 'warning', 'error')),
	CONSTRAINT "project_errors_line_number_check" CHECK ("projects"."project_errors"."line_number" > 0),
	CONSTRAINT "project_errors_resolved_check" CHECK ("projects"."project_errors"."resolved_by" is null or "projects"."project_errors"."resolved_at" is not null)
);
--> statement-breakpoint
CREATE TABLE "projects"."project_policies" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"org_id" uuid NOT NULL,
	"project_id" uuid NOT NULL,
	"policy_id" uuid NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_by" uuid,
	"updated_by" uuid
);
--> statement-breakpoint
CREATE TABLE "projects"."projects" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"org_id" uuid NOT NULL,
	"name" text NOT NULL,
	"slug" text NOT NULL,
	"description" text,
	"status" text DEFAULT 'unknown' NOT NULL,
	"schema_status" text DEFAULT 'not_run' NOT NULL,
	"sheriff_status" text DEFAULT 'not_run' NOT NULL,
	"gauntlet_status" text DEFAULT 'not_run' NOT NULL,
	"last_validated_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_by" uuid,
	"updated_by" uuid,
	"deleted_at" timestamp with time zone,
	"version" integer DEFAULT 1 NOT NULL,
	CONSTRAINT "projects_slug_check" CHECK ("projects"."projects"."slug" ~ '^[a-z0-9]([a-z0-9-]*[a-z0-9])?$' and length("projects"."projects"."slug") <= 63),
	CONSTRAINT "projects_status_check" CHECK ("projects"."projects"."status" in ('healthy', 'warning', 'error', 'unknown')),
	CONSTRAINT "projects_schema_status_check" CHECK ("projects"."projects"."schema_status" in ('passed', 'failed', 'pending', 'not_run')),
	CONSTRAINT "projects_sheriff_status_check" CHECK ("projects"."projects"."sheriff_status" in ('passed', 'failed', 'pending', 'not_run')),
	CONSTRAINT "projects_gauntlet_status_check" CHECK ("projects"."projects"."gauntlet_status" in ('passed', 'failed', 'pending', 'not_run')),
	CONSTRAINT "projects_version_check" CHECK ("projects"."projects"."version" > 0)
);
--> statement-breakpoint
CREATE TABLE "projects"."rollback_checkpoints" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"org_id" uuid NOT NULL,
	"project_id" uuid NOT NULL,
	"snapshot" jsonb NOT NULL,
	"reason" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_by" uuid,
	"updated_by" uuid
);
--> statement-breakpoint
CREATE TABLE "projects"."validations" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"org_id" uuid NOT NULL,
	"project_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"result" text DEFAULT 'pending' NOT NULL,
	"details" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"finished_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_by" uuid,
	"updated_by" uuid,
	CONSTRAINT "validations_kind_check" CHECK ("projects"."validations"."kind" in ('schema', 'sheriff', 'gauntlet')),
	CONSTRAINT "validations_result_check" CHECK ("projects"."validations"."result" in ('pending', 'passed', 'failed'))
);
--> statement-breakpoint
CREATE TABLE "projects"."version_history" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"org_id" uuid NOT NULL,
	"project_id" uuid NOT NULL,
	"version_id" uuid NOT NULL,
	"from_zone" text,
	"to_zone" text NOT NULL,
	"reason" text,
	"actor_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "version_history_from_zone_check" CHECK ("projects"."version_history"."from_zone" in ('v1', 'v2', 'v3')),
	CONSTRAINT "version_history_to_zone_check" CHECK ("projects"."version_history"."to_zone" in ('v1', 'v2', 'v3')),
	CONSTRAINT "version_history_zone_change_check" CHECK ("projects"."version_history"."from_zone" is distinct from "projects"."version_history"."to_zone")
);
--> statement-breakpoint
CREATE TABLE "projects"."versions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"org_id" uuid NOT NULL,
	"project_id" uuid NOT NULL,
	"version_number" integer NOT NULL,
	"zone" text DEFAULT 'v1' NOT NULL,
	"config" jsonb NOT NULL,
	"config_hash" text NOT NULL,
	"notes" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_by" uuid,
	"updated_by" uuid,
	"version" integer DEFAULT 1 NOT NULL,
	CONSTRAINT "versions_version_number_check" CHECK ("projects"."versions"."version_number" > 0),
	CONSTRAINT "versions_zone_check" CHECK ("projects"."versions"."zone" in ('v1', 'v2', 'v3')),
	CONSTRAINT "versions_config_hash_check" CHECK ("projects"."versions"."config_hash" ~ '^[0-9a-f]{64}$'),
	CONSTRAINT "versions_version_check" CHECK ("projects"."versions"."version" > 0)
);
--> statement-breakpoint
CREATE TABLE "experiments_v1"."blacklist" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"org_id" uuid NOT NULL,
	"config_hash" text NOT NULL,
	"reason" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_by" uuid,
	"updated_by" uuid,
	CONSTRAINT "blacklist_config_hash_check" CHECK ("experiments_v1"."blacklist"."config_hash" ~ '^[0-9a-f]{64}$')
);
--> statement-breakpoint
CREATE TABLE "experiments_v1"."comparison_reports" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"org_id" uuid NOT NULL,
	"project_id" uuid NOT NULL,
	"base_version_id" uuid NOT NULL,
	"candidate_version_id" uuid NOT NULL,
	"deltas" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"summary" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_by" uuid,
	"updated_by" uuid,
	CONSTRAINT "comparison_reports_versions_check" CHECK ("experiments_v1"."comparison_reports"."base_version_id" <> "experiments_v1"."comparison_reports"."candidate_version_id")
);
--> statement-breakpoint
CREATE TABLE "experiments_v1"."evaluations" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"org_id" uuid NOT NULL,
	"experiment_id" uuid NOT NULL,
	"metrics" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"ai_verdict" text NOT NULL,
	"ai_rationale" text,
	"human_override" text,
	"human_override_reason" text,
	"reviewer_id" uuid,
	"reviewed_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_by" uuid,
	"updated_by" uuid,
	"version" integer DEFAULT 1 NOT NULL,
	CONSTRAINT "evaluations_ai_verdict_check" CHECK ("experiments_v1"."evaluations"."ai_verdict" in ('pass', 'fail', 'inconclusive')),
	CONSTRAINT "evaluations_human_override_check" CHECK ("experiments_v1"."evaluations"."human_override" in ('pass', 'fail', 'inconclusive')),
	CONSTRAINT "evaluations_override_review_check" CHECK ("experiments_v1"."evaluations"."human_override" is null or ("experiments_v1"."evaluations"."human_override_reason" is not null and length(btrim("experiments_v1"."evaluations"."human_override_reason")) > 0 and "experiments_v1"."evaluations"."reviewer_id" is not null and "experiments_v1"."evaluations"."reviewed_at" is not null)),
	CONSTRAINT "evaluations_version_check" CHECK ("experiments_v1"."evaluations"."version" > 0)
);
--> statement-breakpoint
CREATE TABLE "experiments_v1"."experiments" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"org_id" uuid NOT NULL,
	"project_id" uuid NOT NULL,
	"version_id" uuid NOT NULL,
	"name" text NOT NULL,
	"hypothesis" text,
	"config" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"status" text DEFAULT 'draft' NOT NULL,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_by" uuid,
	"updated_by" uuid,
	"deleted_at" timestamp with time zone,
	"version" integer DEFAULT 1 NOT NULL,
	CONSTRAINT "experiments_status_check" CHECK ("experiments_v1"."experiments"."status" in ('draft', 'running', 'completed', 'aborted')),
	CONSTRAINT "experiments_finished_check" CHECK ("experiments_v1"."experiments"."finished_at" is null or "experiments_v1"."experiments"."started_at" is null or "experiments_v1"."experiments"."finished_at" >= "experiments_v1"."experiments"."started_at"),
	CONSTRAINT "experiments_version_check" CHECK ("experiments_v1"."experiments"."version" > 0)
);
--> statement-breakpoint
CREATE TABLE "experiments_v1"."promotions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"org_id" uuid NOT NULL,
	"project_id" uuid NOT NULL,
	"version_id" uuid NOT NULL,
	"evaluation_id" uuid,
	"reason" text NOT NULL,
	"status" text DEFAULT 'requested' NOT NULL,
	"requested_by" uuid NOT NULL,
	"decided_by" uuid,
	"decided_at" timestamp with time zone,
	"decision_reason" text,
	"applied_at" timestamp with time zone,
	"applied_by" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_by" uuid,
	"updated_by" uuid,
	"version" integer DEFAULT 1 NOT NULL,
	CONSTRAINT "promotions_status_check" CHECK ("experiments_v1"."promotions"."status" in ('requested', 'approved', 'rejected', 'applied')),
	CONSTRAINT "promotions_four_eyes_check" CHECK ("experiments_v1"."promotions"."decided_by" is null or "experiments_v1"."promotions"."decided_by" <> "experiments_v1"."promotions"."requested_by"),
	CONSTRAINT "promotions_decision_check" CHECK (("experiments_v1"."promotions"."status" = 'requested') = ("experiments_v1"."promotions"."decided_by" is null and "experiments_v1"."promotions"."decided_at" is null)),
	CONSTRAINT "promotions_applied_check" CHECK (("experiments_v1"."promotions"."status" = 'applied') = ("experiments_v1"."promotions"."applied_at" is not null and "experiments_v1"."promotions"."applied_by" is not null)),
	CONSTRAINT "promotions_version_check" CHECK ("experiments_v1"."promotions"."version" > 0)
);
--> statement-breakpoint
CREATE TABLE "production"."analysis_sessions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"org_id" uuid NOT NULL,
	"project_id" uuid NOT NULL,
	"version_id" uuid NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"error" text,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_by" uuid,
	"updated_by" uuid,
	CONSTRAINT "analysis_sessions_status_check" CHECK ("production"."analysis_sessions"."status" in ('pending', 'running', 'completed', 'failed', 'cancelled')),
	CONSTRAINT "analysis_sessions_finished_check" CHECK ("production"."analysis_sessions"."finished_at" is null or "production"."analysis_sessions"."started_at" is null or "production"."analysis_sessions"."finished_at" >= "production"."analysis_sessions"."started_at")
);
--> statement-breakpoint
CREATE TABLE "production"."analysis_tasks" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"org_id" uuid NOT NULL,
	"session_id" uuid NOT NULL,
	"type" text NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"result" jsonb,
	"error" text,
	"attempts" integer DEFAULT 0 NOT NULL,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "analysis_tasks_type_check" CHECK ("production"."analysis_tasks"."type" in ('static', 'dynamic', 'graph', 'ai')),
	CONSTRAINT "analysis_tasks_status_check" CHECK ("production"."analysis_tasks"."status" in ('pending', 'running', 'completed', 'failed', 'cancelled')),
	CONSTRAINT "analysis_tasks_attempts_check" CHECK ("production"."analysis_tasks"."attempts" >= 0),
	CONSTRAINT "analysis_tasks_finished_check" CHECK ("production"."analysis_tasks"."finished_at" is null or "production"."analysis_tasks"."started_at" is null or "production"."analysis_tasks"."finished_at" >= "production"."analysis_tasks"."started_at")
);
--> statement-breakpoint
CREATE TABLE "production"."artifacts" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"org_id" uuid NOT NULL,
	"session_id" uuid NOT NULL,
	"name" text NOT NULL,
	"uri" text NOT NULL,
	"sha256" text NOT NULL,
	"size_bytes" bigint NOT NULL,
	"content_type" text,
	"verified_at" timestamp with time zone,
	"expires_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_by" uuid,
	"updated_by" uuid,
	CONSTRAINT "artifacts_sha256_check" CHECK ("production"."artifacts"."sha256" ~ '^[0-9a-f]{64}$'),
	CONSTRAINT "artifacts_size_bytes_check" CHECK ("production"."artifacts"."size_bytes" >= 0)
);
--> statement-breakpoint
CREATE TABLE "production"."code_review_results" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"org_id" uuid NOT NULL,
	"session_id" uuid NOT NULL,
	"score" integer NOT NULL,
	"findings" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"reviewer" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_by" uuid,
	"updated_by" uuid,
	CONSTRAINT "code_review_results_score_check" CHECK ("production"."code_review_results"."score" between 0 and 100)
);
--> statement-breakpoint
CREATE TABLE "quarantine"."quarantine_records" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"org_id" uuid NOT NULL,
	"project_id" uuid NOT NULL,
	"version_id" uuid NOT NULL,
	"config_hash" text NOT NULL,
	"config" jsonb NOT NULL,
	"reason" text NOT NULL,
	"evidence" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"source" text NOT NULL,
	"created_by" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "quarantine_records_config_hash_check" CHECK ("quarantine"."quarantine_records"."config_hash" ~ '^[0-9a-f]{64}$'),
	CONSTRAINT "quarantine_records_source_check" CHECK ("quarantine"."quarantine_records"."source" in ('blacklist', 'manual', 'reevaluation', 'evaluation', 'policy', 'automated'))
);
--> statement-breakpoint
CREATE TABLE "quarantine"."reevaluation_requests" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"org_id" uuid NOT NULL,
	"record_id" uuid NOT NULL,
	"reason" text NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"requested_by" uuid NOT NULL,
	"decided_by" uuid,
	"decided_at" timestamp with time zone,
	"decision_reason" text,
	"new_version_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_by" uuid,
	"updated_by" uuid,
	"version" integer DEFAULT 1 NOT NULL,
	CONSTRAINT "reevaluation_requests_status_check" CHECK ("quarantine"."reevaluation_requests"."status" in ('pending', 'approved', 'rejected')),
	CONSTRAINT "reevaluation_requests_decision_check" CHECK (("quarantine"."reevaluation_requests"."status" = 'pending') = ("quarantine"."reevaluation_requests"."decided_by" is null and "quarantine"."reevaluation_requests"."decided_at" is null)),
	CONSTRAINT "reevaluation_requests_version_check" CHECK ("quarantine"."reevaluation_requests"."version" > 0)
);
--> statement-breakpoint
CREATE TABLE "providers"."api_keys" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"org_id" uuid NOT NULL,
	"user_id" uuid NOT NULL,
	"name" text NOT NULL,
	"prefix" text NOT NULL,
	"key_hash" text NOT NULL,
	"scopes" text[] DEFAULT '{}'::text[] NOT NULL,
	"expires_at" timestamp with time zone,
	"revoked_at" timestamp with time zone,
	"last_used_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_by" uuid,
	"updated_by" uuid,
	CONSTRAINT "api_keys_name_check" CHECK (char_length("providers"."api_keys"."name") BETWEEN 1 AND 100),
	CONSTRAINT "api_keys_prefix_check" CHECK ("providers"."api_keys"."prefix" ~ '^llk_[A-Za-z0-9]{4,32}$'),
	CONSTRAINT "api_keys_key_hash_check" CHECK ("providers"."api_keys"."key_hash" ~ '^[0-9a-f]{64}$')
);
--> statement-breakpoint
CREATE TABLE "providers"."cost_alerts" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"org_id" uuid NOT NULL,
	"user_id" uuid,
	"threshold_percent" integer NOT NULL,
	"period" text NOT NULL,
	"metric" text NOT NULL,
	"channel" text NOT NULL,
	"target" text,
	"last_fired_at" timestamp with time zone,
	"last_fired_period_start" date,
	"enabled" boolean DEFAULT true NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_by" uuid,
	"updated_by" uuid,
	"version" integer DEFAULT 1 NOT NULL,
	CONSTRAINT "cost_alerts_version_check" CHECK ("providers"."cost_alerts"."version" > 0),
	CONSTRAINT "cost_alerts_threshold_percent_check" CHECK ("providers"."cost_alerts"."threshold_percent" BETWEEN 1 AND 1000),
	CONSTRAINT "cost_alerts_period_check" CHECK ("providers"."cost_alerts"."period" IN ('daily', 'monthly')),
	CONSTRAINT "cost_alerts_metric_check" CHECK ("providers"."cost_alerts"."metric" IN ('tokens', 'cost')),
	CONSTRAINT "cost_alerts_channel_check" CHECK ("providers"."cost_alerts"."channel" IN ('webhook', 'log')),
	CONSTRAINT "cost_alerts_target_check" CHECK (("providers"."cost_alerts"."channel" = 'webhook') = ("providers"."cost_alerts"."target" IS NOT NULL) AND ("providers"."cost_alerts"."target" IS NULL OR "providers"."cost_alerts"."target" ~ '^https?://'))
);
--> statement-breakpoint
CREATE TABLE "providers"."provider_health" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"provider_id" text NOT NULL,
	"status" text DEFAULT 'unknown' NOT NULL,
	"latency_ms" integer,
	"consecutive" integer DEFAULT 0 NOT NULL,
	"pending_status" text,
	"last_error" text,
	"checked_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "provider_health_status_check" CHECK ("providers"."provider_health"."status" IN ('healthy', 'degraded', 'down', 'unknown')),
	CONSTRAINT "provider_health_pending_status_check" CHECK ("providers"."provider_health"."pending_status" IS NULL OR "providers"."provider_health"."pending_status" IN ('healthy', 'degraded', 'down', 'unknown')),
	CONSTRAINT "provider_health_latency_ms_check" CHECK ("providers"."provider_health"."latency_ms" IS NULL OR "providers"."provider_health"."latency_ms" >= 0),
	CONSTRAINT "provider_health_consecutive_check" CHECK ("providers"."provider_health"."consecutive" >= 0)
);
--> statement-breakpoint
CREATE TABLE "providers"."provider_health_checks" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"provider_id" text NOT NULL,
	"status" text NOT NULL,
	"latency_ms" integer,
	"error" text,
	"checked_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "provider_health_checks_status_check" CHECK ("providers"."provider_health_checks"."status" IN ('healthy', 'degraded', 'down', 'unknown')),
	CONSTRAINT "provider_health_checks_latency_ms_check" CHECK ("providers"."provider_health_checks"."latency_ms" IS NULL OR "providers"."provider_health_checks"."latency_ms" >= 0)
);
--> statement-breakpoint
CREATE TABLE "providers"."provider_models" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"provider_id" text NOT NULL,
	"model" text NOT NULL,
	"input_price_micros_per_mtok" bigint NOT NULL,
	"output_price_micros_per_mtok" bigint NOT NULL,
	"context_window" integer,
	"max_output_tokens" integer,
	"enabled" boolean DEFAULT true NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_by" uuid,
	"updated_by" uuid,
	"version" integer DEFAULT 1 NOT NULL,
	CONSTRAINT "provider_models_version_check" CHECK ("providers"."provider_models"."version" > 0),
	CONSTRAINT "provider_models_model_check" CHECK (char_length("providers"."provider_models"."model") BETWEEN 1 AND 200),
	CONSTRAINT "provider_models_input_price_check" CHECK ("providers"."provider_models"."input_price_micros_per_mtok" >= 0),
	CONSTRAINT "provider_models_output_price_check" CHECK ("providers"."provider_models"."output_price_micros_per_mtok" >= 0),
	CONSTRAINT "provider_models_context_window_check" CHECK ("providers"."provider_models"."context_window" IS NULL OR "providers"."provider_models"."context_window" > 0),
	CONSTRAINT "provider_models_max_output_tokens_check" CHECK ("providers"."provider_models"."max_output_tokens" IS NULL OR "providers"."provider_models"."max_output_tokens" > 0)
);
--> statement-breakpoint
CREATE TABLE "providers"."providers" (
	"id" text PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"display_name" text NOT NULL,
	"base_url" text,
	"enabled" boolean DEFAULT true NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_by" uuid,
	"updated_by" uuid,
	"version" integer DEFAULT 1 NOT NULL,
	CONSTRAINT "providers_id_check" CHECK ("providers"."providers"."id" ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
	CONSTRAINT "providers_version_check" CHECK ("providers"."providers"."version" > 0),
	CONSTRAINT "providers_kind_check" CHECK ("providers"."providers"."kind" IN ('openai', 'anthropic', 'gemini', 'openai_compatible')),
	CONSTRAINT "providers_base_url_check" CHECK ("providers"."providers"."base_url" IS NULL OR "providers"."providers"."base_url" ~ '^https?://')
);
--> statement-breakpoint
CREATE TABLE "providers"."quota_counters" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"org_id" uuid NOT NULL,
	"subject_type" text NOT NULL,
	"subject_id" uuid NOT NULL,
	"period" text NOT NULL,
	"period_start" date NOT NULL,
	"tokens_used" bigint DEFAULT 0 NOT NULL,
	"tokens_reserved" bigint DEFAULT 0 NOT NULL,
	"cost_used_micros" bigint DEFAULT 0 NOT NULL,
	"cost_reserved_micros" bigint DEFAULT 0 NOT NULL,
	"token_limit" bigint,
	"cost_limit_micros" bigint,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "quota_counters_subject_type_check" CHECK ("providers"."quota_counters"."subject_type" IN ('user', 'org')),
	CONSTRAINT "quota_counters_org_subject_check" CHECK ("providers"."quota_counters"."subject_type" <> 'org' OR "providers"."quota_counters"."subject_id" = "providers"."quota_counters"."org_id"),
	CONSTRAINT "quota_counters_period_check" CHECK ("providers"."quota_counters"."period" IN ('daily', 'monthly')),
	CONSTRAINT "quota_counters_tokens_used_check" CHECK ("providers"."quota_counters"."tokens_used" >= 0),
	CONSTRAINT "quota_counters_tokens_reserved_check" CHECK ("providers"."quota_counters"."tokens_reserved" >= 0),
	CONSTRAINT "quota_counters_cost_used_check" CHECK ("providers"."quota_counters"."cost_used_micros" >= 0),
	CONSTRAINT "quota_counters_cost_reserved_check" CHECK ("providers"."quota_counters"."cost_reserved_micros" >= 0),
	CONSTRAINT "quota_counters_token_limit_check" CHECK ("providers"."quota_counters"."token_limit" IS NULL OR "providers"."quota_counters"."token_limit" >= 0),
	CONSTRAINT "quota_counters_cost_limit_check" CHECK ("providers"."quota_counters"."cost_limit_micros" IS NULL OR "providers"."quota_counters"."cost_limit_micros" >= 0)
);
--> statement-breakpoint
CREATE TABLE "providers"."quota_reservations" (
	"request_id" text PRIMARY KEY NOT NULL,
	"org_id" uuid NOT NULL,
	"user_id" uuid NOT NULL,
	"state" text DEFAULT 'reserved' NOT NULL,
	"tokens_reserved" bigint DEFAULT 0 NOT NULL,
	"cost_reserved_micros" bigint DEFAULT 0 NOT NULL,
	"tokens_used" bigint DEFAULT 0 NOT NULL,
	"cost_used_micros" bigint DEFAULT 0 NOT NULL,
	"counter_ids" uuid[] DEFAULT '{}'::uuid[] NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"settled_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "quota_reservations_request_id_check" CHECK (char_length("providers"."quota_reservations"."request_id") BETWEEN 1 AND 200),
	CONSTRAINT "quota_reservations_state_check" CHECK ("providers"."quota_reservations"."state" IN ('reserved', 'settled', 'released')),
	CONSTRAINT "quota_reservations_settled_at_check" CHECK (("providers"."quota_reservations"."state" = 'reserved') = ("providers"."quota_reservations"."settled_at" IS NULL)),
	CONSTRAINT "quota_reservations_tokens_reserved_check" CHECK ("providers"."quota_reservations"."tokens_reserved" >= 0),
	CONSTRAINT "quota_reservations_cost_reserved_check" CHECK ("providers"."quota_reservations"."cost_reserved_micros" >= 0),
	CONSTRAINT "quota_reservations_tokens_used_check" CHECK ("providers"."quota_reservations"."tokens_used" >= 0),
	CONSTRAINT "quota_reservations_cost_used_check" CHECK ("providers"."quota_reservations"."cost_used_micros" >= 0)
);
--> statement-breakpoint
CREATE TABLE "providers"."usage_tracking" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"org_id" uuid NOT NULL,
	"user_id" uuid NOT NULL,
	"provider" text NOT NULL,
	"model" text NOT NULL,
	"day" date NOT NULL,
	"requests" bigint DEFAULT 0 NOT NULL,
	"prompt_tokens" bigint DEFAULT 0 NOT NULL,
	"completion_tokens" bigint DEFAULT 0 NOT NULL,
	"cost_micros" bigint DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "usage_tracking_requests_check" CHECK ("providers"."usage_tracking"."requests" >= 0),
	CONSTRAINT "usage_tracking_prompt_tokens_check" CHECK ("providers"."usage_tracking"."prompt_tokens" >= 0),
	CONSTRAINT "usage_tracking_completion_tokens_check" CHECK ("providers"."usage_tracking"."completion_tokens" >= 0),
	CONSTRAINT "usage_tracking_cost_micros_check" CHECK ("providers"."usage_tracking"."cost_micros" >= 0)
);
--> statement-breakpoint
CREATE TABLE "providers"."user_providers" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"org_id" uuid NOT NULL,
	"user_id" uuid NOT NULL,
	"provider" text NOT NULL,
	"catalog_provider_id" text,
	"name" text NOT NULL,
	"encrypted_key" text NOT NULL,
	"key_version" text,
	"fingerprint" text NOT NULL,
	"base_url" text,
	"status" text DEFAULT 'active' NOT NULL,
	"last_verified_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_by" uuid,
	"updated_by" uuid,
	"deleted_at" timestamp with time zone,
	"version" integer DEFAULT 1 NOT NULL,
	CONSTRAINT "user_providers_version_check" CHECK ("providers"."user_providers"."version" > 0),
	CONSTRAINT "user_providers_provider_check" CHECK ("providers"."user_providers"."provider" IN ('openai', 'anthropic', 'gemini', 'openai_compatible')),
	CONSTRAINT "user_providers_name_check" CHECK ("providers"."user_providers"."name" ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
	CONSTRAINT "user_providers_status_check" CHECK ("providers"."user_providers"."status" IN ('active', 'invalid', 'revoked')),
	CONSTRAINT "user_providers_encrypted_key_check" CHECK (char_length("providers"."user_providers"."encrypted_key") > 0),
	CONSTRAINT "user_providers_fingerprint_check" CHECK (char_length("providers"."user_providers"."fingerprint") BETWEEN 1 AND 4),
	CONSTRAINT "user_providers_base_url_check" CHECK ("providers"."user_providers"."base_url" IS NULL OR "providers"."user_providers"."base_url" ~ '^https?://')
);
--> statement-breakpoint
CREATE TABLE "providers"."user_quotas" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"org_id" uuid NOT NULL,
	"user_id" uuid,
	"daily_token_limit" bigint,
	"monthly_token_limit" bigint,
	"daily_cost_limit_micros" bigint,
	"monthly_cost_limit_micros" bigint,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_by" uuid,
	"updated_by" uuid,
	"version" integer DEFAULT 1 NOT NULL,
	CONSTRAINT "user_quotas_org_id_user_id_uq" UNIQUE NULLS NOT DISTINCT("org_id","user_id"),
	CONSTRAINT "user_quotas_version_check" CHECK ("providers"."user_quotas"."version" > 0),
	CONSTRAINT "user_quotas_daily_token_limit_check" CHECK ("providers"."user_quotas"."daily_token_limit" IS NULL OR "providers"."user_quotas"."daily_token_limit" >= 0),
	CONSTRAINT "user_quotas_monthly_token_limit_check" CHECK ("providers"."user_quotas"."monthly_token_limit" IS NULL OR "providers"."user_quotas"."monthly_token_limit" >= 0),
	CONSTRAINT "user_quotas_daily_cost_limit_check" CHECK ("providers"."user_quotas"."daily_cost_limit_micros" IS NULL OR "providers"."user_quotas"."daily_cost_limit_micros" >= 0),
	CONSTRAINT "user_quotas_monthly_cost_limit_check" CHECK ("providers"."user_quotas"."monthly_cost_limit_micros" IS NULL OR "providers"."user_quotas"."monthly_cost_limit_micros" >= 0)
);
--> statement-breakpoint
CREATE TABLE "audits"."audit_log" (
	"id" uuid DEFAULT gen_random_uuid() NOT NULL,
	"occurred_at" timestamp with time zone DEFAULT now() NOT NULL,
	"txid" bigint DEFAULT (pg_current_xact_id()::text::bigint) NOT NULL,
	"org_id" uuid,
	"actor_id" uuid,
	"action" text NOT NULL,
	"table_schema" text NOT NULL,
	"table_name" text NOT NULL,
	"row_id" text,
	"old_data" jsonb,
	"new_data" jsonb,
	"row_hash" text DEFAULT '' NOT NULL,
	CONSTRAINT "audit_log_pkey" PRIMARY KEY("id","occurred_at"),
	CONSTRAINT "audit_log_action_check" CHECK ("audits"."audit_log"."action" IN ('insert', 'update', 'delete', 'event')),
	CONSTRAINT "audit_log_row_hash_check" CHECK ("audits"."audit_log"."row_hash" ~ '^[0-9a-f]{64}$')
) PARTITION BY RANGE ("occurred_at");
--> statement-breakpoint
CREATE TABLE "audits"."audit_seal" (
	"seq" bigint PRIMARY KEY NOT NULL,
	"from_txid" bigint NOT NULL,
	"to_txid" bigint NOT NULL,
	"row_count" bigint NOT NULL,
	"range_hash" text NOT NULL,
	"prev_seal_hash" text,
	"seal_hash" text NOT NULL,
	"signature" text,
	"key_id" text,
	"sealed_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "audit_seal_seq_check" CHECK ("audits"."audit_seal"."seq" >= 1),
	CONSTRAINT "audit_seal_txid_range_check" CHECK ("audits"."audit_seal"."from_txid" >= 0 AND "audits"."audit_seal"."to_txid" >= "audits"."audit_seal"."from_txid"),
	CONSTRAINT "audit_seal_row_count_check" CHECK ("audits"."audit_seal"."row_count" >= 0),
	CONSTRAINT "audit_seal_range_hash_check" CHECK ("audits"."audit_seal"."range_hash" ~ '^[0-9a-f]{64}$'),
	CONSTRAINT "audit_seal_seal_hash_check" CHECK ("audits"."audit_seal"."seal_hash" ~ '^[0-9a-f]{64}$'),
	CONSTRAINT "audit_seal_prev_seal_hash_check" CHECK (("audits"."audit_seal"."seq" = 1) = ("audits"."audit_seal"."prev_seal_hash" IS NULL) AND ("audits"."audit_seal"."prev_seal_hash" IS NULL OR "audits"."audit_seal"."prev_seal_hash" ~ '^[0-9a-f]{64}$')),
	CONSTRAINT "audit_seal_signature_check" CHECK (("audits"."audit_seal"."signature" IS NULL) = ("audits"."audit_seal"."key_id" IS NULL))
);
--> statement-breakpoint
CREATE TABLE "ops"."job_runs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"job" text NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone,
	"status" text DEFAULT 'running' NOT NULL,
	"stats" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "job_runs_job_check" CHECK (char_length("ops"."job_runs"."job") BETWEEN 1 AND 100),
	CONSTRAINT "job_runs_status_check" CHECK ("ops"."job_runs"."status" IN ('running', 'succeeded', 'failed', 'skipped')),
	CONSTRAINT "job_runs_finished_at_check" CHECK (("ops"."job_runs"."status" = 'running') = ("ops"."job_runs"."finished_at" IS NULL))
);
--> statement-breakpoint
CREATE TABLE "ops"."outbox" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"event_id" uuid DEFAULT gen_random_uuid() NOT NULL,
	"stream" text NOT NULL,
	"org_id" uuid,
	"payload" jsonb NOT NULL,
	"occurred_at" timestamp with time zone DEFAULT now() NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL,
	"locked_until" timestamp with time zone,
	"locked_by" text,
	"last_error" text,
	"delivered_at" timestamp with time zone,
	"parked_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "outbox_stream_check" CHECK ("ops"."outbox"."stream" IN ('request_logs', 'audit_events', 'daily_usage', 'domain_events')),
	CONSTRAINT "outbox_attempts_check" CHECK ("ops"."outbox"."attempts" >= 0),
	CONSTRAINT "outbox_delivered_or_parked_check" CHECK ("ops"."outbox"."delivered_at" IS NULL OR "ops"."outbox"."parked_at" IS NULL)
);
--> statement-breakpoint
CREATE TABLE "ops"."rate_limits" (
	"key" text NOT NULL,
	"window_start" timestamp with time zone NOT NULL,
	"count" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "rate_limits_pkey" PRIMARY KEY("key","window_start"),
	CONSTRAINT "rate_limits_key_check" CHECK (char_length("ops"."rate_limits"."key") BETWEEN 1 AND 300),
	CONSTRAINT "rate_limits_count_check" CHECK ("ops"."rate_limits"."count" >= 0)
);
--> statement-breakpoint
CREATE TABLE "analytics"."audit_events" (
	"event_id" uuid NOT NULL,
	"occurred_at" timestamp with time zone NOT NULL,
	"org_id" uuid,
	"actor_id" uuid,
	"action" text NOT NULL,
	"table_schema" text,
	"table_name" text,
	"row_id" text,
	"row_hash" text,
	"payload" jsonb DEFAULT '{}'::jsonb NOT NULL,
	CONSTRAINT "audit_events_pkey" PRIMARY KEY("event_id","occurred_at"),
	CONSTRAINT "audit_events_action_check" CHECK (char_length("analytics"."audit_events"."action") BETWEEN 1 AND 100)
) PARTITION BY RANGE ("occurred_at");
--> statement-breakpoint
CREATE TABLE "analytics"."daily_usage" (
	"event_id" uuid NOT NULL,
	"day" date NOT NULL,
	"org_id" uuid NOT NULL,
	"user_id" uuid,
	"provider" text NOT NULL,
	"model" text NOT NULL,
	"requests" bigint DEFAULT 0 NOT NULL,
	"prompt_tokens" bigint DEFAULT 0 NOT NULL,
	"completion_tokens" bigint DEFAULT 0 NOT NULL,
	"cost_micros" bigint DEFAULT 0 NOT NULL,
	CONSTRAINT "daily_usage_pkey" PRIMARY KEY("event_id","day"),
	CONSTRAINT "daily_usage_requests_check" CHECK ("analytics"."daily_usage"."requests" >= 0),
	CONSTRAINT "daily_usage_prompt_tokens_check" CHECK ("analytics"."daily_usage"."prompt_tokens" >= 0),
	CONSTRAINT "daily_usage_completion_tokens_check" CHECK ("analytics"."daily_usage"."completion_tokens" >= 0),
	CONSTRAINT "daily_usage_cost_micros_check" CHECK ("analytics"."daily_usage"."cost_micros" >= 0)
) PARTITION BY RANGE ("day");
--> statement-breakpoint
CREATE TABLE "analytics"."request_logs" (
	"event_id" uuid NOT NULL,
	"occurred_at" timestamp with time zone NOT NULL,
	"request_id" text NOT NULL,
	"org_id" uuid NOT NULL,
	"user_id" uuid,
	"provider" text NOT NULL,
	"model" text NOT NULL,
	"prompt_tokens" bigint DEFAULT 0 NOT NULL,
	"completion_tokens" bigint DEFAULT 0 NOT NULL,
	"cost_micros" bigint DEFAULT 0 NOT NULL,
	"latency_ms" integer DEFAULT 0 NOT NULL,
	"status" integer NOT NULL,
	"stream" boolean DEFAULT false NOT NULL,
	"error_code" text,
	CONSTRAINT "request_logs_pkey" PRIMARY KEY("event_id","occurred_at"),
	CONSTRAINT "request_logs_prompt_tokens_check" CHECK ("analytics"."request_logs"."prompt_tokens" >= 0),
	CONSTRAINT "request_logs_completion_tokens_check" CHECK ("analytics"."request_logs"."completion_tokens" >= 0),
	CONSTRAINT "request_logs_cost_micros_check" CHECK ("analytics"."request_logs"."cost_micros" >= 0),
	CONSTRAINT "request_logs_latency_ms_check" CHECK ("analytics"."request_logs"."latency_ms" >= 0),
	CONSTRAINT "request_logs_status_check" CHECK ("analytics"."request_logs"."status" BETWEEN 100 AND 599)
) PARTITION BY RANGE ("occurred_at");
--> statement-breakpoint
ALTER TABLE "auth"."invitations" ADD CONSTRAINT "invitations_org_id_fk" FOREIGN KEY ("org_id") REFERENCES "projects"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "auth"."invitations" ADD CONSTRAINT "invitations_used_by_fk" FOREIGN KEY ("used_by") REFERENCES "auth"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "auth"."password_resets" ADD CONSTRAINT "password_resets_org_id_fk" FOREIGN KEY ("org_id") REFERENCES "projects"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "auth"."password_resets" ADD CONSTRAINT "password_resets_user_id_fk" FOREIGN KEY ("user_id") REFERENCES "auth"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "auth"."recovery_codes" ADD CONSTRAINT "recovery_codes_org_id_fk" FOREIGN KEY ("org_id") REFERENCES "projects"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "auth"."recovery_codes" ADD CONSTRAINT "recovery_codes_user_id_fk" FOREIGN KEY ("user_id") REFERENCES "auth"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "auth"."sessions" ADD CONSTRAINT "sessions_org_id_fk" FOREIGN KEY ("org_id") REFERENCES "projects"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "auth"."sessions" ADD CONSTRAINT "sessions_user_id_fk" FOREIGN KEY ("user_id") REFERENCES "auth"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "auth"."users" ADD CONSTRAINT "users_org_id_fk" FOREIGN KEY ("org_id") REFERENCES "projects"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "projects"."baselines" ADD CONSTRAINT "baselines_org_id_fk" FOREIGN KEY ("org_id") REFERENCES "projects"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "projects"."baselines" ADD CONSTRAINT "baselines_project_id_fk" FOREIGN KEY ("project_id") REFERENCES "projects"."projects"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "projects"."policies" ADD CONSTRAINT "policies_org_id_fk" FOREIGN KEY ("org_id") REFERENCES "projects"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "projects"."project_errors" ADD CONSTRAINT "project_errors_org_id_fk" FOREIGN KEY ("org_id") REFERENCES "projects"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "projects"."project_errors" ADD CONSTRAINT "project_errors_project_id_fk" FOREIGN KEY ("project_id") REFERENCES "projects"."projects"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "projects"."project_errors" ADD CONSTRAINT "project_errors_validation_id_fk" FOREIGN KEY ("validation_id") REFERENCES "projects"."validations"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "projects"."project_errors" ADD CONSTRAINT "project_errors_resolved_by_fk" FOREIGN KEY ("resolved_by") REFERENCES "auth"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "projects"."project_policies" ADD CONSTRAINT "project_policies_org_id_fk" FOREIGN KEY ("org_id") REFERENCES "projects"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "projects"."project_policies" ADD CONSTRAINT "project_policies_project_id_fk" FOREIGN KEY ("project_id") REFERENCES "projects"."projects"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "projects"."project_policies" ADD CONSTRAINT "project_policies_policy_id_fk" FOREIGN KEY ("policy_id") REFERENCES "projects"."policies"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "projects"."projects" ADD CONSTRAINT "projects_org_id_fk" FOREIGN KEY ("org_id") REFERENCES "projects"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "projects"."rollback_checkpoints" ADD CONSTRAINT "rollback_checkpoints_org_id_fk" FOREIGN KEY ("org_id") REFERENCES "projects"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "projects"."rollback_checkpoints" ADD CONSTRAINT "rollback_checkpoints_project_id_fk" FOREIGN KEY ("project_id") REFERENCES "projects"."projects"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "projects"."validations" ADD CONSTRAINT "validations_org_id_fk" FOREIGN KEY ("org_id") REFERENCES "projects"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "projects"."validations" ADD CONSTRAINT "validations_project_id_fk" FOREIGN KEY ("project_id") REFERENCES "projects"."projects"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "projects"."version_history" ADD CONSTRAINT "version_history_org_id_fk" FOREIGN KEY ("org_id") REFERENCES "projects"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "projects"."version_history" ADD CONSTRAINT "version_history_project_id_fk" FOREIGN KEY ("project_id") REFERENCES "projects"."projects"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "projects"."version_history" ADD CONSTRAINT "version_history_version_id_fk" FOREIGN KEY ("version_id") REFERENCES "projects"."versions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "projects"."version_history" ADD CONSTRAINT "version_history_actor_id_fk" FOREIGN KEY ("actor_id") REFERENCES "auth"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "projects"."versions" ADD CONSTRAINT "versions_org_id_fk" FOREIGN KEY ("org_id") REFERENCES "projects"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "projects"."versions" ADD CONSTRAINT "versions_project_id_fk" FOREIGN KEY ("project_id") REFERENCES "projects"."projects"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "experiments_v1"."blacklist" ADD CONSTRAINT "blacklist_org_id_fk" FOREIGN KEY ("org_id") REFERENCES "projects"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "experiments_v1"."comparison_reports" ADD CONSTRAINT "comparison_reports_org_id_fk" FOREIGN KEY ("org_id") REFERENCES "projects"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "experiments_v1"."comparison_reports" ADD CONSTRAINT "comparison_reports_project_id_fk" FOREIGN KEY ("project_id") REFERENCES "projects"."projects"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "experiments_v1"."comparison_reports" ADD CONSTRAINT "comparison_reports_base_version_id_fk" FOREIGN KEY ("base_version_id") REFERENCES "projects"."versions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "experiments_v1"."comparison_reports" ADD CONSTRAINT "comparison_reports_candidate_version_id_fk" FOREIGN KEY ("candidate_version_id") REFERENCES "projects"."versions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "experiments_v1"."evaluations" ADD CONSTRAINT "evaluations_org_id_fk" FOREIGN KEY ("org_id") REFERENCES "projects"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "experiments_v1"."evaluations" ADD CONSTRAINT "evaluations_experiment_id_fk" FOREIGN KEY ("experiment_id") REFERENCES "experiments_v1"."experiments"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "experiments_v1"."evaluations" ADD CONSTRAINT "evaluations_reviewer_id_fk" FOREIGN KEY ("reviewer_id") REFERENCES "auth"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "experiments_v1"."experiments" ADD CONSTRAINT "experiments_org_id_fk" FOREIGN KEY ("org_id") REFERENCES "projects"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "experiments_v1"."experiments" ADD CONSTRAINT "experiments_project_id_fk" FOREIGN KEY ("project_id") REFERENCES "projects"."projects"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "experiments_v1"."experiments" ADD CONSTRAINT "experiments_version_id_fk" FOREIGN KEY ("version_id") REFERENCES "projects"."versions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "experiments_v1"."promotions" ADD CONSTRAINT "promotions_org_id_fk" FOREIGN KEY ("org_id") REFERENCES "projects"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "experiments_v1"."promotions" ADD CONSTRAINT "promotions_project_id_fk" FOREIGN KEY ("project_id") REFERENCES "projects"."projects"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "experiments_v1"."promotions" ADD CONSTRAINT "promotions_version_id_fk" FOREIGN KEY ("version_id") REFERENCES "projects"."versions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "experiments_v1"."promotions" ADD CONSTRAINT "promotions_evaluation_id_fk" FOREIGN KEY ("evaluation_id") REFERENCES "experiments_v1"."evaluations"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "experiments_v1"."promotions" ADD CONSTRAINT "promotions_requested_by_fk" FOREIGN KEY ("requested_by") REFERENCES "auth"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "experiments_v1"."promotions" ADD CONSTRAINT "promotions_decided_by_fk" FOREIGN KEY ("decided_by") REFERENCES "auth"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "experiments_v1"."promotions" ADD CONSTRAINT "promotions_applied_by_fk" FOREIGN KEY ("applied_by") REFERENCES "auth"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "production"."analysis_sessions" ADD CONSTRAINT "analysis_sessions_org_id_fk" FOREIGN KEY ("org_id") REFERENCES "projects"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "production"."analysis_sessions" ADD CONSTRAINT "analysis_sessions_project_id_fk" FOREIGN KEY ("project_id") REFERENCES "projects"."projects"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "production"."analysis_sessions" ADD CONSTRAINT "analysis_sessions_version_id_fk" FOREIGN KEY ("version_id") REFERENCES "projects"."versions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "production"."analysis_tasks" ADD CONSTRAINT "analysis_tasks_org_id_fk" FOREIGN KEY ("org_id") REFERENCES "projects"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "production"."analysis_tasks" ADD CONSTRAINT "analysis_tasks_session_id_fk" FOREIGN KEY ("session_id") REFERENCES "production"."analysis_sessions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "production"."artifacts" ADD CONSTRAINT "artifacts_org_id_fk" FOREIGN KEY ("org_id") REFERENCES "projects"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "production"."artifacts" ADD CONSTRAINT "artifacts_session_id_fk" FOREIGN KEY ("session_id") REFERENCES "production"."analysis_sessions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "production"."code_review_results" ADD CONSTRAINT "code_review_results_org_id_fk" FOREIGN KEY ("org_id") REFERENCES "projects"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "production"."code_review_results" ADD CONSTRAINT "code_review_results_session_id_fk" FOREIGN KEY ("session_id") REFERENCES "production"."analysis_sessions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "quarantine"."quarantine_records" ADD CONSTRAINT "quarantine_records_org_id_fk" FOREIGN KEY ("org_id") REFERENCES "projects"."organizations"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "quarantine"."quarantine_records" ADD CONSTRAINT "quarantine_records_project_id_fk" FOREIGN KEY ("project_id") REFERENCES "projects"."projects"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "quarantine"."quarantine_records" ADD CONSTRAINT "quarantine_records_version_id_fk" FOREIGN KEY ("version_id") REFERENCES "projects"."versions"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "quarantine"."reevaluation_requests" ADD CONSTRAINT "reevaluation_requests_org_id_fk" FOREIGN KEY ("org_id") REFERENCES "projects"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "quarantine"."reevaluation_requests" ADD CONSTRAINT "reevaluation_requests_record_id_fk" FOREIGN KEY ("record_id") REFERENCES "quarantine"."quarantine_records"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "quarantine"."reevaluation_requests" ADD CONSTRAINT "reevaluation_requests_requested_by_fk" FOREIGN KEY ("requested_by") REFERENCES "auth"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "quarantine"."reevaluation_requests" ADD CONSTRAINT "reevaluation_requests_decided_by_fk" FOREIGN KEY ("decided_by") REFERENCES "auth"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "quarantine"."reevaluation_requests" ADD CONSTRAINT "reevaluation_requests_new_version_id_fk" FOREIGN KEY ("new_version_id") REFERENCES "projects"."versions"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "providers"."api_keys" ADD CONSTRAINT "api_keys_org_id_fk" FOREIGN KEY ("org_id") REFERENCES "projects"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "providers"."api_keys" ADD CONSTRAINT "api_keys_user_id_fk" FOREIGN KEY ("user_id") REFERENCES "auth"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "providers"."cost_alerts" ADD CONSTRAINT "cost_alerts_org_id_fk" FOREIGN KEY ("org_id") REFERENCES "projects"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "providers"."cost_alerts" ADD CONSTRAINT "cost_alerts_user_id_fk" FOREIGN KEY ("user_id") REFERENCES "auth"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "providers"."provider_health" ADD CONSTRAINT "provider_health_provider_id_fk" FOREIGN KEY ("provider_id") REFERENCES "providers"."providers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "providers"."provider_health_checks" ADD CONSTRAINT "provider_health_checks_provider_id_fk" FOREIGN KEY ("provider_id") REFERENCES "providers"."providers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "providers"."provider_models" ADD CONSTRAINT "provider_models_provider_id_fk" FOREIGN KEY ("provider_id") REFERENCES "providers"."providers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "providers"."quota_counters" ADD CONSTRAINT "quota_counters_org_id_fk" FOREIGN KEY ("org_id") REFERENCES "projects"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "providers"."quota_reservations" ADD CONSTRAINT "quota_reservations_org_id_fk" FOREIGN KEY ("org_id") REFERENCES "projects"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "providers"."quota_reservations" ADD CONSTRAINT "quota_reservations_user_id_fk" FOREIGN KEY ("user_id") REFERENCES "auth"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "providers"."usage_tracking" ADD CONSTRAINT "usage_tracking_org_id_fk" FOREIGN KEY ("org_id") REFERENCES "projects"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "providers"."usage_tracking" ADD CONSTRAINT "usage_tracking_user_id_fk" FOREIGN KEY ("user_id") REFERENCES "auth"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "providers"."user_providers" ADD CONSTRAINT "user_providers_org_id_fk" FOREIGN KEY ("org_id") REFERENCES "projects"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "providers"."user_providers" ADD CONSTRAINT "user_providers_user_id_fk" FOREIGN KEY ("user_id") REFERENCES "auth"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "providers"."user_providers" ADD CONSTRAINT "user_providers_catalog_provider_id_fk" FOREIGN KEY ("catalog_provider_id") REFERENCES "providers"."providers"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "providers"."user_quotas" ADD CONSTRAINT "user_quotas_org_id_fk" FOREIGN KEY ("org_id") REFERENCES "projects"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "providers"."user_quotas" ADD CONSTRAINT "user_quotas_user_id_fk" FOREIGN KEY ("user_id") REFERENCES "auth"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "audit_logs_org_id_created_at_idx" ON "auth"."audit_logs" USING btree ("org_id","created_at" DESC NULLS LAST,"id");--> statement-breakpoint
CREATE INDEX "audit_logs_user_id_created_at_idx" ON "auth"."audit_logs" USING btree ("user_id","created_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "audit_logs_email_hash_created_at_idx" ON "auth"."audit_logs" USING btree ("email_hash","created_at" DESC NULLS LAST);--> statement-breakpoint
CREATE UNIQUE INDEX "invitations_code_hash_uq" ON "auth"."invitations" USING btree ("code_hash");--> statement-breakpoint
CREATE INDEX "invitations_org_id_created_at_id_idx" ON "auth"."invitations" USING btree ("org_id","created_at" DESC NULLS LAST,"id");--> statement-breakpoint
CREATE INDEX "invitations_pending_idx" ON "auth"."invitations" USING btree ("org_id","expires_at") WHERE "auth"."invitations"."used_at" is null and "auth"."invitations"."revoked_at" is null;--> statement-breakpoint
CREATE INDEX "invitations_used_by_idx" ON "auth"."invitations" USING btree ("used_by");--> statement-breakpoint
CREATE UNIQUE INDEX "password_resets_token_hash_uq" ON "auth"."password_resets" USING btree ("token_hash");--> statement-breakpoint
CREATE INDEX "password_resets_user_id_idx" ON "auth"."password_resets" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "password_resets_org_id_idx" ON "auth"."password_resets" USING btree ("org_id");--> statement-breakpoint
CREATE INDEX "password_resets_pending_expires_at_idx" ON "auth"."password_resets" USING btree ("expires_at") WHERE "auth"."password_resets"."used_at" is null;--> statement-breakpoint
CREATE UNIQUE INDEX "recovery_codes_code_hash_uq" ON "auth"."recovery_codes" USING btree ("code_hash");--> statement-breakpoint
CREATE INDEX "recovery_codes_user_id_idx" ON "auth"."recovery_codes" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "recovery_codes_org_id_idx" ON "auth"."recovery_codes" USING btree ("org_id");--> statement-breakpoint
CREATE UNIQUE INDEX "sessions_token_hash_uq" ON "auth"."sessions" USING btree ("token_hash");--> statement-breakpoint
CREATE INDEX "sessions_previous_token_hash_idx" ON "auth"."sessions" USING btree ("previous_token_hash") WHERE "auth"."sessions"."previous_token_hash" is not null;--> statement-breakpoint
CREATE INDEX "sessions_user_id_idx" ON "auth"."sessions" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "sessions_family_id_idx" ON "auth"."sessions" USING btree ("family_id");--> statement-breakpoint
CREATE INDEX "sessions_org_id_idx" ON "auth"."sessions" USING btree ("org_id");--> statement-breakpoint
CREATE INDEX "sessions_live_expires_at_idx" ON "auth"."sessions" USING btree ("expires_at") WHERE "auth"."sessions"."revoked_at" is null;--> statement-breakpoint
CREATE UNIQUE INDEX "users_email_lower_uq" ON "auth"."users" USING btree (lower("email")) WHERE "auth"."users"."deleted_at" is null;--> statement-breakpoint
CREATE INDEX "users_org_id_created_at_id_idx" ON "auth"."users" USING btree ("org_id","created_at" DESC NULLS LAST,"id");--> statement-breakpoint
CREATE INDEX "users_org_id_name_id_idx" ON "auth"."users" USING btree ("org_id","name","id");--> statement-breakpoint
CREATE UNIQUE INDEX "baselines_project_id_metric_operator_uq" ON "projects"."baselines" USING btree ("project_id","metric","operator");--> statement-breakpoint
CREATE INDEX "baselines_org_id_created_at_id_idx" ON "projects"."baselines" USING btree ("org_id","created_at" DESC NULLS LAST,"id");--> statement-breakpoint
CREATE UNIQUE INDEX "organizations_slug_uq" ON "projects"."organizations" USING btree ("slug") WHERE "projects"."organizations"."deleted_at" is null;--> statement-breakpoint
CREATE INDEX "organizations_created_at_id_idx" ON "projects"."organizations" USING btree ("created_at" DESC NULLS LAST,"id");--> statement-breakpoint
CREATE UNIQUE INDEX "policies_org_id_name_uq" ON "projects"."policies" USING btree ("org_id","name") WHERE "projects"."policies"."deleted_at" is null;--> statement-breakpoint
CREATE INDEX "policies_org_id_created_at_id_idx" ON "projects"."policies" USING btree ("org_id","created_at" DESC NULLS LAST,"id");--> statement-breakpoint
CREATE INDEX "project_errors_org_id_created_at_id_idx" ON "projects"."project_errors" USING btree ("org_id","created_at" DESC NULLS LAST,"id");--> statement-breakpoint
CREATE INDEX "project_errors_project_id_created_at_id_idx" ON "projects"."project_errors" USING btree ("project_id","created_at" DESC NULLS LAST,"id");--> statement-breakpoint
CREATE INDEX "project_errors_unresolved_idx" ON "projects"."project_errors" USING btree ("project_id","created_at" DESC NULLS LAST,"id") WHERE "projects"."project_errors"."resolved_at" is null;--> statement-breakpoint
CREATE INDEX "project_errors_validation_id_idx" ON "projects"."project_errors" USING btree ("validation_id");--> statement-breakpoint
CREATE INDEX "project_errors_resolved_by_idx" ON "projects"."project_errors" USING btree ("resolved_by");--> statement-breakpoint
CREATE UNIQUE INDEX "project_policies_project_id_policy_id_uq" ON "projects"."project_policies" USING btree ("project_id","policy_id");--> statement-breakpoint
CREATE INDEX "project_policies_policy_id_idx" ON "projects"."project_policies" USING btree ("policy_id");--> statement-breakpoint
CREATE INDEX "project_policies_org_id_idx" ON "projects"."project_policies" USING btree ("org_id");--> statement-breakpoint
CREATE UNIQUE INDEX "projects_org_id_slug_uq" ON "projects"."projects" USING btree ("org_id","slug") WHERE "projects"."projects"."deleted_at" is null;--> statement-breakpoint
CREATE INDEX "projects_org_id_created_at_id_idx" ON "projects"."projects" USING btree ("org_id","created_at" DESC NULLS LAST,"id");--> statement-breakpoint
CREATE INDEX "projects_org_id_name_id_idx" ON "projects"."projects" USING btree ("org_id","name","id");--> statement-breakpoint
CREATE INDEX "projects_name_trgm_idx" ON "projects"."projects" USING gin ("name" gin_trgm_ops);--> statement-breakpoint
CREATE INDEX "rollback_checkpoints_org_id_created_at_id_idx" ON "projects"."rollback_checkpoints" USING btree ("org_id","created_at" DESC NULLS LAST,"id");--> statement-breakpoint
CREATE INDEX "rollback_checkpoints_project_id_created_at_id_idx" ON "projects"."rollback_checkpoints" USING btree ("project_id","created_at" DESC NULLS LAST,"id");--> statement-breakpoint
CREATE INDEX "validations_org_id_created_at_id_idx" ON "projects"."validations" USING btree ("org_id","created_at" DESC NULLS LAST,"id");--> statement-breakpoint
CREATE INDEX "validations_project_id_created_at_id_idx" ON "projects"."validations" USING btree ("project_id","created_at" DESC NULLS LAST,"id");--> statement-breakpoint
CREATE INDEX "validations_pending_idx" ON "projects"."validations" USING btree ("org_id","created_at") WHERE "projects"."validations"."result" = 'pending';--> statement-breakpoint
CREATE INDEX "version_history_org_id_created_at_id_idx" ON "projects"."version_history" USING btree ("org_id","created_at" DESC NULLS LAST,"id");--> statement-breakpoint
CREATE INDEX "version_history_project_id_created_at_id_idx" ON "projects"."version_history" USING btree ("project_id","created_at" DESC NULLS LAST,"id");--> statement-breakpoint
CREATE INDEX "version_history_version_id_created_at_idx" ON "projects"."version_history" USING btree ("version_id","created_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "version_history_actor_id_idx" ON "projects"."version_history" USING btree ("actor_id");--> statement-breakpoint
CREATE UNIQUE INDEX "versions_project_id_version_number_uq" ON "projects"."versions" USING btree ("project_id","version_number");--> statement-breakpoint
CREATE INDEX "versions_org_id_config_hash_idx" ON "projects"."versions" USING btree ("org_id","config_hash");--> statement-breakpoint
CREATE INDEX "versions_org_id_created_at_id_idx" ON "projects"."versions" USING btree ("org_id","created_at" DESC NULLS LAST,"id");--> statement-breakpoint
CREATE UNIQUE INDEX "blacklist_org_id_config_hash_uq" ON "experiments_v1"."blacklist" USING btree ("org_id","config_hash");--> statement-breakpoint
CREATE INDEX "blacklist_org_id_created_at_id_idx" ON "experiments_v1"."blacklist" USING btree ("org_id","created_at" DESC NULLS LAST,"id");--> statement-breakpoint
CREATE INDEX "comparison_reports_org_id_created_at_id_idx" ON "experiments_v1"."comparison_reports" USING btree ("org_id","created_at" DESC NULLS LAST,"id");--> statement-breakpoint
CREATE INDEX "comparison_reports_project_id_created_at_id_idx" ON "experiments_v1"."comparison_reports" USING btree ("project_id","created_at" DESC NULLS LAST,"id");--> statement-breakpoint
CREATE INDEX "comparison_reports_base_version_id_idx" ON "experiments_v1"."comparison_reports" USING btree ("base_version_id");--> statement-breakpoint
CREATE INDEX "comparison_reports_candidate_version_id_idx" ON "experiments_v1"."comparison_reports" USING btree ("candidate_version_id");--> statement-breakpoint
CREATE INDEX "evaluations_org_id_created_at_id_idx" ON "experiments_v1"."evaluations" USING btree ("org_id","created_at" DESC NULLS LAST,"id");--> statement-breakpoint
CREATE INDEX "evaluations_experiment_id_created_at_idx" ON "experiments_v1"."evaluations" USING btree ("experiment_id","created_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "evaluations_reviewer_id_idx" ON "experiments_v1"."evaluations" USING btree ("reviewer_id");--> statement-breakpoint
CREATE INDEX "experiments_org_id_created_at_id_idx" ON "experiments_v1"."experiments" USING btree ("org_id","created_at" DESC NULLS LAST,"id");--> statement-breakpoint
CREATE INDEX "experiments_project_id_created_at_id_idx" ON "experiments_v1"."experiments" USING btree ("project_id","created_at" DESC NULLS LAST,"id");--> statement-breakpoint
CREATE INDEX "experiments_version_id_idx" ON "experiments_v1"."experiments" USING btree ("version_id");--> statement-breakpoint
CREATE INDEX "experiments_running_idx" ON "experiments_v1"."experiments" USING btree ("org_id","started_at") WHERE "experiments_v1"."experiments"."status" = 'running';--> statement-breakpoint
CREATE UNIQUE INDEX "promotions_open_version_id_uq" ON "experiments_v1"."promotions" USING btree ("version_id") WHERE "experiments_v1"."promotions"."status" in ('requested', 'approved');--> statement-breakpoint
CREATE INDEX "promotions_org_id_created_at_id_idx" ON "experiments_v1"."promotions" USING btree ("org_id","created_at" DESC NULLS LAST,"id");--> statement-breakpoint
CREATE INDEX "promotions_project_id_created_at_id_idx" ON "experiments_v1"."promotions" USING btree ("project_id","created_at" DESC NULLS LAST,"id");--> statement-breakpoint
CREATE INDEX "promotions_version_id_idx" ON "experiments_v1"."promotions" USING btree ("version_id");--> statement-breakpoint
CREATE INDEX "promotions_evaluation_id_idx" ON "experiments_v1"."promotions" USING btree ("evaluation_id");--> statement-breakpoint
CREATE INDEX "promotions_requested_by_idx" ON "experiments_v1"."promotions" USING btree ("requested_by");--> statement-breakpoint
CREATE INDEX "promotions_decided_by_idx" ON "experiments_v1"."promotions" USING btree ("decided_by");--> statement-breakpoint
CREATE INDEX "promotions_applied_by_idx" ON "experiments_v1"."promotions" USING btree ("applied_by");--> statement-breakpoint
CREATE INDEX "promotions_pending_idx" ON "experiments_v1"."promotions" USING btree ("org_id","created_at") WHERE "experiments_v1"."promotions"."status" = 'requested';--> statement-breakpoint
CREATE INDEX "analysis_sessions_org_id_created_at_id_idx" ON "production"."analysis_sessions" USING btree ("org_id","created_at" DESC NULLS LAST,"id");--> statement-breakpoint
CREATE INDEX "analysis_sessions_project_id_created_at_id_idx" ON "production"."analysis_sessions" USING btree ("project_id","created_at" DESC NULLS LAST,"id");--> statement-breakpoint
CREATE INDEX "analysis_sessions_version_id_idx" ON "production"."analysis_sessions" USING btree ("version_id");--> statement-breakpoint
CREATE INDEX "analysis_sessions_active_idx" ON "production"."analysis_sessions" USING btree ("org_id","created_at") WHERE "production"."analysis_sessions"."status" in ('pending', 'running');--> statement-breakpoint
CREATE INDEX "analysis_tasks_org_id_created_at_id_idx" ON "production"."analysis_tasks" USING btree ("org_id","created_at" DESC NULLS LAST,"id");--> statement-breakpoint
CREATE INDEX "analysis_tasks_session_id_created_at_idx" ON "production"."analysis_tasks" USING btree ("session_id","created_at");--> statement-breakpoint
CREATE INDEX "analysis_tasks_active_idx" ON "production"."analysis_tasks" USING btree ("status","created_at") WHERE "production"."analysis_tasks"."status" in ('pending', 'running');--> statement-breakpoint
CREATE INDEX "artifacts_org_id_created_at_id_idx" ON "production"."artifacts" USING btree ("org_id","created_at" DESC NULLS LAST,"id");--> statement-breakpoint
CREATE INDEX "artifacts_session_id_created_at_idx" ON "production"."artifacts" USING btree ("session_id","created_at");--> statement-breakpoint
CREATE INDEX "artifacts_expires_at_idx" ON "production"."artifacts" USING btree ("expires_at") WHERE "production"."artifacts"."expires_at" is not null;--> statement-breakpoint
CREATE INDEX "code_review_results_org_id_created_at_id_idx" ON "production"."code_review_results" USING btree ("org_id","created_at" DESC NULLS LAST,"id");--> statement-breakpoint
CREATE INDEX "code_review_results_session_id_created_at_idx" ON "production"."code_review_results" USING btree ("session_id","created_at");--> statement-breakpoint
CREATE INDEX "quarantine_records_org_id_created_at_id_idx" ON "quarantine"."quarantine_records" USING btree ("org_id","created_at" DESC NULLS LAST,"id");--> statement-breakpoint
CREATE INDEX "quarantine_records_project_id_created_at_id_idx" ON "quarantine"."quarantine_records" USING btree ("project_id","created_at" DESC NULLS LAST,"id");--> statement-breakpoint
CREATE INDEX "quarantine_records_version_id_idx" ON "quarantine"."quarantine_records" USING btree ("version_id");--> statement-breakpoint
CREATE INDEX "quarantine_records_org_id_config_hash_idx" ON "quarantine"."quarantine_records" USING btree ("org_id","config_hash");--> statement-breakpoint
CREATE UNIQUE INDEX "reevaluation_requests_pending_record_id_uq" ON "quarantine"."reevaluation_requests" USING btree ("record_id") WHERE "quarantine"."reevaluation_requests"."status" = 'pending';--> statement-breakpoint
CREATE INDEX "reevaluation_requests_record_id_idx" ON "quarantine"."reevaluation_requests" USING btree ("record_id");--> statement-breakpoint
CREATE INDEX "reevaluation_requests_org_id_created_at_id_idx" ON "quarantine"."reevaluation_requests" USING btree ("org_id","created_at" DESC NULLS LAST,"id");--> statement-breakpoint
CREATE INDEX "reevaluation_requests_pending_idx" ON "quarantine"."reevaluation_requests" USING btree ("org_id","created_at") WHERE "quarantine"."reevaluation_requests"."status" = 'pending';--> statement-breakpoint
CREATE INDEX "reevaluation_requests_requested_by_idx" ON "quarantine"."reevaluation_requests" USING btree ("requested_by");--> statement-breakpoint
CREATE INDEX "reevaluation_requests_decided_by_idx" ON "quarantine"."reevaluation_requests" USING btree ("decided_by");--> statement-breakpoint
CREATE INDEX "reevaluation_requests_new_version_id_idx" ON "quarantine"."reevaluation_requests" USING btree ("new_version_id");--> statement-breakpoint
CREATE UNIQUE INDEX "api_keys_prefix_uq" ON "providers"."api_keys" USING btree ("prefix");--> statement-breakpoint
CREATE UNIQUE INDEX "api_keys_key_hash_uq" ON "providers"."api_keys" USING btree ("key_hash");--> statement-breakpoint
CREATE INDEX "api_keys_org_id_created_at_idx" ON "providers"."api_keys" USING btree ("org_id","created_at" DESC NULLS LAST,"id");--> statement-breakpoint
CREATE INDEX "api_keys_user_id_created_at_idx" ON "providers"."api_keys" USING btree ("user_id","created_at" DESC NULLS LAST,"id");--> statement-breakpoint
CREATE INDEX "cost_alerts_org_id_created_at_idx" ON "providers"."cost_alerts" USING btree ("org_id","created_at" DESC NULLS LAST,"id");--> statement-breakpoint
CREATE INDEX "cost_alerts_user_id_idx" ON "providers"."cost_alerts" USING btree ("user_id") WHERE "providers"."cost_alerts"."user_id" IS NOT NULL;--> statement-breakpoint
CREATE INDEX "cost_alerts_enabled_idx" ON "providers"."cost_alerts" USING btree ("org_id","period") WHERE "providers"."cost_alerts"."enabled";--> statement-breakpoint
CREATE UNIQUE INDEX "provider_health_provider_id_uq" ON "providers"."provider_health" USING btree ("provider_id");--> statement-breakpoint
CREATE INDEX "provider_health_checks_provider_id_checked_at_idx" ON "providers"."provider_health_checks" USING btree ("provider_id","checked_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "provider_health_checks_checked_at_idx" ON "providers"."provider_health_checks" USING btree ("checked_at");--> statement-breakpoint
CREATE UNIQUE INDEX "provider_models_provider_id_model_uq" ON "providers"."provider_models" USING btree ("provider_id","model");--> statement-breakpoint
CREATE UNIQUE INDEX "quota_counters_subject_period_uq" ON "providers"."quota_counters" USING btree ("subject_type","subject_id","period","period_start");--> statement-breakpoint
CREATE INDEX "quota_counters_org_id_period_start_idx" ON "providers"."quota_counters" USING btree ("org_id","period_start");--> statement-breakpoint
CREATE INDEX "quota_reservations_expires_at_idx" ON "providers"."quota_reservations" USING btree ("expires_at") WHERE "providers"."quota_reservations"."state" = 'reserved';--> statement-breakpoint
CREATE INDEX "quota_reservations_org_id_created_at_idx" ON "providers"."quota_reservations" USING btree ("org_id","created_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "quota_reservations_user_id_idx" ON "providers"."quota_reservations" USING btree ("user_id");--> statement-breakpoint
CREATE UNIQUE INDEX "usage_tracking_user_provider_model_day_uq" ON "providers"."usage_tracking" USING btree ("user_id","provider","model","day");--> statement-breakpoint
CREATE INDEX "usage_tracking_org_id_day_idx" ON "providers"."usage_tracking" USING btree ("org_id","day");--> statement-breakpoint
CREATE UNIQUE INDEX "user_providers_user_id_name_uq" ON "providers"."user_providers" USING btree ("user_id","name") WHERE "providers"."user_providers"."deleted_at" IS NULL;--> statement-breakpoint
CREATE INDEX "user_providers_user_id_created_at_idx" ON "providers"."user_providers" USING btree ("user_id","created_at" DESC NULLS LAST,"id");--> statement-breakpoint
CREATE INDEX "user_providers_org_id_created_at_idx" ON "providers"."user_providers" USING btree ("org_id","created_at" DESC NULLS LAST,"id");--> statement-breakpoint
CREATE INDEX "user_providers_catalog_provider_id_idx" ON "providers"."user_providers" USING btree ("catalog_provider_id");--> statement-breakpoint
CREATE INDEX "user_quotas_user_id_idx" ON "providers"."user_quotas" USING btree ("user_id") WHERE "providers"."user_quotas"."user_id" IS NOT NULL;--> statement-breakpoint
CREATE INDEX "audit_log_org_id_occurred_at_idx" ON "audits"."audit_log" USING btree ("org_id","occurred_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "audit_log_txid_id_idx" ON "audits"."audit_log" USING btree ("txid","id");--> statement-breakpoint
CREATE UNIQUE INDEX "audit_seal_seal_hash_uq" ON "audits"."audit_seal" USING btree ("seal_hash");--> statement-breakpoint
CREATE UNIQUE INDEX "audit_seal_to_txid_uq" ON "audits"."audit_seal" USING btree ("to_txid");--> statement-breakpoint
CREATE INDEX "job_runs_job_started_at_idx" ON "ops"."job_runs" USING btree ("job","started_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "job_runs_running_idx" ON "ops"."job_runs" USING btree ("job") WHERE "ops"."job_runs"."status" = 'running';--> statement-breakpoint
CREATE UNIQUE INDEX "outbox_event_id_uq" ON "ops"."outbox" USING btree ("event_id");--> statement-breakpoint
CREATE INDEX "outbox_pending_idx" ON "ops"."outbox" USING btree ("next_attempt_at") WHERE "ops"."outbox"."delivered_at" IS NULL AND "ops"."outbox"."parked_at" IS NULL;--> statement-breakpoint
CREATE INDEX "outbox_parked_idx" ON "ops"."outbox" USING btree ("parked_at") WHERE "ops"."outbox"."parked_at" IS NOT NULL;--> statement-breakpoint
CREATE INDEX "outbox_delivered_at_idx" ON "ops"."outbox" USING btree ("delivered_at") WHERE "ops"."outbox"."delivered_at" IS NOT NULL;--> statement-breakpoint
CREATE INDEX "rate_limits_window_start_idx" ON "ops"."rate_limits" USING btree ("window_start");--> statement-breakpoint
CREATE INDEX "audit_events_org_id_occurred_at_idx" ON "analytics"."audit_events" USING btree ("org_id","occurred_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "daily_usage_org_id_day_idx" ON "analytics"."daily_usage" USING btree ("org_id","day");--> statement-breakpoint
CREATE INDEX "request_logs_org_id_occurred_at_idx" ON "analytics"."request_logs" USING btree ("org_id","occurred_at" DESC NULLS LAST);