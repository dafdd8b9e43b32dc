variable "project_id" {
  description = "GCP project that hosts this environment."
  type        = string
}

variable "region" {
  description = "Region of the functions."
  type        = string
}

variable "environment" {
  description = "Environment name (dev or prod)."
  type        = string
}

variable "runtime" {
  description = "Cloud Run functions runtime (modules/platform states it)."
  type        = string
}

variable "build_service_account" {
  description = "Email of the service account Cloud Build builds the functions' images as."
  type        = string
}

variable "functions" {
  description = "Sizing and exposure of each function."
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
    condition     = alltrue([for f in values(var.functions) : contains(["256Mi", "512Mi", "1Gi", "2Gi", "4Gi", "8Gi"], f.memory)])
    error_message = "memory must be one of 256Mi, 512Mi, 1Gi, 2Gi, 4Gi, 8Gi."
  }
  validation {
    condition     = alltrue([for f in values(var.functions) : f.min_instances >= 0 && f.max_instances >= 1 && f.min_instances <= f.max_instances])
    error_message = "each function needs 0 <= min_instances <= max_instances and max_instances >= 1."
  }
  validation {
    condition     = alltrue([for f in values(var.functions) : f.concurrency >= 1 && f.concurrency <= 1000 && f.timeout_seconds >= 1 && f.timeout_seconds <= 3600])
    error_message = "concurrency must be 1-1000 and timeout_seconds 1-3600."
  }
  # "If you set concurrency greater than 1, the function must have 1 or more vCPU"
  # (cloud.google.com/functions/docs/configuring/concurrency); Cloud Run refuses the deploy otherwise.
  validation {
    condition     = alltrue([for f in values(var.functions) : f.concurrency == 1 || try(tonumber(f.cpu) >= 1, false)])
    error_message = "a function with concurrency above 1 needs cpu of at least 1 (a whole vCPU)."
  }
  # The gateway waits on providers for seconds per call while using milliseconds of CPU: one request per
  # instance would pay a cold start (and a new pool of connections) per concurrent call. A warm instance
  # keeps its caches (routes, API keys, KMS data keys) and its keep-alive pools to the providers.
  validation {
    condition     = try(var.functions["providers"].concurrency > 1 && var.functions["providers"].min_instances >= 1, false)
    error_message = "the providers function needs concurrency above 1 and at least one minimum instance."
  }
  validation {
    condition     = alltrue([for f in values(var.functions) : contains(["ALLOW_ALL", "ALLOW_INTERNAL_ONLY", "ALLOW_INTERNAL_AND_GCLB"], f.ingress)])
    error_message = "ingress must be ALLOW_ALL, ALLOW_INTERNAL_ONLY or ALLOW_INTERNAL_AND_GCLB."
  }
  validation {
    condition     = !try(var.functions["jobs"].public, false)
    error_message = "the jobs function is invoked by Cloud Scheduler only and must not be public."
  }
}

variable "service_accounts" {
  description = "Runtime service account email of each function."
  type        = map(string)
}

variable "vpc_connector" {
  description = "Serverless VPC Access connector id the functions reach Cloud SQL through."
  type        = string
}

variable "instance_connection_name" {
  description = "Cloud SQL connection name (INSTANCE_CONNECTION_NAME)."
  type        = string
}

variable "db_users" {
  description = "IAM database user of each function (DB_USER)."
  type        = map(string)
}

variable "db_name" {
  description = "Application database name (DB_NAME)."
  type        = string
}

variable "pool_size" {
  description = "Connections per instance (DB_POOL_MAX)."
  type        = number
}

variable "firestore_database" {
  description = "Firestore database id (FIRESTORE_DATABASE)."
  type        = string
}

variable "bigquery_dataset" {
  description = "Event dataset (BIGQUERY_DATASET)."
  type        = string
}

variable "kms_key_name" {
  description = "Symmetric key of the KeyEncryptor (KMS_KEY_NAME)."
  type        = string
}

variable "audit_signing_key" {
  description = "Asymmetric audit signing key; its version signing_key_version becomes KMS_SIGNING_KEY_VERSION."
  type        = string
}

variable "signing_key_version" {
  description = "Version number of the audit signing key the jobs function signs with (raise it after adding a version)."
  type        = number
  default     = 1
  validation {
    condition     = var.signing_key_version >= 1 && floor(var.signing_key_version) == var.signing_key_version
    error_message = "signing_key_version must be a positive integer."
  }
}

variable "function_secrets" {
  description = "Names of the secret environment variables each function reads, by function."
  type        = map(list(string))
}

variable "secret_ids" {
  description = "Secret Manager secret id of each secret environment variable."
  type        = map(string)
}

variable "platform_providers" {
  description = "Catalog providers with a platform key (PLATFORM_PROVIDERS of the providers function)."
  type        = list(string)
}

variable "mail_from" {
  description = "Sender of the auth function's mail (MAIL_FROM)."
  type        = string
}

variable "public_base_url" {
  description = "Base URL of the links in mail (PUBLIC_BASE_URL)."
  type        = string
}

variable "deployer_service_account" {
  description = "Cloud Build's service account: uploads source archives to the bucket."
  type        = string
}

variable "log_level" {
  description = "LOG_LEVEL of every function."
  type        = string
  default     = "info"
  validation {
    condition     = contains(["debug", "info", "warn", "error"], var.log_level)
    error_message = "log_level must be debug, info, warn or error."
  }
}

variable "artifact_bucket" {
  description = "Analysis artifacts bucket (ARTIFACT_BUCKET)."
  type        = string
}
