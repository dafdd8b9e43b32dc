variable "project_id" {
  description = "GCP project of this environment."
  type        = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a valid GCP project id."
  }
}

variable "region" {
  description = "Region of Cloud SQL, the functions, KMS, Cloud Scheduler and the buckets."
  type        = string
  default     = "europe-west1"
  nullable    = false
  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]$", var.region))
    error_message = "region must look like europe-west1."
  }
}

variable "environment" {
  description = "Environment name: dev or prod."
  type        = string
  validation {
    condition     = contains(["dev", "prod"], var.environment)
    error_message = "environment must be dev or prod."
  }
}

variable "firestore_location" {
  description = "Firestore location (region or multi-region such as eur3)."
  type        = string
  validation {
    condition     = can(regex("^([a-z]+-[a-z]+[0-9]|nam5|eur3)$", var.firestore_location))
    error_message = "firestore_location must be a region or nam5/eur3."
  }
}

variable "bigquery_location" {
  description = "BigQuery location (EU, US or a region)."
  type        = string
  default     = "EU"
  nullable    = false
  validation {
    condition     = can(regex("^(EU|US|[a-z]+-[a-z]+[0-9])$", var.bigquery_location))
    error_message = "bigquery_location must be EU, US or a region."
  }
}

variable "subnet_cidr" {
  description = "Primary range of the functions' subnet."
  type        = string
  default     = "10.10.0.0/24"
  nullable    = false
  validation {
    condition     = can(cidrhost(var.subnet_cidr, 0))
    error_message = "subnet_cidr must be a CIDR block."
  }
}

variable "connector_cidr" {
  description = "The /28 of the Serverless VPC Access connector."
  type        = string
  default     = "10.8.0.0/28"
  nullable    = false
  validation {
    condition     = can(cidrhost(var.connector_cidr, 0))
    error_message = "connector_cidr must be a CIDR block."
  }
}

variable "sql_tier" {
  description = "Cloud SQL machine tier."
  type        = string
  validation {
    condition     = startswith(var.sql_tier, "db-")
    error_message = "sql_tier must be a Cloud SQL tier (db-…)."
  }
}

variable "sql_availability_type" {
  description = "ZONAL or REGIONAL (HA)."
  type        = string
  validation {
    condition     = contains(["ZONAL", "REGIONAL"], var.sql_availability_type)
    error_message = "sql_availability_type must be ZONAL or REGIONAL."
  }
}

variable "sql_disk_size_gb" {
  description = "Initial Cloud SQL disk size in GB (autoresize grows it)."
  type        = number
  validation {
    condition     = var.sql_disk_size_gb >= 10
    error_message = "sql_disk_size_gb must be at least 10."
  }
}

variable "sql_max_connections" {
  description = "PostgreSQL max_connections: at least the sum of every function's max instances x pool size, plus the reserve."
  type        = number
  validation {
    condition     = var.sql_max_connections >= 50
    error_message = "sql_max_connections must be at least 50."
  }
}

variable "sql_read_replica" {
  description = "Create a Cloud SQL read replica (required in prod)."
  type        = bool
  validation {
    condition     = var.sql_read_replica || var.environment != "prod"
    error_message = "prod must have a read replica."
  }
}

variable "pool_size" {
  description = "Database connections per function instance (DESIGN: 10)."
  type        = number
  default     = 10
  nullable    = false
  validation {
    condition     = var.pool_size >= 1 && var.pool_size <= 10
    error_message = "pool_size must be between 1 and 10."
  }
}

variable "kms_protection_level" {
  description = "SOFTWARE or HSM for the KMS keys."
  type        = string
  validation {
    condition     = contains(["SOFTWARE", "HSM"], var.kms_protection_level)
    error_message = "kms_protection_level must be SOFTWARE or HSM."
  }
}

variable "signing_key_version" {
  description = "Audit signing key version the jobs function signs with."
  type        = number
  default     = 1
  nullable    = false
  validation {
    condition     = var.signing_key_version >= 1
    error_message = "signing_key_version must be at least 1."
  }
}

variable "functions" {
  description = "Sizing and exposure of the four functions (auth, projects, providers, jobs)."
  type = map(object({
    memory          = string
    cpu             = string
    min_instances   = number
    max_instances   = number
    concurrency     = number
    timeout_seconds = number
    ingress         = string
    public          = bool
  }))
  validation {
    condition     = length(setsubtract(["auth", "projects", "providers", "jobs"], keys(var.functions))) == 0 && length(var.functions) == 4
    error_message = "functions must define exactly auth, projects, providers and jobs."
  }
}

variable "runtime" {
  description = "Cloud Run functions runtime of every function. The one place it is stated: scripts/build.ts reads it for the esbuild target and the bundles' engines, and test/infra checks it against Google's schedule (terraform/runtimes/nodejs-schedule.json) and cloudbuild.yaml's Node image."
  type        = string
  default     = "nodejs24"
  nullable    = false
  validation {
    condition     = can(regex("^nodejs[0-9]+$", var.runtime))
    error_message = "runtime must be a Node.js runtime id such as nodejs24."
  }
}

variable "platform_providers" {
  description = "Catalog providers the platform has its own upstream key for: each gets a Secret Manager secret PROVIDER_KEY_<ID> the providers function reads."
  type        = list(string)
  default     = ["openai", "anthropic", "gemini"]
  nullable    = false
  validation {
    condition     = alltrue([for id in var.platform_providers : can(regex("^[a-z0-9][a-z0-9-]*$", id))])
    error_message = "platform_providers are catalog provider ids (lower-case letters, digits, dashes)."
  }
}

variable "mail_from" {
  description = "Sender of the auth function's mail (MAIL_FROM), e.g. \"Lattice Lock <no-reply@example.com>\"."
  type        = string
  validation {
    condition     = can(regex("@", var.mail_from))
    error_message = "mail_from must contain an address."
  }
}

variable "public_base_url" {
  description = "Base URL of the web app the links in mail open (PUBLIC_BASE_URL), e.g. https://app.example.com."
  type        = string
  validation {
    condition     = can(regex("^https://[^/]+", var.public_base_url))
    error_message = "public_base_url must be an https URL."
  }
}

variable "retention_days" {
  description = "BigQuery partition expiration per table, in days."
  type        = object({ request_logs = number, audit_events = number, daily_usage = number, session_snapshots = number, request_aggregates = number })
  validation {
    condition     = var.retention_days.audit_events >= var.retention_days.request_logs
    error_message = "audit events must be kept at least as long as request logs."
  }
}

variable "analyst_groups" {
  description = "Google groups allowed to query the analyst views."
  type        = list(string)
  default     = []
  nullable    = false
  validation {
    condition     = alltrue([for g in var.analyst_groups : can(regex("^[^@\\s]+@[^@\\s]+$", g))])
    error_message = "analyst_groups must be email addresses."
  }
}

variable "log_level" {
  description = "LOG_LEVEL of the functions."
  type        = string
  default     = "info"
  nullable    = false
  validation {
    condition     = contains(["debug", "info", "warn", "error"], var.log_level)
    error_message = "log_level must be debug, info, warn or error."
  }
}

variable "artifact_cors_origins" {
  description = "Web origins whose browsers may PUT and GET analysis artifacts' signed URLs (empty: CLI and server clients only)."
  type        = list(string)
  default     = []
  nullable    = false
  validation {
    condition     = alltrue([for o in var.artifact_cors_origins : can(regex("^https://[^/*]+$", o))])
    error_message = "artifact_cors_origins are https origins without paths or wildcards."
  }
}
