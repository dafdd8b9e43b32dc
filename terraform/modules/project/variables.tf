variable "project_id" {
  description = "GCP project that hosts this environment."
  type        = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a valid GCP project id (6-30 lowercase letters, digits, hyphens)."
  }
}

variable "environment" {
  description = "Environment name, used in every resource name so dev and prod can share a project if needed."
  type        = string
  validation {
    condition     = contains(["dev", "prod"], var.environment)
    error_message = "environment must be dev or prod."
  }
}

variable "functions" {
  description = "Names of the deployable functions; each gets its own service account."
  type        = set(string)
  validation {
    condition     = alltrue([for f in var.functions : can(regex("^[a-z]{2,12}$", f))])
    error_message = "function names are 2-12 lowercase letters (they become service account ids)."
  }
}

variable "propagation_wait" {
  description = "How long to wait after creating the service agents before granting them roles (IAM propagation)."
  type        = string
  default     = "120s"
  validation {
    condition     = can(regex("^[0-9]+s$", var.propagation_wait))
    error_message = "propagation_wait is a number of seconds such as 120s."
  }
}
