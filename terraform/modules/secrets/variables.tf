variable "project_id" {
  description = "GCP project that hosts this environment."
  type        = string
}

variable "environment" {
  description = "Environment name (dev or prod)."
  type        = string
}

variable "accessors" {
  description = "Service accounts that read the JWT signing secrets, by function name."
  type        = map(string)
}
