variable "project_id" {
  description = "GCP project that hosts this environment."
  type        = string
}

variable "environment" {
  description = "Environment name (dev or prod)."
  type        = string
}

variable "location" {
  description = "BigQuery location of both datasets (EU, US or a region)."
  type        = string
}

variable "dataset_id" {
  description = "Dataset the event sink writes to (BIGQUERY_DATASET)."
  type        = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9_]{0,1000}$", var.dataset_id))
    error_message = "dataset_id must be lowercase letters, digits and underscores."
  }
}

variable "retention_days" {
  description = "Partition expiration of each event table, in days."
  type        = object({ request_logs = number, audit_events = number, daily_usage = number, session_snapshots = number, request_aggregates = number })
  validation {
    condition     = alltrue([for d in values(var.retention_days) : d >= 1 && d <= 3650])
    error_message = "every retention must be between 1 and 3650 days."
  }
}

variable "writer_service_account" {
  description = "Service account that streams events (the jobs function's drain-outbox and aggregate-usage)."
  type        = string
}

variable "pipeline_service_account" {
  description = "Service account of the scheduled query and the Firestore snapshot loads."
  type        = string
}

variable "datatransfer_service_agent" {
  description = "Email of the BigQuery Data Transfer service agent, which runs the scheduled query as the pipeline account."
  type        = string
}

variable "analyst_groups" {
  description = "Google groups (emails) that may query the analyst views; they see nothing else."
  type        = list(string)
  default     = []
  validation {
    condition     = alltrue([for g in var.analyst_groups : can(regex("^[^@\\s]+@[^@\\s]+$", g))])
    error_message = "analyst_groups must be group email addresses."
  }
}

variable "analyst_hidden_columns" {
  description = "Columns the analyst views leave out (identifiers of people and raw payloads)."
  type        = list(string)
  default     = ["user_id", "actor_id", "request_id", "row_id", "row_hash", "payload"]
}

variable "aggregate_schedule" {
  description = "Schedule of the daily aggregate query, in BigQuery Data Transfer syntax."
  type        = string
  default     = "every day 01:30"
  validation {
    condition     = can(regex("^every ", var.aggregate_schedule))
    error_message = "aggregate_schedule must use the Data Transfer syntax, e.g. \"every day 01:30\"."
  }
}
