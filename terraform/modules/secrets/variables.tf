variable "project_id" {
  description = "GCP project that hosts this environment."
  type        = string
}

variable "environment" {
  description = "Environment name (dev or prod)."
  type        = string
}

variable "secrets" {
  description = "Environment variable names that are secrets (JWT_SECRETS, SMTP_PASSWORD, PROVIDER_KEY_OPENAI…): one Secret Manager secret each."
  type        = set(string)
  validation {
    condition     = alltrue([for name in var.secrets : can(regex("^[A-Z][A-Z0-9_]*$", name))])
    error_message = "secret names are environment variable names (upper case, digits, underscores)."
  }
}

variable "readers" {
  description = "The secrets each function reads, by function name: its service account may access exactly these."
  type        = map(list(string))
  validation {
    condition     = alltrue(flatten([for names in values(var.readers) : [for name in names : contains(var.secrets, name)]]))
    error_message = "readers may only name secrets listed in secrets."
  }
}

variable "service_accounts" {
  description = "Runtime service account email of each function."
  type        = map(string)
}
