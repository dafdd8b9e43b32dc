variable "project_id" {
  description = "GCP project that hosts this environment."
  type        = string
}

variable "region" {
  description = "KMS location; must equal the Cloud SQL region for the CMEK key."
  type        = string
}

variable "environment" {
  description = "Environment name (dev or prod)."
  type        = string
}

variable "cloudsql_service_agent" {
  description = "Email of the Cloud SQL service agent, which encrypts the instance with the CMEK key."
  type        = string
}

variable "providers_service_account" {
  description = "Email of the providers function's service account: the one that wraps users' provider keys."
  type        = string
}

variable "auth_service_account" {
  description = "Email of the auth function's service account: it encrypts TOTP secrets with the same key."
  type        = string
}

variable "jobs_service_account" {
  description = "Email of the jobs function's service account: the only signer of audit checkpoints."
  type        = string
}

variable "verifier_service_accounts" {
  description = "Emails allowed to read the audit signing public key (e.g. the projects function for GET /audit/verify)."
  type        = list(string)
  default     = []
}

variable "rotation_period" {
  description = "Automatic rotation of the symmetric keys, in seconds with an s suffix (90 days = 7776000s)."
  type        = string
  default     = "7776000s"
  validation {
    condition     = can(regex("^[0-9]+s$", var.rotation_period)) && tonumber(trimsuffix(var.rotation_period, "s")) >= 86400 && tonumber(trimsuffix(var.rotation_period, "s")) <= 7776000
    error_message = "rotation_period must be between 86400s (1 day) and 7776000s (90 days)."
  }
}

variable "protection_level" {
  description = "SOFTWARE or HSM for every key."
  type        = string
  default     = "SOFTWARE"
  validation {
    condition     = contains(["SOFTWARE", "HSM"], var.protection_level)
    error_message = "protection_level must be SOFTWARE or HSM."
  }
}

variable "storage_service_agent" {
  description = "Email of the Cloud Storage service agent, which encrypts the artifacts bucket with the CMEK key."
  type        = string
}
