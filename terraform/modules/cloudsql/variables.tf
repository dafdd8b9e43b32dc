variable "project_id" {
  description = "GCP project that hosts this environment."
  type        = string
}

variable "region" {
  description = "Region of the instance (and its replica)."
  type        = string
}

variable "environment" {
  description = "Environment name (dev or prod)."
  type        = string
}

variable "network_id" {
  description = "VPC id the instance gets its private IP in."
  type        = string
}

variable "kms_key_name" {
  description = "CMEK key for the instance, its backups and its replica."
  type        = string
}

variable "tier" {
  description = "Machine tier, e.g. db-custom-2-7680."
  type        = string
  validation {
    condition     = can(regex("^db-(custom-[0-9]+-[0-9]+|perf-optimized-N-[0-9]+|g1-small|f1-micro)$", var.tier))
    error_message = "tier must be a Cloud SQL for PostgreSQL tier such as db-custom-2-7680."
  }
}

variable "availability_type" {
  description = "ZONAL or REGIONAL (high availability with a standby in another zone)."
  type        = string
  validation {
    condition     = contains(["ZONAL", "REGIONAL"], var.availability_type)
    error_message = "availability_type must be ZONAL or REGIONAL."
  }
}

variable "disk_size_gb" {
  description = "Initial SSD size; autoresize grows it."
  type        = number
  validation {
    condition     = var.disk_size_gb >= 10
    error_message = "disk_size_gb must be at least 10."
  }
}

variable "max_connections" {
  description = "PostgreSQL max_connections flag; must cover every function instance's pool plus the reserve."
  type        = number
  validation {
    condition     = var.max_connections >= 50 && var.max_connections <= 10000
    error_message = "max_connections must be between 50 and 10000."
  }
}

variable "function_max_instances" {
  description = "Maximum instance count of each function: each instance may open a full pool."
  type        = map(number)
}

variable "pool_size" {
  description = "Connections per function instance (DB_POOL_MAX; DESIGN: 10)."
  type        = number
  validation {
    condition     = var.pool_size >= 1 && var.pool_size <= 10
    error_message = "pool_size must be between 1 and 10 (config.ts caps DB_POOL_MAX at 10)."
  }
}

variable "reserved_connections" {
  description = "Connections kept for migrations, the Auth Proxy, superuser and Cloud SQL's own maintenance."
  type        = number
  default     = 20
  validation {
    condition     = var.reserved_connections >= 10
    error_message = "reserved_connections must be at least 10."
  }
}

variable "read_replica" {
  description = "Create a read replica (prod)."
  type        = bool
}

variable "backup_retention_days" {
  description = "Automated daily backups kept (one a day, so also the number of days)."
  type        = number
  default     = 30
  validation {
    condition     = var.backup_retention_days >= 30 && var.backup_retention_days <= 365
    error_message = "backup_retention_days must be between 30 and 365."
  }
}

variable "log_retention_days" {
  description = "Write-ahead log retention for point-in-time recovery (days)."
  type        = number
  default     = 7
  validation {
    condition     = var.log_retention_days >= 1 && var.log_retention_days <= 7
    error_message = "log_retention_days must be between 1 and 7 (Cloud SQL's limit for PostgreSQL)."
  }
}

variable "database_name" {
  description = "The application database (DB_NAME)."
  type        = string
  default     = "lattice"
}

variable "iam_service_accounts" {
  description = "Service accounts that log in with IAM database authentication, by a short name."
  type        = map(string)
}
