variable "project_id" {
  description = "GCP project that hosts this environment."
  type        = string
}

variable "region" {
  description = "Region of the subnet, the VPC access connector and the Cloud SQL instance."
  type        = string
  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]$", var.region))
    error_message = "region must look like europe-west1."
  }
}

variable "environment" {
  description = "Environment name (dev or prod)."
  type        = string
}

variable "subnet_cidr" {
  description = "Primary range of the regional subnet the functions egress through."
  type        = string
  validation {
    condition     = can(cidrhost(var.subnet_cidr, 0))
    error_message = "subnet_cidr must be a CIDR block."
  }
}

variable "connector_cidr" {
  description = "A /28 reserved for the Serverless VPC Access connector."
  type        = string
  validation {
    condition     = can(cidrhost(var.connector_cidr, 0)) && endswith(var.connector_cidr, "/28")
    error_message = "connector_cidr must be a /28 CIDR block."
  }
}

variable "private_service_prefix_length" {
  description = "Prefix length of the range peered to Google's service producer network (Cloud SQL private IP)."
  type        = number
  default     = 20
  validation {
    condition     = var.private_service_prefix_length >= 16 && var.private_service_prefix_length <= 24
    error_message = "private_service_prefix_length must be between 16 and 24."
  }
}

variable "connector_max_instances" {
  description = "Upper bound of the VPC access connector's instances (throughput to Cloud SQL)."
  type        = number
  default     = 3
  validation {
    condition     = var.connector_max_instances >= 3 && var.connector_max_instances <= 10
    error_message = "connector_max_instances must be between 3 and 10."
  }
}
