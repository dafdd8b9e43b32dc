variable "project_id" {
  description = "GCP project that hosts this environment."
  type        = string
}

variable "region" {
  description = "Region of the Cloud Scheduler jobs."
  type        = string
}

variable "environment" {
  description = "Environment name (dev or prod)."
  type        = string
}

variable "jobs_url" {
  description = "URL of the jobs function: each job POSTs to <jobs_url>/<endpoint> with it as OIDC audience."
  type        = string
  validation {
    condition     = startswith(var.jobs_url, "https://")
    error_message = "jobs_url must be an https URL."
  }
}

variable "jobs_service_account" {
  description = "Service account whose OIDC token the jobs function accepts (JOBS_SERVICE_ACCOUNT)."
  type        = string
}

variable "schedules" {
  description = "Cron schedule (UTC) of every jobs endpoint, by endpoint path without the slash."
  type        = map(string)
  default = {
    "drain-outbox"         = "* * * * *"
    "release-reservations" = "*/5 * * * *"
    "provider-health"      = "*/5 * * * *"
    "seal-audit"           = "*/10 * * * *"
    "cost-alerts"          = "*/15 * * * *"
    "aggregate-usage"      = "20 0 * * *"
    "maintain-partitions"  = "0 3 * * *"
    "cleanup"              = "30 3 * * *"
  }
  validation {
    condition     = alltrue([for s in values(var.schedules) : length(split(" ", s)) == 5])
    error_message = "every schedule must be a 5-field cron expression."
  }
  validation {
    condition = length(setsubtract(keys(var.schedules), [
      "drain-outbox", "aggregate-usage", "provider-health", "maintain-partitions",
      "cost-alerts", "release-reservations", "cleanup", "seal-audit",
    ])) == 0
    error_message = "schedules may only name endpoints of the jobs function."
  }
}

variable "attempt_deadline" {
  description = "How long Cloud Scheduler waits for a job's answer (the jobs function's timeout bounds it too)."
  type        = string
  default     = "300s"
  validation {
    condition     = can(regex("^[0-9]+s$", var.attempt_deadline))
    error_message = "attempt_deadline must be seconds with an s suffix, e.g. 300s."
  }
}
