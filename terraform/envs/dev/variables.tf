# The values of terraform.tfvars, handed to the platform module, which documents, types, validates and
# defaults each of them (modules/platform/variables.tf). null means "the platform's default".
variable "project_id" {
  description = "GCP project of this environment."
  type        = string
}

variable "region" {
  description = "Default region of the provider and of the platform."
  type        = string
}

variable "environment" {
  description = "Environment name: dev or prod."
  type        = string
}

variable "firestore_location" {
  description = "Firestore location."
  type        = string
}

variable "bigquery_location" {
  description = "BigQuery location."
  type        = string
  default     = null
}

variable "subnet_cidr" {
  description = "Primary range of the functions' subnet."
  type        = string
  default     = null
}

variable "connector_cidr" {
  description = "The /28 of the Serverless VPC Access connector."
  type        = string
  default     = null
}

variable "sql_tier" {
  description = "Cloud SQL machine tier."
  type        = string
}

variable "sql_availability_type" {
  description = "ZONAL or REGIONAL (HA)."
  type        = string
}

variable "sql_disk_size_gb" {
  description = "Initial Cloud SQL disk size in GB."
  type        = number
}

variable "sql_max_connections" {
  description = "PostgreSQL max_connections."
  type        = number
}

variable "sql_read_replica" {
  description = "Create a Cloud SQL read replica."
  type        = bool
}

variable "pool_size" {
  description = "Database connections per function instance."
  type        = number
  default     = null
}

variable "kms_protection_level" {
  description = "SOFTWARE or HSM for the KMS keys."
  type        = string
}

variable "signing_key_version" {
  description = "Audit signing key version the jobs function signs with."
  type        = number
  default     = null
}

variable "functions" {
  description = "Sizing and exposure of each function (typed in the platform module)."
  type        = any
}

variable "mail_from" {
  description = "Sender of the auth function's mail."
  type        = string
}

variable "public_base_url" {
  description = "Base URL of the web app the links in mail open."
  type        = string
}

variable "retention_days" {
  description = "BigQuery partition expiration per table, in days (typed in the platform module)."
  type        = any
}

variable "analyst_groups" {
  description = "Google groups allowed to query the analyst views."
  type        = list(string)
  default     = null
}

variable "log_level" {
  description = "LOG_LEVEL of the functions."
  type        = string
  default     = null
}
