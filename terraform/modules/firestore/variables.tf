variable "project_id" {
  description = "GCP project that hosts this environment."
  type        = string
}

variable "environment" {
  description = "Environment name (dev or prod)."
  type        = string
}

variable "location_id" {
  description = "Firestore location (a region such as europe-west1, or a multi-region such as eur3)."
  type        = string
}

variable "region" {
  description = "Region of the export bucket and of the Cloud Scheduler jobs that export and load."
  type        = string
}

variable "firestore_service_agent" {
  description = "Email of the Firestore service agent, which writes the export files."
  type        = string
}

variable "pipeline_service_account" {
  description = "Service account that starts exports and BigQuery loads."
  type        = string
}

variable "bigquery_dataset_id" {
  description = "Dataset the session snapshots load into."
  type        = string
}

variable "bigquery_snapshot_table_id" {
  description = "Ingestion-time partitioned table receiving one snapshot of the sessions collection per day."
  type        = string
}

variable "export_schedule" {
  description = "Cron schedule (UTC) of the daily export; the load runs 45 minutes later."
  type        = string
  default     = "15 3 * * *"
  validation {
    condition     = length(split(" ", var.export_schedule)) == 5
    error_message = "export_schedule must be a 5-field cron expression."
  }
}

variable "load_schedule" {
  description = "Cron schedule (UTC) of the BigQuery load of the latest export."
  type        = string
  default     = "0 4 * * *"
  validation {
    condition     = length(split(" ", var.load_schedule)) == 5
    error_message = "load_schedule must be a 5-field cron expression."
  }
}

variable "export_retention_days" {
  description = "Days an export stays in the bucket."
  type        = number
  default     = 7
  validation {
    condition     = var.export_retention_days >= 1 && var.export_retention_days <= 90
    error_message = "export_retention_days must be between 1 and 90."
  }
}
