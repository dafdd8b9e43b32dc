variable "project_id" {
  description = "GCP project that hosts this environment."
  type        = string
}

variable "region" {
  description = "Location of the bucket (the functions' region)."
  type        = string
}

variable "environment" {
  description = "Environment name (dev or prod)."
  type        = string
}

variable "kms_key_name" {
  description = "CMEK key the bucket encrypts objects with (the platform key ring's artifacts key)."
  type        = string
}

variable "projects_service_account" {
  description = "The projects function's service account: the only writer."
  type        = string
}

variable "jobs_service_account" {
  description = "The jobs function's service account: deletes expired artifacts' objects, nothing else."
  type        = string
}

variable "max_age_days" {
  description = "Longest artifact life in days (ARTIFACT_MAX_TTL_DAYS in functions/projects/service/artifacts.ts); objects are deleted one day after it."
  type        = number
  default     = 30
  validation {
    condition     = var.max_age_days >= 1 && var.max_age_days <= 365
    error_message = "max_age_days must be 1-365."
  }
}

variable "cors_origins" {
  description = "Web origins allowed to PUT and GET signed URLs from a browser (empty: CLI and server clients only)."
  type        = list(string)
  default     = []
  validation {
    condition     = alltrue([for o in var.cors_origins : can(regex("^https://[^/*]+$", o))])
    error_message = "cors_origins are https origins without paths or wildcards."
  }
}
