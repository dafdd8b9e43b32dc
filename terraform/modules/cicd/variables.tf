variable "project_id" {
  description = "GCP project that hosts this environment."
  type        = string
}

variable "region" {
  description = "Region of the Cloud Build private pool."
  type        = string
}

variable "environment" {
  description = "Environment name (dev or prod)."
  type        = string
}

variable "network_id" {
  description = "VPC the private pool peers with, so migrations reach Cloud SQL's private IP."
  type        = string
}

variable "machine_type" {
  description = "Machine type of the pool's workers."
  type        = string
  default     = "e2-standard-4"
  validation {
    condition     = can(regex("^e2-(standard|highcpu)-[0-9]+$", var.machine_type))
    error_message = "machine_type must be an e2-standard-N or e2-highcpu-N type."
  }
}
